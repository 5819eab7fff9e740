package views

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// The portal's "Set up your client" snippets: what to paste into each MCP
// client so that it reaches one route. Every value is quoted for the
// language it lands in (shell, JSON, TOML), so a route named
// `Bob's "tools"` or a URL with a query string still pastes as valid text.

// setupSnippet is the setup of one MCP client for one route.
type setupSnippet struct {
	Key    string // stable id part: claude-code, mcp-json, ...
	Client string // the tab: "Claude Code"
	Lead   string // what to do with it: "Add to"
	File   string // the file it goes in, if any
	Code   string
	Note   string // shown under the snippet, not copied with it
}

// setupSnippets lists the setups the portal offers for an MCP server
// route, in the order it shows them.
func setupSnippets(name, url string) []setupSnippet {
	slug := serverSlug(name)
	return []setupSnippet{
		{Key: "claude-code", Client: "Claude Code", Lead: "Run in a terminal:", Code: claudeCodeSnippet(slug, url),
			Note: "Then type /mcp in Claude Code and choose the server to sign in."},
		{Key: "mcp-json", Client: ".mcp.json", Lead: "Save at the root of a project as", File: ".mcp.json", Code: mcpJSONSnippet(slug, url),
			Note: "Everyone who works on the project gets the server. Claude Code and several other clients read this file."},
		{Key: "codex", Client: "Codex", Lead: "Add to", File: "~/.codex/config.toml", Code: codexSnippet(slug, url)},
		{Key: "cursor", Client: "Cursor", Lead: "Add to", File: "~/.cursor/mcp.json", Code: cursorSnippet(slug, url)},
		{Key: "vscode", Client: "VS Code", Lead: "Add to", File: ".vscode/mcp.json", Code: vscodeSnippet(slug, url)},
		{Key: "curl", Client: "curl", Lead: "Try the server from a terminal:", Code: curlSnippet(url),
			Note: "The answer is 401 Unauthorized: its WWW-Authenticate header points an MCP client at where to sign in."},
	}
}

// serverSlug is the name an MCP client knows a route by: lowercase
// letters, digits and dashes, from the route's name. Common accented
// Latin letters lose their accent rather than the letter.
func serverSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		s := foldRune(r)
		if s == "" {
			dash = b.Len() > 0
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteString(s)
		if b.Len() >= 48 {
			break
		}
	}
	slug := strings.Trim(b.String(), "-")
	if slug == "" {
		return "drawbridge"
	}
	return slug
}

// latinFold maps accented lowercase Latin letters to their base letters.
var latinFold = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th", 'ł': "l", 'ı': "i"}
	for base, accented := range map[string]string{
		"a": "àáâãäåāăą", "c": "çćĉċč", "e": "èéêëēĕėęě", "g": "ĝğġģ", "h": "ĥħ",
		"i": "ìíîïĩīĭįı", "j": "ĵ", "k": "ķ", "l": "ĺļľŀ", "n": "ñńņňŉ", "o": "òóôõöōŏő",
		"r": "ŕŗř", "s": "śŝşš", "t": "ţťŧ", "u": "ùúûüũūŭůűų", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
	} {
		for _, r := range accented {
			m[r] = base
		}
	}
	return m
}()

// foldRune is r as slug text, or "" when r separates words.
func foldRune(r rune) string {
	switch {
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return string(r)
	case r > unicode.MaxASCII:
		return latinFold[r]
	}
	return ""
}

// claudeCodeSnippet adds the server to Claude Code.
func claudeCodeSnippet(slug, url string) string {
	return "claude mcp add --transport http " + shellQuote(slug) + " " + shellQuote(url)
}

// mcpJSONSnippet is the .mcp.json project file Claude Code and others read.
func mcpJSONSnippet(slug, url string) string {
	type server struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	}
	return jsonSnippet(map[string]any{"mcpServers": map[string]server{slug: {Type: "http", URL: url}}})
}

// cursorSnippet is Cursor's ~/.cursor/mcp.json.
func cursorSnippet(slug, url string) string {
	type server struct {
		URL string `json:"url"`
	}
	return jsonSnippet(map[string]any{"mcpServers": map[string]server{slug: {URL: url}}})
}

// vscodeSnippet is VS Code's .vscode/mcp.json.
func vscodeSnippet(slug, url string) string {
	type server struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	}
	return jsonSnippet(map[string]any{"servers": map[string]server{slug: {Type: "http", URL: url}}})
}

// codexSnippet is the table to add to Codex's ~/.codex/config.toml. Codex
// signs in to a streamable HTTP server only when told to.
func codexSnippet(slug, url string) string {
	return "[mcp_servers." + tomlKey(slug) + "]\n" +
		"url = " + tomlString(url) + "\n" +
		"# then: codex mcp login " + shellQuote(slug)
}

// curlSnippet calls tools/list without a token, to see the 401 that
// starts an MCP client's sign-in.
func curlSnippet(url string) string {
	return "curl -i -X POST " + shellQuote(url) + " \\\n" +
		"  -H 'Content-Type: application/json' \\\n" +
		"  -H 'Accept: application/json, text/event-stream' \\\n" +
		`  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'`
}

