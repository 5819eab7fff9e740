package handlers

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/drawbridge/drawbridge/models"
)

// openMetadataTestStore opens a fresh SQLite store on a temp file, closed
// when t ends.
func openMetadataTestStore(t *testing.T) *models.Store {
	t.Helper()
	cipher, err := models.NewCipher(models.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, models.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	s, err := models.Open(context.Background(), models.Options{Driver: "sqlite", DSN: path, Cipher: cipher})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// metadataResponder answers a request for a document; self is the URL
// the request was made to, which a good document names as its client_id.
type metadataResponder func(w http.ResponseWriter, r *http.Request, self string)

// startMetadataServer starts a loopback TLS server answering with respond
// and counting requests.
func startMetadataServer(t *testing.T, respond metadataResponder) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	hits := new(atomic.Int64)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		respond(w, r, "https://"+r.Host+r.URL.RequestURI())
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

// metadataTestTLS is the TLS configuration trusting srv's certificate.
func metadataTestTLS(srv *httptest.Server) *tls.Config {
	return srv.Client().Transport.(*http.Transport).TLSClientConfig
}

// newTestMetadataClients resolves documents from srv, on loopback.
func newTestMetadataClients(srv *httptest.Server, store MetadataClientStore) *MetadataClients {
	return &MetadataClients{Store: store, Client: newMetadataFetchClient(true, metadataTestTLS(srv), 2*time.Second)}
}

// metadataDoc is a good document for clientID, changed by edit. Its last
// field is a marker no error message may repeat.
func metadataDoc(clientID string, edit func(d map[string]any)) []byte {
	d := map[string]any{
		"client_id":                  clientID,
		"client_name":                "Test App",
		"client_uri":                 "https://app.example.com",
		"redirect_uris":              []string{"http://127.0.0.1/callback", "https://app.example.com/cb"},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
		"zz_marker":                  "BODYMARKER",
	}
	if edit != nil {
		edit(d)
	}
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	return b
}

func writeMetadataJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// serveGoodMetadata answers with a good document.
func serveGoodMetadata(w http.ResponseWriter, _ *http.Request, self string) {
	writeMetadataJSON(w, metadataDoc(self, nil))
}

func TestMetadataResolveGoodDocument(t *testing.T) {
	store := openMetadataTestStore(t)
	srv, hits := startMetadataServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		if got := r.Header.Get("Accept"); got != "application/json" {
			t.Errorf("Accept = %q", got)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(metadataDoc(self, func(d map[string]any) {
			d["client_name"] = "  Test App  "
			d["logo_uri"] = "https://app.example.com/logo.png"
			d["grant_types"] = []string{"authorization_code"}
			d["jwks_uri"] = "https://app.example.com/jwks.json" // unknown to us: ignored
		}))
	})
	m := newTestMetadataClients(srv, store)
	id := srv.URL + "/client.json"

	c, err := m.Resolve(context.Background(), id, nil)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	want := models.OAuthClient{
		ClientID: id, Name: "Test App", ClientURI: "https://app.example.com", LogoURI: "https://app.example.com/logo.png",
		RedirectURIs:            []string{"http://127.0.0.1/callback", "https://app.example.com/cb"},
		GrantTypes:              []string{models.GrantAuthorizationCode},
		TokenEndpointAuthMethod: models.AuthMethodNone, Source: models.ClientSourceMetadataDocument,
	}
	checkMetadataClient(t, c, want)
	if c.ID == 0 {
		t.Error("returned client has no ID: not the stored one")
	}
	stored, err := store.GetOAuthClient(context.Background(), id)
	if err != nil {
		t.Fatalf("stored client: %v", err)
	}
	checkMetadataClient(t, stored, want)
	if n := hits.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

func checkMetadataClient(t *testing.T, got *models.OAuthClient, want models.OAuthClient) {
	t.Helper()
	if got.ClientID != want.ClientID || got.Name != want.Name || got.ClientURI != want.ClientURI ||
		got.LogoURI != want.LogoURI || fmt.Sprint(got.RedirectURIs) != fmt.Sprint(want.RedirectURIs) ||
		fmt.Sprint(got.GrantTypes) != fmt.Sprint(want.GrantTypes) ||
		got.TokenEndpointAuthMethod != want.TokenEndpointAuthMethod || got.Source != want.Source || got.Disabled {
		t.Errorf("client:\n got %+v\nwant %+v", *got, want)
	}
}

// Every row serves what would be a good document but for one thing, so
// that each fails if the check refusing that thing is removed.
func TestMetadataResolveRefusals(t *testing.T) {
	// other serves a good document for whichever URL ?for= names: where a
	// redirect to another host leads.
	other, otherHits := startMetadataServer(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		writeMetadataJSON(w, metadataDoc(r.URL.Query().Get("for"), nil))
	})
	edited := func(edit func(d map[string]any)) metadataResponder {
		return func(w http.ResponseWriter, _ *http.Request, self string) {
			writeMetadataJSON(w, metadataDoc(self, edit))
		}
	}
	tests := []struct {
		name    string
		respond metadataResponder
		want    string
	}{
		{"client_id mismatch", edited(func(d map[string]any) { d["client_id"] = d["client_id"].(string) + "x" }),
			`is not valid: client_id in the document is "https://127.0.0.1:`},
		{"client_id differs in case", edited(func(d map[string]any) {
			d["client_id"] = strings.Replace(d["client_id"].(string), "client.json", "Client.json", 1)
		}), "not the URL it was fetched from"},
		{"client_id with a trailing slash", edited(func(d map[string]any) { d["client_id"] = d["client_id"].(string) + "/" }),
			"not the URL it was fetched from"},
		{"client_id missing", edited(func(d map[string]any) { delete(d, "client_id") }), "client_id is missing"},
		{"client_id not a string", edited(func(d map[string]any) { d["client_id"] = 7 }), "client_id must be a string"},
		{"redirect_uris missing", edited(func(d map[string]any) { delete(d, "redirect_uris") }), "redirect_uris is missing"},
		{"redirect_uris empty", edited(func(d map[string]any) { d["redirect_uris"] = []string{} }), "redirect_uris must list at least one URI"},
		{"redirect_uris a string", edited(func(d map[string]any) { d["redirect_uris"] = "https://app.example.com/cb" }),
			"redirect_uris must be an array of strings"},
		{"redirect URI with a fragment", edited(func(d map[string]any) {
			d["redirect_uris"] = []string{"https://app.example.com/cb", "https://app.example.com/cb#frag"}
		}), `redirect URI "https://app.example.com/cb#frag" must not have a fragment`},
		{"javascript redirect URI", edited(func(d map[string]any) { d["redirect_uris"] = []string{"javascript:alert(1)"} }),
			`redirect URI "javascript:alert(1)" must use https`},
		{"client_secret", edited(func(d map[string]any) { d["client_secret"] = "hunter2" }), "must not contain client_secret"},
		{"client_secret_expires_at", edited(func(d map[string]any) { d["client_secret_expires_at"] = 0 }),
			"must not contain client_secret_expires_at"},
		{"private_key_jwt", edited(func(d map[string]any) { d["token_endpoint_auth_method"] = "private_key_jwt" }),
			`token_endpoint_auth_method "private_key_jwt" is not supported`},
		{"client_secret_basic", edited(func(d map[string]any) { d["token_endpoint_auth_method"] = "client_secret_basic" }),
			"needs a client secret"},
		{"implicit grant", edited(func(d map[string]any) { d["grant_types"] = []string{"authorization_code", "implicit"} }),
			`grant_types may list only authorization_code and refresh_token, not "implicit"`},
		{"refresh_token alone", edited(func(d map[string]any) { d["grant_types"] = []string{"refresh_token"} }),
			"grant_types must include authorization_code"},
		{"token response type", edited(func(d map[string]any) { d["response_types"] = []string{"code", "token"} }),
			`response_types may list only "code", not "token"`},
		{"client_name a number", edited(func(d map[string]any) { d["client_name"] = 5 }), "client_name must be a string"},
		{"logo_uri too long", edited(func(d map[string]any) { d["logo_uri"] = "https://app.example.com/" + strings.Repeat("a", 2048) }),
			"logo_uri must be at most 2048 bytes"},
		{"duplicate key", func(w http.ResponseWriter, _ *http.Request, self string) {
			writeMetadataJSON(w, []byte(fmt.Sprintf(`{"client_id":%q,"redirect_uris":["https://a.example/cb"],"client\u005fid":%q}`,
				self, self)))
		}, `has the field "client_id" twice`},
		{"data after the object", func(w http.ResponseWriter, _ *http.Request, self string) {
			writeMetadataJSON(w, append(metadataDoc(self, nil), "{}"...))
		}, "has more after the JSON object"},
		{"array", func(w http.ResponseWriter, _ *http.Request, self string) {
			writeMetadataJSON(w, append(append([]byte("["), metadataDoc(self, nil)...), ']'))
		}, "must be a JSON object"},
		{"text/html", func(w http.ResponseWriter, _ *http.Request, self string) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(metadataDoc(self, nil))
		}, `was served as "text/html; charset=utf-8"; it must be application/json`},
		{"no content type", func(w http.ResponseWriter, _ *http.Request, self string) {
			w.Header()["Content-Type"] = nil // no sniffing either
			w.Write(metadataDoc(self, nil))
		}, "was served without a Content-Type"},
		{"application/jsonx", func(w http.ResponseWriter, _ *http.Request, self string) {
			w.Header().Set("Content-Type", "application/jsonx")
			w.Write(metadataDoc(self, nil))
		}, "it must be application/json"},
		{"oversize, declared", func(w http.ResponseWriter, _ *http.Request, self string) {
			body := metadataDoc(self, func(d map[string]any) { d["padding"] = strings.Repeat("p", 64<<10) })
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			writeMetadataJSON(w, body)
		}, "is larger than 64 KiB"},
		{"oversize, streamed", func(w http.ResponseWriter, _ *http.Request, self string) {
			body := metadataDoc(self, func(d map[string]any) { d["padding"] = strings.Repeat("p", 64<<10) })
			w.Header().Set("Content-Type", "application/json")
			for chunk := range slicesChunk(body, 4096) {
				w.Write(chunk)
				w.(http.Flusher).Flush() // chunked: no Content-Length to go by
			}
		}, "is larger than 64 KiB"},
		{"404", func(w http.ResponseWriter, _ *http.Request, self string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write(metadataDoc(self, nil))
		}, "could not be fetched: the server answered 404 Not Found, not 200 OK"},
		{"204", func(w http.ResponseWriter, _ *http.Request, _ string) { w.WriteHeader(http.StatusNoContent) },
			"the server answered 204 No Content"},
		{"redirect on the same host", func(w http.ResponseWriter, r *http.Request, self string) {
			if r.URL.Path == "/moved.json" {
				writeMetadataJSON(w, metadataDoc(strings.Replace(self, "/moved.json", "/client.json", 1), nil))
				return
			}
			http.Redirect(w, r, "/moved.json", http.StatusFound)
		}, `the server answered 302 Found, redirecting to "/moved.json"; the document must be served at its own URL`},
		{"redirect to another host", func(w http.ResponseWriter, r *http.Request, self string) {
			http.Redirect(w, r, other.URL+"/client.json?for="+url.QueryEscape(self), http.StatusMovedPermanently)
		}, "the server answered 301 Moved Permanently, redirecting to \"" + other.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := openMetadataTestStore(t)
			srv, hits := startMetadataServer(t, tt.respond)
			id := srv.URL + "/client.json"
			c, err := newTestMetadataClients(srv, store).Resolve(context.Background(), id, nil)
			var merr *MetadataError
			if !errors.As(err, &merr) {
				t.Fatalf("Resolve = %+v, %v; want a *MetadataError", c, err)
			}
			if merr.ClientID != id || !strings.HasPrefix(err.Error(), "the client's metadata document at "+id+" ") {
				t.Errorf("error %q does not name %s", err, id)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "BODYMARKER") {
				t.Errorf("error %q repeats the document", err)
			}
			if hits.Load() == 0 {
				t.Error("nothing fetched")
			}
			if _, err := store.GetOAuthClient(context.Background(), id); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("client stored anyway (get: %v)", err)
			}
		})
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the other host was fetched %d times", n)
	}
}

