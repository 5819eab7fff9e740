package main

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// pomeriumRefused are Pomerium route settings that decide who gets in, or
// what the route serves, in ways Drawbridge cannot honour. Dropping one
// would change access, so a route holding one is refused, with the way
// to say it in Drawbridge's terms.
var pomeriumRefused = map[string]string{
	"allow_public_unauthenticated_access": "Drawbridge has no public routes: every request is authenticated. Remove it and attach a policy (allow_any_authenticated_user: true lets every signed-in user in)",
	"allowed_users":                       "write it as a policy: `policy: {allow: {or: [{email: {in: [...]}}]}}`",
	"allowed_domains":                     "write it as a policy: `policy: {allow: {or: [{domain: {in: [...]}}]}}`",
	"allowed_groups":                      "write it as a policy: `policy: {allow: {or: [{groups: {has_any: [...]}}]}}`",
	"allowed_idp_claims":                  "write it as a policy, with claim/<name> criteria",
	"cors_allow_preflight":                "it lets unauthenticated OPTIONS requests through, which Drawbridge never does",
	"prefix":                              "put the path prefix in from (from: https://host/prefix)",
	"path":                                "Drawbridge matches a host and a path prefix: put the prefix in from",
	"regex":                               "Drawbridge matches a host and a path prefix: put the prefix in from",
	"tls_downstream_client_ca":            "client certificates are not supported",
	"tls_downstream_client_ca_file":       "client certificates are not supported",
	"idp_client_id":                       "a per-route identity provider is not supported: people sign in through the console's (identity:)",
	"idp_client_secret":                   "a per-route identity provider is not supported: people sign in through the console's (identity:)",
	"redirect":                            "Drawbridge routes proxy to an upstream; redirect routes are not supported",
	"response":                            "Drawbridge routes proxy to an upstream; direct responses are not supported",
}

// pomeriumIgnored are Pomerium route settings Drawbridge does not have,
// whose absence lets in nobody who would have been kept out. They are
// ignored, with a warning saying what Drawbridge does instead.
var pomeriumIgnored = map[string]string{
	"allow_websockets":                              "WebSocket upgrades are not proxied (streamed HTTP answers, SSE included, are)",
	"allow_spdy":                                    "SPDY is not proxied",
	"preserve_host_header":                          "the upstream receives the host of `to`",
	"host_rewrite":                                  "the upstream receives the host of `to`",
	"host_rewrite_header":                           "the upstream receives the host of `to`",
	"host_path_regex_rewrite_pattern":               "the upstream receives the host of `to`",
	"host_path_regex_rewrite_substitution":          "the upstream receives the host of `to`",
	"prefix_rewrite":                                "paths are not rewritten: put the upstream's path in `to`",
	"regex_rewrite_pattern":                         "paths are not rewritten: put the upstream's path in `to`",
	"regex_rewrite_substitution":                    "paths are not rewritten: put the upstream's path in `to`",
	"idle_timeout":                                  "streams last as long as both sides keep them open",
	"set_request_headers":                           "the upstream receives only Drawbridge's own headers (X-Drawbridge-Assertion, the user's upstream token)",
	"remove_request_headers":                        "the caller's credentials and identity headers are always removed",
	"set_response_headers":                          "answers pass as the upstream sends them",
	"rewrite_response_headers":                      "answers pass as the upstream sends them",
	"pass_identity_headers":                         "the signed X-Drawbridge-Assertion header always carries the user's identity",
	"set_authorization_header":                      "Authorization carries the user's upstream token, or is removed",
	"jwt_groups_filter":                             "the assertion header has its own fixed claims",
	"jwt_issuer_format":                             "the assertion header has its own fixed claims",
	"bearer_token_format":                           "Drawbridge reads its own access tokens and service-account JWTs",
	"tls_skip_verify":                               "upstream certificates are always verified",
	"tls_server_name":                               "TLS to the upstream uses the host of `to`",
	"tls_upstream_server_name":                      "TLS to the upstream uses the host of `to`",
	"tls_downstream_server_name":                    "route hosts are served as the console is",
	"tls_custom_ca":                                 "upstream certificates are verified against the system's roots",
	"tls_custom_ca_file":                            "upstream certificates are verified against the system's roots",
	"tls_client_cert":                               "no client certificate is presented to the upstream",
	"tls_client_key":                                "no client certificate is presented to the upstream",
	"tls_client_cert_file":                          "no client certificate is presented to the upstream",
	"tls_client_key_file":                           "no client certificate is presented to the upstream",
	"tls_upstream_allow_renegotiation":              "TLS renegotiation is not allowed",
	"load_balancing_policy":                         "each route has one upstream",
	"health_checks":                                 "each route has one upstream; it is not health-checked",
	"kubernetes_service_account_token":              "no Kubernetes token is sent upstream",
	"kubernetes_service_account_token_file":         "no Kubernetes token is sent upstream",
	"enable_google_cloud_serverless_authentication": "no Google Cloud identity token is sent upstream",
	"logo_url":                                      "the portal shows its own icon",
	"show_error_details":                            "error pages are Drawbridge's",
	"id":                                            "routes are known by name",
	"depends_on":                                    "routes are served on their own host",
}

