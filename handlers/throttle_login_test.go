package handlers

import (
	"context"
	"errors"
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

// brokenFailures is a real store whose sign-in failures cannot be
// counted (count) or recorded (record) while those errors are set.
type brokenFailures struct {
	*models.Store
	count, record error
}

var _ ThrottleStore = (*brokenFailures)(nil)

func (s *brokenFailures) SignInFailures(ctx context.Context, scope, key string, since time.Time) (int, time.Time, error) {
	if s.count != nil {
		return 0, time.Time{}, s.count
	}
	return s.Store.SignInFailures(ctx, scope, key, since)
}

func (s *brokenFailures) RecordSignInFailure(ctx context.Context, scope, key string, at time.Time) (uint64, error) {
	if s.record != nil {
		return 0, s.record
	}
	return s.Store.RecordSignInFailure(ctx, scope, key, at)
}

// What Login does when the throttles' store fails: a count it cannot
// read, or an attempt it cannot record, stops the sign-in with an error
// (fail closed, before the password is even looked at): an uncounted
// attempt would be a free guess.
func TestLoginWhenThrottleStoreFails(t *testing.T) {
	errDown := errors.New("database is down")
	tests := []struct {
		name          string
		count, record error
		wantErr       bool
		wantStatus    int
		wantLog       string
	}{
		{name: "counts", wantStatus: http.StatusUnauthorized},
		{name: "cannot count", count: errDown, wantErr: true},
		{name: "cannot record", record: errDown, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newTestStore(t)
			failures := &brokenFailures{Store: store, count: tt.count, record: tt.record}
			var log strings.Builder
			h := NewAuth(Base{Sessions: &fakeSessions{}}, store, failures, true, nil,
				func(string) bool { return false }, slog.New(slog.NewTextHandler(&log, nil)))

			form := url.Values{"email": {"nobody@example.com"}, "password": {"wrong password!!"}}
			req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
			req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
			rec := httptest.NewRecorder()
			err := h.Login(echo.New().NewContext(req, rec))

			if tt.wantErr {
				// Recorded before the count failed, the attempt stays
				// counted: the safe way to err.
				want := 1
				if tt.record != nil {
					want = 0
				}
				if n, _, _ := store.SignInFailures(context.Background(), models.SignInScopeAccount, "nobody@example.com", time.Now().Add(-time.Hour)); n != want {
					t.Errorf("%d attempts counted after the refusal, want %d", n, want)
				}
				if !errors.Is(err, errDown) {
					t.Fatalf("Login = %v, want the store's error for the error handler", err)
				}
				if rec.Body.Len() != 0 {
					t.Errorf("Login wrote a page as well: %.200s", rec.Body)
				}
				return
			}
			if err != nil {
				t.Fatalf("Login = %v", err)
			}
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), msgBadCredentials) {
				t.Errorf("status %d, body %.200s; want %d and the failure answer", rec.Code, rec.Body, tt.wantStatus)
			}
			if tt.wantLog != "" && !strings.Contains(log.String(), tt.wantLog) {
				t.Errorf("log %q does not say %q", log.String(), tt.wantLog)
			}
			wantCount := 1
			if tt.record != nil {
				wantCount = 0
			}
			if n, _, err := store.SignInFailures(context.Background(), models.SignInScopeAccount, "nobody@example.com", time.Now().Add(-time.Hour)); err != nil || n != wantCount {
				t.Errorf("%d failures counted, %v; want %d", n, err, wantCount)
			}
		})
	}
}