// slicesChunk yields b in pieces of at most n bytes.
func slicesChunk(b []byte, n int) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			k := min(n, len(b))
			if !yield(b[:k]) {
				return
			}
			b = b[k:]
		}
	}
}

func TestMetadataResolveTimeout(t *testing.T) {
	// Each server answers a good document after 3 s, so that without the
	// timeout Resolve would succeed. When the client gives up first, the
	// server aborts the response: finishing it, even short, could still
	// reach the client, which sends a TLS close_notify before it closes
	// the connection.
	stall := func(r *http.Request) {
		select {
		case <-r.Context().Done():
			panic(http.ErrAbortHandler)
		case <-time.After(3 * time.Second):
		}
	}
	tests := map[string]metadataResponder{
		"headers": func(w http.ResponseWriter, r *http.Request, self string) {
			stall(r)
			writeMetadataJSON(w, metadataDoc(self, nil))
		},
		"body": func(w http.ResponseWriter, r *http.Request, self string) {
			body := metadataDoc(self, nil)
			w.Header().Set("Content-Type", "application/json")
			w.Write(body[:10])
			w.(http.Flusher).Flush()
			stall(r)
			w.Write(body[10:])
		},
	}
	for name, respond := range tests {
		t.Run(name, func(t *testing.T) {
			srv, _ := startMetadataServer(t, respond)
			m := &MetadataClients{Store: openMetadataTestStore(t), Client: newMetadataFetchClient(true, metadataTestTLS(srv), 200*time.Millisecond)}
			_, err := m.Resolve(context.Background(), srv.URL+"/client.json", nil)
			var merr *MetadataError
			if !errors.As(err, &merr) || !strings.Contains(err.Error(), "could not be fetched: the server did not answer in full within 200ms") {
				t.Fatalf("Resolve error = %v; want a timeout", err)
			}
		})
	}
}

