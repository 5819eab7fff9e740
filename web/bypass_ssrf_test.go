package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/drawbridge/drawbridge/handlers"
	"github.com/drawbridge/drawbridge/models"
)

// Bypass catalogue, SSRF through client ID metadata documents: a client
// ID that is an https URL makes Drawbridge fetch it, so anyone who can
// open an authorization request chooses an address Drawbridge connects
// to. Each case fails if Drawbridge reaches an address that is not public
// (every target here is a loopback server counting its requests, or an
// address the dial check refuses before any packet leaves), if it follows
// a redirect, reads without bound, or stores a client from a document
// that is not the one its URL names. The "Test connection" button is in
// bypass_ssrf_routetest_test.go.
func TestBypassSSRF(t *testing.T) {
	app := newTestApp(t) // allow_private_client_metadata off, documents on: the defaults
	app.user(t, "ada@example.com", false)
	route := app.mcpRoute(t, "GitHub", "http://github.localhost:8080")
	b := app.browser(t)
	b.login("ada@example.com")
	docs, hits := startMetadataDocs(t)
	port := docs.URL[strings.LastIndexByte(docs.URL, ':')+1:]
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(plain.Close)

	// Through the real authorization endpoint: the fetch is refused at
	// dial time, after DNS, on the address actually dialled.
	for _, tc := range []struct{ name, clientID, kind string }{
		{"metadata document on loopback", docs.URL + "/good.json", "loopback"},
		{"metadata document on a name resolving to loopback", "https://localhost:" + port + "/good.json", "loopback"},
		{"metadata document on IPv6 loopback", "https://[::1]:" + port + "/good.json", "loopback"},
		{"metadata document on IPv4-mapped loopback", "https://[::ffff:127.0.0.1]:" + port + "/good.json", "loopback"},
		{"metadata document on the unspecified address", "https://0.0.0.0:" + port + "/good.json", "unspecified"},
		{"metadata document on the cloud metadata service", "https://169.254.169.254/latest/meta-data/client.json", "link-local"},
		{"metadata document on a private address", "https://10.0.0.1/client.json", "private"},
		{"metadata document over http", plain.URL + "/good.json", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := authorizeQuery(testClient{ID: tc.clientID, Redirect: "http://127.0.0.1:33418/callback"}, newPKCE(), route.From)
			resp, body := b.get("/oauth/authorize?" + q.Encode())
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("status %d to %q, want a 400 page", resp.StatusCode, resp.Header.Get("Location"))
			}
			msg := doc(t, body).Find(`[data-testid="authorize-problem-message"]`).Text()
			if tc.kind != "" && !strings.Contains(msg, tc.kind+" address: metadata documents must be on public hosts") {
				t.Errorf("the page does not say the %s address was refused: %q", tc.kind, msg)
			}
			if n := hits.Load(); n != 0 {
				t.Fatalf("the loopback servers were reached %d times", n)
			}
			if _, err := app.Store.GetOAuthClient(context.Background(), tc.clientID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("a client was stored for %s: %v", tc.clientID, err)
			}
		})
	}

	// What the document says and how it is served, through the fetcher
	// Drawbridge builds, with the one change a loopback test needs:
	// loopback allowed and the test server's certificate trusted. The
	// dial check is then out of the way, and what refuses is the rest.
	m := &handlers.MetadataClients{Store: app.Store, Client: handlers.NewMetadataFetchClient(true)}
	m.Client.Transport.(*http.Transport).TLSClientConfig.RootCAs = docs.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	t.Run("control: a good document resolves through the test fetcher", func(t *testing.T) {
		if _, err := m.Resolve(context.Background(), docs.URL+"/good.json", nil); err != nil {
			t.Fatalf("a good document: %v", err)
		}
	})
	for _, tc := range []struct{ name, path, want string }{
		{"metadata document redirecting to a private address", "/redirect.json", "redirecting to"},
		{"oversized metadata document", "/huge.json", "larger than 64 KiB"},
		{"endless metadata document", "/endless.json", "larger than 64 KiB"},
		{"slow metadata document", "/slow.json", "did not answer in full within"},
		{"metadata document whose client_id is another URL", "/other.json", "not the URL it was fetched from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := hits.Load()
			id := docs.URL + tc.path
			_, err := m.Resolve(context.Background(), id, nil)
			var merr *handlers.MetadataError
			if !errors.As(err, &merr) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Resolve: %v, want a refusal saying %q", err, tc.want)
			}
			if n := hits.Load() - before; n != 1 {
				t.Errorf("%d requests, want the document's one (a redirect is not followed)", n)
			}
			if _, err := app.Store.GetOAuthClient(context.Background(), id); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("a client was stored for %s: %v", id, err)
			}
		})
	}
}

// startMetadataDocs serves client ID metadata documents over TLS on
// loopback, counting every request: good.json is good; redirect.json
// sends the fetcher to the link-local cloud metadata address; huge.json
// is 1 MiB; endless.json never ends; slow.json never finishes; other.json
// names another URL as its client_id.
func startMetadataDocs(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	hits := new(atomic.Int64)
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		self := "https://" + r.Host + r.URL.Path
		document := func(clientID, pad string) string {
			return fmt.Sprintf(`{"client_id":%q,"client_name":"Doc","redirect_uris":["http://127.0.0.1:33418/callback"],"pad":%q}`, clientID, pad)
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/good.json":
			fmt.Fprint(w, document(self, ""))
		case "/redirect.json":
			http.Redirect(w, r, "https://169.254.169.254/latest/meta-data/iam/security-credentials/", http.StatusTemporaryRedirect)
		case "/huge.json":
			fmt.Fprint(w, document(self, strings.Repeat("a", 1<<20)))
		case "/endless.json":
			chunk := []byte(strings.Repeat(" ", 4096))
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/slow.json":
			w.(http.Flusher).Flush()
			// Stalled until the test ends, whatever the fetcher does: a
			// handler that returned when the fetcher hung up would end
			// the chunked body cleanly, racing the fetcher's timeout.
			<-release
		case "/other.json":
			fmt.Fprint(w, document("https://"+r.Host+"/good.json", ""))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // before srv.Close, which waits for handlers
	return srv, hits
}
