package web

// The bypass catalogue: every attack the gateway must refuse, each a case
// that fails if the attack gets through, run against the whole server
// (real SQLite, the real gateway and authorization server, MCP upstreams
// on the official Go SDK that record what reaches them). About 340 cases;
// `go test -run TestBypass -v ./web/` lists them by name.
//
//	MCP body tricks        bypass_mcp_test.go         TestBypassMCPBody: batches, notifications,
//	                                                  duplicate and case-folded keys, look-alike
//	                                                  names, unreadable JSON, argument tricks
//	MCP header tricks      bypass_mcp_headers_test.go TestBypassMCPHeaders: content types, protocol
//	                                                  versions, mirrored Mcp-* headers, Origin,
//	                                                  methods carrying bodies, Host swaps
//	token tricks           bypass_token_test.go       TestBypassTokens, ...NeverReachTheUpstream:
//	                                                  forged, expired, misaddressed, revoked and
//	                                                  misused credentials
//	OAuth flow tricks      bypass_oauth*_test.go      TestBypassOAuth…: redirect URIs, PKCE, code
//	                                                  and refresh replay, client authentication,
//	                                                  consent, registration, state
//	redirect tricks        bypass_redirect_test.go    TestBypassRedirects: every redirect taken
//	                                                  from user input
//	console CSRF and XSS   bypass_console*_test.go    TestBypassConsole, TestBypassConsoleXSS
//	SSRF                   bypass_ssrf*_test.go       TestBypassSSRF (client metadata documents),
//	                                                  TestBypassSSRFTestConnection
//
// Beside it: the JSON-RPC reader's own refusals (proxy/mcp/bypass_test.go,
// parse_refuse_test.go), stored XSS in Chromium for every displayed field
// (cmd/drawbridge/xss_test.go), and the fuzz targets `make fuzz` runs.