func TestMetadataResolveRefusesLoopback(t *testing.T) {
	srv, hits := startMetadataServer(t, serveGoodMetadata)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name   string
		m      *MetadataClients
		target string
	}{
		// The TLS configuration trusts the server: only the dial check
		// stands between this fetch and success.
		{"dial check", &MetadataClients{Client: newMetadataFetchClient(false, metadataTestTLS(srv), 2*time.Second)}, srv.URL},
		{"name resolving to loopback", &MetadataClients{Client: newMetadataFetchClient(false, metadataTestTLS(srv), 2*time.Second)},
			fmt.Sprintf("https://localhost:%d", port)},
		{"default client", &MetadataClients{}, srv.URL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.m.Store = openMetadataTestStore(t)
			_, err := tt.m.Resolve(context.Background(), tt.target+"/client.json", nil)
			var merr *MetadataError
			if !errors.As(err, &merr) || !strings.Contains(err.Error(), "could not be fetched") ||
				!strings.Contains(err.Error(), "a loopback address: metadata documents must be on public hosts") {
				t.Fatalf("Resolve error = %v; want the loopback address refused", err)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback server was reached %d times", n)
	}
}

func TestMetadataDialAddressCheck(t *testing.T) {
	tests := map[string]string{
		"127.0.0.1:443":                 "loopback",
		"127.8.9.10:443":                "loopback",
		"[::1]:443":                     "loopback",
		"[::ffff:127.0.0.1]:443":        "loopback",
		"10.1.2.3:443":                  "private",
		"172.16.0.1:443":                "private",
		"192.168.1.1:443":               "private",
		"[fc00::1]:443":                 "private",
		"[fd12:3456::1]:443":            "private",
		"169.254.169.254:80":            "link-local",
		"[::ffff:169.254.169.254]:80":   "link-local",
		"[fe80::1]:443":                 "link-local",
		"[fe80::1%eth0]:443":            "scoped",
		"0.0.0.0:443":                   "an unspecified",
		"[::]:443":                      "an unspecified",
		"0.1.2.3:443":                   "this-network",
		"224.0.0.1:443":                 "multicast",
		"[ff02::1]:443":                 "multicast",
		"100.64.0.1:443":                "shared (CGNAT)",
		"100.127.255.254:443":           "shared (CGNAT)",
		"192.0.2.1:443":                 "documentation",
		"198.18.0.1:443":                "benchmarking",
		"255.255.255.255:443":           "reserved",
		"[::127.0.0.1]:443":             "IPv4-compatible",
		"[::10.0.0.1]:443":              "IPv4-compatible",
		"[64:ff9b::10.0.0.1]:443":       "private",
		"[64:ff9b::169.254.169.254]:80": "link-local",
		"[2002:0a00:0001::1]:443":       "private",
		"[2001:db8::1]:443":             "documentation",
		"[fec0::1]:443":                 "site-local",
		"8.8.8.8:443":                   "",
		"100.128.0.1:443":               "",
		"[2606:4700:4700::1111]:443":    "",
		"[::ffff:8.8.8.8]:443":          "",
		"[64:ff9b::8.8.8.8]:443":        "",
		"[2002:0808:0808::1]:443":       "",
	}
	for addr, kind := range tests {
		err := checkMetadataDialAddress(addr)
		switch {
		case kind == "" && err != nil:
			t.Errorf("%s refused: %v", addr, err)
		case kind != "" && (err == nil || !strings.Contains(err.Error(), " "+kind+" address:")):
			t.Errorf("%s: error %v, want it refused as %s", addr, err, kind)
		}
	}
	if err := checkMetadataDialAddress("app.example.com:443"); err == nil {
		t.Error("a name was accepted as a dial address")
	}
	if kind := blockedMetadataAddressKind(netip.Addr{}); kind == "" {
		t.Error("the zero address counts as public")
	}
}

func TestMetadataHostAllowList(t *testing.T) {
	tests := []struct {
		host  string
		hosts []string
		want  bool
	}{
		{"anything.example", nil, true},
		{"app.example.com", []string{"app.example.com"}, true},
		{"APP.Example.com", []string{"app.example.com"}, true},
		{"app.example.com", []string{" App.Example.COM "}, true},
		{"other.example.com", []string{"app.example.com"}, false},
		{"app.example.com.evil.org", []string{"app.example.com"}, false},
		{"a.example.com", []string{"*.example.com"}, true},
		{"a.b.example.com", []string{"*.example.com"}, true},
		{"example.com", []string{"*.example.com"}, false},
		{"evilexample.com", []string{"*.example.com"}, false},
		{"example.com.evil.org", []string{"*.example.com"}, false},
		{".example.com", []string{"*.example.com"}, false},
		{"a..example.com", []string{"*.example.com"}, false},
		{"example.com", []string{"*"}, false},
		{"example.com", []string{"*."}, false},
		{"example.com", []string{""}, false},
		{"x.other.org", []string{"app.example.com", "*.other.org"}, true},
		{"127.0.0.1", []string{"*.0.0.1"}, false},
		{"10.0.0.1", []string{"10.0.0.1"}, true},
		{"2001:db8::1", []string{"*.db8::1"}, false},
	}
	for _, tt := range tests {
		if got := metadataHostAllowed(tt.host, tt.hosts); got != tt.want {
			t.Errorf("metadataHostAllowed(%q, %q) = %v, want %v", tt.host, tt.hosts, got, tt.want)
		}
	}

	// Through Resolve: the list is checked before anything is fetched.
	srv, hits := startMetadataServer(t, serveGoodMetadata)
	m := newTestMetadataClients(srv, openMetadataTestStore(t))
	id := srv.URL + "/client.json"
	for _, hosts := range [][]string{{"example.com"}, {"*.127.0.0.1"}, {"*.0.0.1"}, {"127.0.0.10"}} {
		_, err := m.Resolve(context.Background(), id, hosts)
		var merr *MetadataError
		if !errors.As(err, &merr) || !strings.Contains(err.Error(), "cannot be used: 127.0.0.1 is not one of the hosts this server accepts") {
			t.Errorf("hosts %q: Resolve error = %v, want the host refused", hosts, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d fetches from a host not on the list", n)
	}
	if _, err := m.Resolve(context.Background(), id, []string{"app.example.com", "127.0.0.1"}); err != nil {
		t.Errorf("host on the list: %v", err)
	}
	// A cached document does not outlive its host's removal from the list.
	if _, err := m.Resolve(context.Background(), id, []string{"app.example.com"}); err == nil {
		t.Error("a cached document was used after its host left the list")
	}
}

func TestMetadataURLCheck(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"https://app.example.com/oauth/client.json", ""},
		{"https://app.example.com:8443/client.json?v=1", ""},
		{"https://app.example.com:443/client.json", ""},
		{"https://127.0.0.1:8443/client.json", ""},
		{"https://[2001:db8::1]/client.json", ""},
		{"https://app.exa_mple.com/a%20b.json", ""},
		{"https://app.example.com", "must have a path"},
		{"https://app.example.com/", "must have a path"},
		{"https://app.example.com?x=1", "must have a path"},
		{"https://app.example.com/client.json#x", "must not have a fragment"},
		{"https://app.example.com/client.json#", "must not have a fragment"},
		{"https://user:pw@app.example.com/client.json", "must not carry user info"},
		{"https://user@app.example.com/client.json", "must not carry user info"},
		{"http://app.example.com/client.json", "must use https"},
		{"ftp://app.example.com/client.json", "must use https"},
		{"HTTPS://app.example.com/client.json", "must start with https:// in lowercase"},
		{"https:/app.example.com/client.json", "must start with https://"},
		{"https:///client.json", "has no host"},
		{"https://:443/client.json", "has no host"},
		{"https://app.example.com/a/../client.json", "must not contain . or .. path segments"},
		{"https://app.example.com/./client.json", "must not contain . or .. path segments"},
		{"https://app.example.com/a/..", "must not contain . or .. path segments"},
		{"https://app.example.com/a/%2e%2E/client.json", "must not contain . or .. path segments"},
		{"https://app.example.com/a/%2e/client.json", "must not contain . or .. path segments"},
		{"https://app.example.com:0443/client.json", "has an invalid port"},
		{"https://app.example.com:/client.json", "has an invalid port"},
		{"https://app.example.com:99999/client.json", "has an invalid port"},
		{"https://app.example.com/client json", "contains spaces"},
		{"https://app.example.com/client\tjson", "control"},
		{"https://app.example.com\\@evil.org/client.json", "backslashes"},
		{"https://app.example.com/caf\u00e9.json", "non-ASCII"},
		{"https://%C3%A9.example.com/client.json", "neither a DNS name nor an IP address"},
		{"https://app.example.com&x/client.json", "neither a DNS name nor an IP address"},
		{"https://ex%61mple.com/client.json", "is not a valid URL"},
		{"https://[fe80::1%25eth0]/client.json", "written plainly"},
		{"https://app.example.com/%7e", ""},
		{"https://app.example.com/" + strings.Repeat("a", 2048), "is longer than 2048 bytes"},
	}
	for _, tt := range tests {
		_, err := checkMetadataURL(tt.raw)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q refused: %v", tt.raw, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: error %v, want %q", tt.raw, err, tt.want)
		}
	}

	// Through Resolve, without a network: the store is never reached.
	var m MetadataClients
	_, err := m.Resolve(context.Background(), "https://app.example.com/c.json#x", nil)
	var merr *MetadataError
	if !errors.As(err, &merr) || err.Error() != "the client's metadata document at https://app.example.com/c.json#x cannot be used: its URL must not have a fragment" {
		t.Errorf("Resolve error = %v", err)
	}
}