// pomeriumRouteKey handles a route key Drawbridge's format lacks:
// Pomerium's settings are refused or ignored as the tables above say;
// anything else is unknown, and an error.
func (d *declFile) pomeriumRouteKey(obj *objectPos, k *yaml.Node) {
	if why, ok := pomeriumRefused[k.Value]; ok {
		d.problem(obj, at(k), "Pomerium's `%s` is not supported: %s", k.Value, why)
		return
	}
	if what, ok := pomeriumIgnored[k.Value]; ok {
		d.warn(obj, at(k), "Pomerium's `%s` is ignored: %s", k.Value, what)
		return
	}
	known := append(slices.Clone(routeKeys), "policy", "allow_any_authenticated_user", "timeout")
	d.unknownKey(obj, k, "a route", known)
}

// pomeriumGlobals are Pomerium's top-level settings. A Pomerium config
// file applies as it is: its routes are read, these are not (the server's
// own settings live under server, identity, …).
var pomeriumGlobals = []string{
	"address", "grpc_address", "http_redirect_addr", "insecure_server", "grpc_insecure",
	"authenticate_service_url", "authenticate_internal_service_url", "authenticate_callback_path",
	"authorize_service_url", "authorize_service_urls", "authorize_internal_service_url",
	"databroker_service_url", "databroker_service_urls", "databroker_storage_type", "databroker_storage_connection_string",
	"autocert", "autocert_dir", "autocert_must_staple", "autocert_use_staging", "autocert_ca", "autocert_email",
	"certificate", "certificate_key", "certificate_file", "certificate_key_file", "certificates",
	"certificate_authority", "certificate_authority_file",
	"cookie_secret", "cookie_secret_file", "cookie_name", "cookie_domain", "cookie_expire", "cookie_http_only", "cookie_same_site", "cookie_secure",
	"shared_secret", "shared_secret_file", "signing_key", "signing_key_file", "signout_redirect_url",
	"idp_provider", "idp_provider_url", "idp_client_id", "idp_client_secret", "idp_client_secret_file", "idp_scopes",
	"idp_request_params", "idp_service_account", "idp_refresh_directory_interval", "idp_refresh_directory_timeout",
	"jwt_claims_headers", "jwt_groups_filter", "pass_identity_headers", "default_upstream_timeout",
	"log_level", "proxy_log_level", "access_log_fields", "authorize_log_fields",
	"metrics_address", "metrics_basic_auth", "tracing_provider", "tracing_sample_rate", "otel_traces_exporter",
	"runtime_flags", "services", "use_proxy_protocol", "xff_num_trusted_hops", "skip_xff_append", "codec_type",
	"timeout_read", "timeout_write", "timeout_idle", "dns_lookup_family", "set_response_headers",
	"envoy_admin_address", "envoy_admin_access_log_path", "envoy_admin_profile_path", "installation_id",
	"primary_color", "secondary_color", "darkmode_primary_color", "darkmode_secondary_color", "logo_url", "favicon_url", "error_message_first_paragraph",
}

// pomeriumRefusedGlobals would let fewer people in than Drawbridge does
// without them; a file holding one is refused.
var pomeriumRefusedGlobals = map[string]string{
	"client_ca":       "client certificates are not supported",
	"client_ca_file":  "client certificates are not supported",
	"downstream_mtls": "client certificates are not supported",
}

// pomeriumGlobal handles a top-level key that is neither the server's
// nor the objects'.
func (d *declFile) pomeriumGlobal(k *yaml.Node) {
	switch why, refused := pomeriumRefusedGlobals[k.Value]; {
	case refused:
		d.problem(nil, at(k), "Pomerium's `%s` is not supported: %s", k.Value, why)
	case strings.HasPrefix(k.Value, "idp_") && slices.Contains(pomeriumGlobals, k.Value):
		d.warn(nil, at(k), "Pomerium's `%s` is ignored: people sign in through identity.oidc (and local accounts) in Drawbridge's settings", k.Value)
	case slices.Contains(pomeriumGlobals, k.Value):
		d.warn(nil, at(k), "Pomerium's `%s` is ignored: Drawbridge's own settings are under server, database, identity, admins and log", k.Value)
	default:
		known := append(slices.Clone(serverKeys), objectKeys...)
		d.problem(nil, at(k), "unknown key `%s` (known: %s)", k.Value, strings.Join(known, ", "))
	}
}
