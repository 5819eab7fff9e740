package handlers

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
)

// loginFrom posts a wrong password for email from the address remote
// (host:port) and returns the status.
func loginFrom(t *testing.T, h *Auth, email, remote string) int {
	form := url.Values{"email": {email}, "password": {"wrong password!!"}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	if err := h.Login(e.NewContext(req, rec)); err != nil {
		t.Errorf("Login: %v", err)
	}
	return rec.Code
}

// Wrong passwords sent all at once cannot all pass the count before any
// is recorded: each attempt is counted before its password is checked.
func TestThrottleHoldsUnderParallelGuesses(t *testing.T) {
	store := newTestStore(t)
	h := NewAuth(Base{Sessions: &fakeSessions{}}, store, store, true, nil,
		func(string) bool { return false }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[int]int{}
	)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := loginFrom(t, h, "alice@example.com", fmt.Sprintf("192.0.2.%d:1234", 1+i%9))
			mu.Lock()
			counts[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if counts[http.StatusUnauthorized] > 5 || counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != 30 {
		t.Errorf("answers %v: want at most 5 passwords checked (401), the rest 429", counts)
	}
}

// An IPv6 client has a whole /64 to pick addresses from: the address
// throttle counts the /64.
func TestThrottleCountsAnIPv6Slash64(t *testing.T) {
	store := newTestStore(t)
	h := NewAuth(Base{Sessions: &fakeSessions{}}, store, store, true, nil,
		func(string) bool { return false }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	refused := 0
	for i := range 40 {
		// A new address and a new account each time: only the address
		// throttle, on the /64, can stop this.
		remote := fmt.Sprintf("[2001:db8:1:2::%x]:1234", i+1)
		if loginFrom(t, h, fmt.Sprintf("user%d@example.com", i), remote) == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 10 {
		t.Errorf("%d of 40 attempts from one /64 refused, want 10 (the limit is 30)", refused)
	}
}
