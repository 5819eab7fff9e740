package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
)

// brokenFailures is a real store whose rate events cannot be taken
// while take is set.
type brokenFailures struct {
	*models.Store
	take error
}

var _ ThrottleStore = (*brokenFailures)(nil)

func (s *brokenFailures) TakeRateEvent(ctx context.Context, l models.RateLimit, key string, at time.Time) (models.RateTake, error) {
	if s.take != nil {
		return models.RateTake{}, s.take
	}
	return s.Store.TakeRateEvent(ctx, l, key, at)
}

// What Login does when the throttles' store fails: an attempt it cannot
// count stops the sign-in with an error (fail closed, before the password
// is even looked at): an uncounted attempt would be a free guess.
func TestLoginWhenThrottleStoreFails(t *testing.T) {
	errDown := errors.New("database is down")
	tests := []struct {
		name    string
		take    error
		wantErr bool
	}{
		{name: "counts"},
		{name: "cannot count", take: errDown, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newTestStore(t)
			h := NewAuth(Base{Sessions: &fakeSessions{}}, store, &brokenFailures{Store: store, take: tt.take}, true, nil,
				func(string) bool { return false }, slog.New(slog.NewTextHandler(io.Discard, nil)))

			form := url.Values{"email": {"nobody@example.com"}, "password": {"wrong password!!"}}
			req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
			req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
			rec := httptest.NewRecorder()
			err := h.Login(echo.New().NewContext(req, rec))

			wantCount := 1
			if tt.wantErr {
				wantCount = 0
				if !errors.Is(err, errDown) {
					t.Fatalf("Login = %v, want the store's error for the error handler", err)
				}
				if rec.Body.Len() != 0 {
					t.Errorf("Login wrote a page as well: %.200s", rec.Body)
				}
			} else {
				if err != nil {
					t.Fatalf("Login = %v", err)
				}
				if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), msgBadCredentials) {
					t.Errorf("status %d, body %.200s; want 401 and the failure answer", rec.Code, rec.Body)
				}
			}
			if n, _, err := store.CountRateEvents(context.Background(), models.SignInScopeAccount, "nobody@example.com", time.Now().Add(-time.Hour)); err != nil || n != wantCount {
				t.Errorf("%d failures counted, %v; want %d", n, err, wantCount)
			}
		})
	}
}