func TestIsMetadataClientID(t *testing.T) {
	tests := map[string]bool{
		"https://app.example.com/client.json": true,
		"https://app.example.com":             true, // Resolve explains what is wrong
		"HTTPS://app.example.com/client.json": true,
		"https://":                            false,
		"http://app.example.com/client.json":  false,
		"dcr_0123456789abcdef":                false,
		"":                                    false,
		"https:app.example.com":               false,
		" https://app.example.com/c.json":     false,
	}
	for id, want := range tests {
		if got := IsMetadataClientID(id); got != want {
			t.Errorf("IsMetadataClientID(%q) = %v, want %v", id, got, want)
		}
	}
}

// metadataClock is a settable clock for the cache.
type metadataClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *metadataClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *metadataClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func TestMetadataResolveCache(t *testing.T) {
	tests := []struct {
		name         string
		cacheControl string
		status       int
		fresh, stale time.Duration // still cached after fresh, fetched again after stale
	}{
		{"default TTL", "", http.StatusOK, 4*time.Minute + 59*time.Second, 5 * time.Minute},
		{"max-age", "public, max-age=3600", http.StatusOK, 59 * time.Minute, time.Hour},
		{"max-age below a minute", "max-age=5", http.StatusOK, 59 * time.Second, time.Minute},
		{"no-store", "no-store", http.StatusOK, 59 * time.Second, time.Minute},
		{"max-age beyond a day", "max-age=31536000", http.StatusOK, 23 * time.Hour, 24 * time.Hour},
		{"failure", "max-age=3600", http.StatusNotFound, 29 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, hits := startMetadataServer(t, func(w http.ResponseWriter, _ *http.Request, self string) {
				if tt.cacheControl != "" {
					w.Header().Set("Cache-Control", tt.cacheControl)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				w.Write(metadataDoc(self, nil))
			})
			clock := &metadataClock{now: time.Unix(1_700_000_000, 0)}
			m := newTestMetadataClients(srv, openMetadataTestStore(t))
			m.Now = clock.Now
			id := srv.URL + "/client.json"
			resolve := func(wantHits int64) {
				t.Helper()
				_, err := m.Resolve(context.Background(), id, nil)
				if (err == nil) != (tt.status == http.StatusOK) {
					t.Fatalf("Resolve: %v", err)
				}
				if n := hits.Load(); n != wantHits {
					t.Fatalf("%d fetches, want %d", n, wantHits)
				}
			}
			start := clock.Now()
			resolve(1)
			resolve(1)
			clock.Add(tt.fresh)
			resolve(1)
			clock.Add(start.Add(tt.stale).Sub(clock.Now()))
			resolve(2)
			resolve(2)
		})
	}
}

