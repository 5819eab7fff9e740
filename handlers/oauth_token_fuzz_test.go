package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// FuzzTokenRequest feeds the token endpoint's reader arbitrary bodies:
// it must never panic, and whatever it accepts is a form with each
// parameter once, within the size cap.
func FuzzTokenRequest(f *testing.F) {
	for _, seed := range []string{
		"grant_type=authorization_code&code=dbc_x&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&code_verifier=abc&client_id=c",
		"grant_type=refresh_token&refresh_token=dbr_x",
		"code=a&code=b",
		"a=%zz",
		"=&&=;x",
		strings.Repeat("a", 17<<10),
	} {
		f.Add(seed, "application/x-www-form-urlencoded")
	}
	f.Add(`{"grant_type":"authorization_code"}`, "application/json")
	f.Add("grant_type=x", "application/x-www-form-urlencoded; charset=utf-8")
	e := echo.New()
	f.Fuzz(func(t *testing.T, body, contentType string) {
		req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		form, oe := readTokenForm(e.NewContext(req, httptest.NewRecorder()))
		if oe != nil {
			if oe.Code == "" || oe.Status < 400 {
				t.Fatalf("refusal without an error code or status: %+v", oe)
			}
			return
		}
		if len(body) > maxTokenRequestBytes {
			t.Fatalf("accepted a %d-byte body", len(body))
		}
		for name, vs := range form {
			if len(vs) != 1 {
				t.Fatalf("accepted %s %d times", name, len(vs))
			}
		}
	})
}