// jsonSnippet pretty-prints v. HTML is not escaped here: the page escapes
// it when it renders, and "&" in a URL should read as "&".
func jsonSnippet(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		// Maps of strings always encode.
		panic(fmt.Sprintf("views: encode snippet: %v", err))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// shellQuote makes s one word for a POSIX shell: as it is when it holds
// nothing the shell reads specially, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// tomlKey is s as a TOML key: bare when it can be, else a quoted string.
func tomlKey(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == "" {
		return s
	}
	return tomlString(s)
}

// tomlString is s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Service accounts: what to paste so that a CI pipeline or an agent
// reaches a route with a service-account token. The token itself is in
// none of them: each reads it from $DRAWBRIDGE_SERVICE_ACCOUNT_JWT, which
// is set once (a CI secret, say), so that the setups can be committed.

// Environment variables of the service-account setups.
const (
	// serviceAccountJWTEnv holds the bare token.
	serviceAccountJWTEnv = "DRAWBRIDGE_SERVICE_ACCOUNT_JWT"
	// serviceAccountTokenEnv holds "Drawbridge-" and the token, for
	// Codex, which sends a variable's value after "Bearer " as it is.
	serviceAccountTokenEnv = "DRAWBRIDGE_SERVICE_ACCOUNT_TOKEN"
	// serviceAccountBearer is the Authorization value, with the token
	// left to the shell or the MCP client to fill in.
	serviceAccountBearer = "Bearer Drawbridge-${" + serviceAccountJWTEnv + "}"
)

// tokenSetup is the setup of one MCP client for one route with a
// service-account token. Then, when set, is a second block to copy after
// Code, under ThenLead.
type tokenSetup struct {
	setupSnippet
	ThenLead string
	Then     string
}

// serviceAccountSetups lists the setups the token page offers for one
// route, in the order it shows them. Their keys are the portal's, so its
// tab styles apply.
func serviceAccountSetups(name, url string) []tokenSetup {
	slug := serverSlug(name)
	return []tokenSetup{
		{setupSnippet: setupSnippet{Key: "claude-code", Client: "Claude Code", Lead: "Run where Claude Code runs, with the variable set:", Code: claudeCodeTokenSnippet(slug, url),
			Note: "The shell fills in the token, and Claude Code keeps the header in its own settings."}},
		{setupSnippet: setupSnippet{Key: "mcp-json", Client: ".mcp.json", Lead: "Save at the root of a project as", File: ".mcp.json", Code: mcpJSONTokenSnippet(slug, url),
			Note: "Claude Code reads the token from the environment when it starts, so the file holds no secret and can be committed."}},
		{setupSnippet: setupSnippet{Key: "codex", Client: "Codex", Lead: "Add to", File: "~/.codex/config.toml", Code: codexTokenSnippet(slug, url),
			Note: "Codex sends the variable's value right after “Bearer ”, so the Drawbridge- prefix goes inside it."},
			ThenLead: "Then, where Codex runs:", Then: codexTokenExport()},
		{setupSnippet: setupSnippet{Key: "curl", Client: "curl", Lead: "Try it from a terminal:", Code: curlTokenSnippet(url),
			Note: "The answer lists the tools the account may call through this route."}},
	}
}

// serviceAccountHeader is the whole Authorization header for token.
func serviceAccountHeader(token string) string {
	return "Authorization: Bearer Drawbridge-" + token
}

// serviceAccountExport sets $DRAWBRIDGE_SERVICE_ACCOUNT_JWT to token in
// a POSIX shell. The token is always single-quoted, whatever it holds.
func serviceAccountExport(token string) string {
	return "export " + serviceAccountJWTEnv + "='" + strings.ReplaceAll(token, "'", `'\''`) + "'"
}

// claudeCodeTokenSnippet adds the server to Claude Code with the token in
// a header. The header is in double quotes so that the shell expands the
// variable.
func claudeCodeTokenSnippet(slug, url string) string {
	return claudeCodeSnippet(slug, url) + ` --header "Authorization: ` + serviceAccountBearer + `"`
}

// mcpJSONTokenSnippet is the .mcp.json project file, with the header
// Claude Code expands from the environment.
func mcpJSONTokenSnippet(slug, url string) string {
	type server struct {
		Type    string            `json:"type"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	}
	return jsonSnippet(map[string]any{"mcpServers": map[string]server{
		slug: {Type: "http", URL: url, Headers: map[string]string{"Authorization": serviceAccountBearer}},
	}})
}

// codexTokenSnippet is the table to add to Codex's ~/.codex/config.toml:
// Codex sends $DRAWBRIDGE_SERVICE_ACCOUNT_TOKEN as the bearer token.
func codexTokenSnippet(slug, url string) string {
	return "[mcp_servers." + tomlKey(slug) + "]\n" +
		"url = " + tomlString(url) + "\n" +
		"bearer_token_env_var = " + tomlString(serviceAccountTokenEnv)
}

// codexTokenExport sets the variable codexTokenSnippet names, from the
// one that holds the bare token.
func codexTokenExport() string {
	return "export " + serviceAccountTokenEnv + `="Drawbridge-$` + serviceAccountJWTEnv + `"`
}

// curlTokenSnippet lists the route's tools with the token.
func curlTokenSnippet(url string) string {
	return "curl -X POST " + shellQuote(url) + " \\\n" +
		`  -H "Authorization: Bearer Drawbridge-$` + serviceAccountJWTEnv + `" \` + "\n" +
		"  -H 'Content-Type: application/json' \\\n" +
		"  -H 'Accept: application/json, text/event-stream' \\\n" +
		`  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'`
}