func TestMetadataResolveRefetchUpdatesStore(t *testing.T) {
	var name atomic.Value
	name.Store("First Name")
	srv, _ := startMetadataServer(t, func(w http.ResponseWriter, _ *http.Request, self string) {
		writeMetadataJSON(w, metadataDoc(self, func(d map[string]any) { d["client_name"] = name.Load() }))
	})
	clock := &metadataClock{now: time.Unix(1_700_000_000, 0)}
	store := openMetadataTestStore(t)
	m := newTestMetadataClients(srv, store)
	m.Now, m.TTL = clock.Now, time.Minute
	id := srv.URL + "/client.json"
	first, err := m.Resolve(context.Background(), id, nil)
	if err != nil {
		t.Fatal(err)
	}
	name.Store("Second Name")
	clock.Add(time.Minute)
	second, err := m.Resolve(context.Background(), id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.Name != "Second Name" || second.ID != first.ID {
		t.Errorf("after a refetch: %+v, want the same client (ID %d) renamed", second, first.ID)
	}
}

func TestMetadataResolveSingleflight(t *testing.T) {
	release := make(chan struct{})
	srv, hits := startMetadataServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		writeMetadataJSON(w, metadataDoc(self, nil))
	})
	m := newTestMetadataClients(srv, openMetadataTestStore(t))
	const callers = 50
	joined := make(chan struct{}, callers)
	m.onJoin = func() { joined <- struct{}{} }
	id := srv.URL + "/client.json"

	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := m.Resolve(context.Background(), id, nil)
			errs <- err
		})
	}
	// Release the one fetch only once every other caller waits for it.
	timeout := time.After(10 * time.Second)
	for range callers - 1 {
		select {
		case <-joined:
		case <-timeout:
			close(release)
			t.Fatalf("callers did not join the fetch in flight (%d fetches)", hits.Load())
		}
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Resolve: %v", err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d fetches for %d concurrent calls, want 1", n, callers)
	}
}

