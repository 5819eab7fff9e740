package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestSecurityHeaders(t *testing.T) {
	app := newTestApp(t)
	resp, _ := app.browser(t).get("/login")
	want := map[string]string{
		"Content-Security-Policy": "script-src 'self'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
	}
	for h, part := range want {
		if !strings.Contains(resp.Header.Get(h), part) {
			t.Errorf("%s = %q, want it to contain %q", h, resp.Header.Get(h), part)
		}
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Error("CSP allows framing")
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS on plain http")
	}
}

func TestHSTSOnHTTPS(t *testing.T) {
	e := echo.New()
	rec := httptest.NewRecorder()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
	if err := securityHeaders(true)(func(echo.Context) error { return nil })(c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rec.Header().Get("Strict-Transport-Security"), "max-age=") {
		t.Error("no HSTS on https")
	}
}

func TestProbesAndMetrics(t *testing.T) {
	app := newTestApp(t)
	for path, want := range map[string]string{
		"/healthz": `"status":"ok"`,
		"/readyz":  `"database":"ok"`,
	} {
		resp, err := http.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	app.Store.Close()
	if resp, err := http.Get(app.URL + "/readyz"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database closed: %v %v", resp.StatusCode, err)
	}

	resp, err := http.Get(app.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`drawbridge_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`drawbridge_http_requests_total{method="GET",route="/readyz",status="503"} 1`,
		"drawbridge_http_request_duration_seconds_bucket",
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestNotFoundAndErrorPages(t *testing.T) {
	app := newTestApp(t)
	b := app.browser(t)
	resp, body := b.get("/no/such/page")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "Page not found") {
		t.Errorf("HTML 404: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/no/such/page", nil)
	req.Header.Set("Accept", "application/json")
	resp, body = b.do(req)
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(body, `{"error":`) {
		t.Errorf("JSON 404: %d %s", resp.StatusCode, body)
	}
}

func TestUnknownHostNamesTheConsole(t *testing.T) {
	app := newTestApp(t)
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/", nil)
	req.Host = "other.localhost"
	resp, body := app.browser(t).do(req)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, app.URL) {
		t.Errorf("unknown host: %d %q", resp.StatusCode, body)
	}
}

func TestStaticAssets(t *testing.T) {
	app := newTestApp(t)
	for path, ctype := range map[string]string{"/static/app.css": "text/css", "/static/app.js": "javascript", "/static/favicon.svg": "image/svg+xml"} {
		resp, err := http.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), ctype) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	for _, path := range []string{"/static/", "/static/../go.mod", "/static/embed.go", "/static/missing.css"} {
		resp, err := http.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestPanicBecomesA500Page(t *testing.T) {
	app := newTestApp(t)
	app.Server.console.GET("/boom", func(echo.Context) error { panic("kaboom: SELECT * FROM secrets") })
	resp, body := app.browser(t).get("/boom")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", resp.StatusCode)
	}
	if strings.Contains(body, "kaboom") || strings.Contains(body, "SELECT") || !strings.Contains(body, "Something went wrong") {
		t.Errorf("the 500 page leaks the panic or says nothing useful")
	}
	if !strings.Contains(body, resp.Header.Get(echo.HeaderXRequestID)) {
		t.Error("the 500 page does not show the request ID")
	}
}

func TestHeadIsAnsweredLikeGet(t *testing.T) {
	app := newTestApp(t)
	resp, err := http.Head(app.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("HEAD /login: %d %q, want 200 text/html", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