func TestMetadataResolveCallerGivesUp(t *testing.T) {
	release := make(chan struct{})
	srv, hits := startMetadataServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		<-release
		writeMetadataJSON(w, metadataDoc(self, nil))
	})
	m := newTestMetadataClients(srv, openMetadataTestStore(t))
	id := srv.URL + "/client.json"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Resolve(ctx, id, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Resolve with a cancelled context = %v", err)
	}
	close(release)
	// The fetch went on without the caller; the next call uses it.
	if _, err := m.Resolve(context.Background(), id, nil); err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

func TestMetadataResolveDisabledAndDeleted(t *testing.T) {
	ctx := context.Background()
	srv, hits := startMetadataServer(t, serveGoodMetadata)
	store := openMetadataTestStore(t)
	m := newTestMetadataClients(srv, store)
	id := srv.URL + "/client.json"
	c, err := m.Resolve(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}

	if err := store.DisableOAuthClient(ctx, c.ID, true); err != nil {
		t.Fatal(err)
	}
	_, err = m.Resolve(ctx, id, nil)
	var merr *MetadataError
	if !errors.As(err, &merr) || !strings.Contains(err.Error(), "describes a client that an administrator turned off") {
		t.Fatalf("disabled client: Resolve error = %v", err)
	}
	if err := store.DisableOAuthClient(ctx, c.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Resolve(ctx, id, nil); err != nil {
		t.Fatalf("re-enabled client: %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d fetches, want 1: the document was cached", n)
	}

	if err := store.DeleteOAuthClient(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	again, err := m.Resolve(ctx, id, nil)
	if err != nil {
		t.Fatalf("deleted client: %v", err)
	}
	if again.ID == c.ID || hits.Load() != 2 {
		t.Errorf("deleted client came back as ID %d after %d fetches; want a new one, fetched again", again.ID, hits.Load())
	}
}

func TestMetadataResolveConflict(t *testing.T) {
	ctx := context.Background()
	srv, _ := startMetadataServer(t, serveGoodMetadata)
	store := openMetadataTestStore(t)
	id := srv.URL + "/client.json"
	console := &models.OAuthClient{
		ClientID: id, Name: "Console", RedirectURIs: []string{"https://console.example.com/cb"},
		GrantTypes: []string{models.GrantAuthorizationCode}, TokenEndpointAuthMethod: models.AuthMethodNone,
		Source: models.ClientSourceConsole,
	}
	if err := store.CreateOAuthClient(ctx, console); err != nil {
		t.Fatal(err)
	}
	_, err := newTestMetadataClients(srv, store).Resolve(ctx, id, nil)
	var merr *MetadataError
	if !errors.As(err, &merr) || !strings.Contains(err.Error(), "already the client ID of a client registered another way") {
		t.Fatalf("Resolve error = %v", err)
	}
	if got, err := store.GetOAuthClient(ctx, id); err != nil || got.Name != "Console" || got.Source != models.ClientSourceConsole {
		t.Errorf("the console client changed: %+v, %v", got, err)
	}
}

func TestMetadataCacheBounded(t *testing.T) {
	srv, _ := startMetadataServer(t, serveGoodMetadata)
	m := newTestMetadataClients(srv, openMetadataTestStore(t))
	m.MaxEntries = 3
	for i := range 10 {
		if _, err := m.Resolve(context.Background(), fmt.Sprintf("%s/c%d.json", srv.URL, i), nil); err != nil {
			t.Fatal(err)
		}
		m.mu.Lock()
		n := len(m.entries)
		m.mu.Unlock()
		if n > 3 {
			t.Fatalf("%d cache entries, want at most 3", n)
		}
	}
}

func TestMetadataCacheFullOfFetches(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv, _ := startMetadataServer(t, func(w http.ResponseWriter, r *http.Request, self string) {
		if r.URL.Path == "/slow.json" {
			arrived <- struct{}{}
			<-release
		}
		writeMetadataJSON(w, metadataDoc(self, nil))
	})
	m := newTestMetadataClients(srv, openMetadataTestStore(t))
	m.MaxEntries = 1
	done := make(chan error)
	go func() {
		_, err := m.Resolve(context.Background(), srv.URL+"/slow.json", nil)
		done <- err
	}()
	<-arrived
	_, err := m.Resolve(context.Background(), srv.URL+"/other.json", nil)
	var merr *MetadataError
	if !errors.As(err, &merr) || !strings.Contains(err.Error(), "too many documents are being fetched at once") {
		t.Errorf("Resolve with the cache full of fetches = %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := m.Resolve(context.Background(), srv.URL+"/other.json", nil); err != nil {
		t.Errorf("once the fetch finished: %v", err)
	}
}

func TestParseClientMetadata(t *testing.T) {
	const id = "https://app.example.com/client.json"
	minimal := `{"client_id":"` + id + `","redirect_uris":["https://app.example.com/cb"]}`
	good, err := parseClientMetadata([]byte(minimal), id)
	if err != nil {
		t.Fatalf("minimal document: %v", err)
	}
	if fmt.Sprint(good.GrantTypes) != "[authorization_code refresh_token]" || good.TokenEndpointAuthMethod != "none" || good.Name != "" {
		t.Errorf("minimal document read as %+v", good)
	}
	with := func(extra string) string { return strings.TrimSuffix(minimal, "}") + "," + extra + "}" }

	tests := []struct{ name, doc, want string }{
		{"empty", ``, "it is not valid JSON"},
		{"null", `null`, "it must be a JSON object"},
		{"string", `"https://app.example.com/client.json"`, "it must be a JSON object"},
		{"truncated", minimal[:30], "it is not valid JSON"},
		{"html", `<!DOCTYPE html><html><body>BODYMARKER</body></html>`, `it starts "<!DOCTYPE html><html><body>BODYMARKER</b"`},
		{"two objects", minimal + minimal, "has more after the JSON object"},
		{"trailing garbage", minimal + "x", "has more after the JSON object"},
		{"duplicate", with(`"redirect_uris":["https://evil.example/cb"]`), `has the field "redirect_uris" twice`},
		{"duplicate, escaped", with(`"redirect\u005furis":["https://evil.example/cb"]`), `has the field "redirect_uris" twice`},
		{"duplicate unknown", with(`"x":1,"x":2`), `has the field "x" twice`},
		{"client_name null", with(`"client_name":null`), "client_name must be a string"},
		{"client_uri array", with(`"client_uri":[]`), "client_uri must be a string"},
		{"grant_types string", with(`"grant_types":"authorization_code"`), "grant_types must be an array of strings"},
		{"grant_types empty", with(`"grant_types":[]`), "grant_types must include authorization_code"},
		{"redirect_uris null element", `{"client_id":"` + id + `","redirect_uris":["https://app.example.com/cb",null]}`,
			"redirect_uris[1] must be a string"},
		{"response_types empty", with(`"response_types":[]`), "response_types must list code"},
		{"auth method number", with(`"token_endpoint_auth_method":1`), "token_endpoint_auth_method must be a string"},
		{"auth method unknown", with(`"token_endpoint_auth_method":"tls_client_auth"`), `must be "none", not "tls_client_auth"`},
		{"case-folded key is not client_id", `{"CLIENT_ID":"` + id + `","redirect_uris":["https://app.example.com/cb"]}`,
			"client_id is missing"},
		{"too many redirect URIs", `{"client_id":"` + id + `","redirect_uris":["https://a.example/` +
			strings.Repeat(`x","https://a.example/`, 20) + `y"]}`, "redirect_uris must list at most 20 URIs"},
		{"many problems", `{"client_id":1,"redirect_uris":1,"client_name":1,"client_uri":1,"logo_uri":1,"grant_types":1,"response_types":1}`,
			"and 2 more problems"},
		{"long client_id quoted short", `{"client_id":"https://app.example.com/` + strings.Repeat("z", 500) + `","redirect_uris":["https://a.example/cb"]}`,
			`zzzz"…, not the URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseClientMetadata([]byte(tt.doc), id)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not say %q", err, tt.want)
			}
		})
	}

	t.Run("name", func(t *testing.T) {
		long := strings.Repeat("é", 250)
		for in, want := range map[string]string{
			"  Spaced  ":                   "Spaced",
			"Line\nBreak\u0000":            "Line Break",
			"evil\u202egnp.exe":            "evilgnp.exe",
			long:                           strings.Repeat("é", 200),
			strings.Repeat(" ", 199) + "x": "x",
		} {
			doc, _ := json.Marshal(map[string]any{"client_id": id, "redirect_uris": []string{"https://a.example/cb"}, "client_name": in})
			c, err := parseClientMetadata(doc, id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != want {
				t.Errorf("client_name %q read as %q, want %q", in, c.Name, want)
			}
		}
	})
	t.Run("grant types", func(t *testing.T) {
		c, err := parseClientMetadata([]byte(with(`"grant_types":["refresh_token","authorization_code","refresh_token"]`)), id)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(c.GrantTypes) != "[refresh_token authorization_code]" {
			t.Errorf("grant types %q, want each once", c.GrantTypes)
		}
	})
}

func TestMetadataMaxAge(t *testing.T) {
	tests := map[string]time.Duration{
		"":                          -1,
		"public":                    -1,
		"max-age=60":                time.Minute,
		"public, MAX-AGE=120":       2 * time.Minute,
		`max-age="30"`:              30 * time.Second,
		"max-age=-1":                -1,
		"max-age=abc":               -1,
		"max-age=600, no-cache":     0,
		"s-maxage=600":              -1,
		"max-age=99999999999999999": (1 << 20) * time.Second,
	}
	for v, want := range tests {
		h := http.Header{}
		if v != "" {
			h.Set("Cache-Control", v)
		}
		if got := metadataMaxAge(h); got != want {
			t.Errorf("Cache-Control %q: max-age %v, want %v", v, got, want)
		}
	}
}

func FuzzParseClientMetadata(f *testing.F) {
	const id = "https://app.example.com/client.json"
	f.Add([]byte(`{"client_id":"` + id + `","redirect_uris":["https://app.example.com/cb"]}`))
	f.Add(metadataDoc(id, nil))
	f.Add([]byte(`{"client_id":"` + id + `","redirect_uris":["http://127.0.0.1:0/cb","com.example.app:/cb"],"client_name":"\u202eX","grant_types":["authorization_code"],"response_types":["code"],"token_endpoint_auth_method":"none"}`))
	f.Add([]byte(`{"client_id":"` + id + `","client_id":"` + id + `","redirect_uris":["https://a.example/cb"]}`))
	f.Add([]byte(`{"client_id":"` + id + `","redirect_uris":["https://a.example/cb#x","javascript:alert(1)"],"client_secret":null}`))
	f.Add([]byte(`{"client_id":"` + id + `","redirect_uris":[],"grant_types":[1],"x":{"y":[{"z":null}]}}`))
	f.Add([]byte(`[{"client_id":"` + id + `"}]`))
	f.Add([]byte("\xef\xbb\xbf{}"))
	f.Add([]byte(`{"client_id":"` + id + `","redirect_uris":["https://a.example/cb"]} {}`))
	f.Add([]byte(`{"client_name":"\xff\xfe","client_id":"` + id + `","redirect_uris":["https://a.example/\u0000"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseClientMetadata(data, id)
		if err != nil {
			if c != nil {
				t.Fatal("a client and an error")
			}
			if strings.ContainsFunc(err.Error(), func(r rune) bool { return r < ' ' || r == 0x7f || r == utf8.RuneError }) {
				t.Fatalf("error message carries raw bytes: %q", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatal("accepted invalid JSON")
		}
		if c.ClientID != id || c.TokenEndpointAuthMethod != models.AuthMethodNone || c.Source != models.ClientSourceMetadataDocument {
			t.Fatalf("accepted %+v", c)
		}
		for _, u := range c.RedirectURIs {
			if err := CheckRedirectURI(u); err != nil {
				t.Fatalf("accepted redirect URI %q: %v", u, err)
			}
		}
		if utf8.RuneCountInString(c.Name) > 200 {
			t.Fatalf("name of %d characters", utf8.RuneCountInString(c.Name))
		}
		// What the parser accepts, the store must too.
		if err := c.Validate(); err != nil {
			t.Fatalf("store would refuse %+v: %v", c, err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("accepted what encoding/json refuses: %v", err)
		}
		if _, ok := doc["client_secret"]; ok {
			t.Fatal("accepted a client_secret")
		}
	})
}

func FuzzCheckMetadataURL(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com/oauth/client.json", "https://app.example.com:8443/c.json?v=1&w=2", "https://[2001:db8::1]/c",
		"https://app.example.com/", "https://u@app.example.com/c", "https://app.example.com/a/../c", "https://app.example.com/%2e/c",
		"HTTPS://app.example.com/c", "https://app.example.com/c#f", "https://ex%61mple.com/c", "https://[fe80::1%25en0]/c",
		"https://app.example.com:/c", "https://app.example.com/c?", "https://app.example.com/%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := checkMetadataURL(raw)
		if err != nil {
			return
		}
		if !IsMetadataClientID(raw) || len(raw) > maxMetadataURLLen || u.Scheme != "https" || u.User != nil ||
			u.Fragment != "" || u.Hostname() == "" || u.Path == "" || u.Path == "/" {
			t.Fatalf("accepted %q: %#v", raw, u)
		}
		for seg := range strings.SplitSeq(u.Path, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("accepted %q with a dot segment", raw)
			}
		}
		// What is fetched is what was checked.
		if s := u.String(); s != raw {
			t.Fatalf("accepted %q, which Go writes %q", raw, s)
		}
	})
}

func TestMetadataErrorSanitizesClientID(t *testing.T) {
	var m MetadataClients
	id := "https://app.example.com/\u202e\x00" + strings.Repeat("a", 3000)
	_, err := m.Resolve(context.Background(), id, nil)
	msg := err.Error()
	if len(msg) > 500 || strings.ContainsFunc(msg, func(r rune) bool { return r < ' ' || r == '\u202e' }) {
		t.Errorf("error message of %d bytes carries the raw client ID: %q", len(msg), msg)
	}
	if !strings.HasPrefix(msg, "the client's metadata document at https://app.example.com/??aaa") || !strings.Contains(msg, "a… cannot be used: its URL is longer than 2048 bytes") {
		t.Errorf("error %q", msg)
	}
}
