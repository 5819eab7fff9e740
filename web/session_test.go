package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/handlers"
	"github.com/drawbridge/drawbridge/models"
)

// fakeUsers is the one user a session can resolve to, and the sessions
// ended.
type fakeUsers struct {
	user  models.User
	ended map[string]time.Time // session hash: expires
}

func (f *fakeUsers) EndSession(_ context.Context, hash string, _, expires time.Time) error {
	if f.ended == nil {
		f.ended = map[string]time.Time{}
	}
	f.ended[hash] = expires
	return nil
}

func (f *fakeUsers) sessionEnded(hash string) bool {
	_, ok := f.ended[hash]
	return ok
}

func (f *fakeUsers) GetUser(_ context.Context, id uint) (*models.User, error) {
	if id != f.user.ID {
		return nil, models.ErrNotFound
	}
	u := f.user
	return &u, nil
}

var _ sessionUsers = (*fakeUsers)(nil)

func TestSessionLifetimes(t *testing.T) {
	users := &fakeUsers{user: models.User{ID: 7, Email: "alice@example.com", SessionEpoch: 1}}
	cfg := SessionConfig{IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 2 * time.Hour}
	m := NewSessions(testKeys(t), users, users.sessionEnded, cfg, false, slog.New(slog.DiscardHandler))
	now := time.Unix(1_700_000_000, 0)
	m.now = func() time.Time { return now }
	e := echo.New()

	// request runs one request carrying cookie and reports who it saw and
	// the cookie to carry on.
	request := func(cookie *http.Cookie, signIn bool, signOut ...bool) (*models.User, *http.Cookie) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		var seen *models.User
		h := m.Middleware(func(c echo.Context) error {
			seen = handlers.UserFrom(c)
			if signIn {
				u, _ := users.GetUser(context.Background(), 7)
				m.SignIn(c, u)
			}
			if len(signOut) > 0 {
				if err := m.SignOut(c); err != nil {
					return err
				}
			}
			return c.NoContent(http.StatusOK)
		})
		if err := h(e.NewContext(req, rec)); err != nil {
			t.Fatal(err)
		}
		for _, c := range rec.Result().Cookies() {
			if c.Name == sessionCookie {
				cookie = c
			}
		}
		return seen, cookie
	}

	_, cookie := request(nil, true)
	step := func(d time.Duration, want bool, why string) {
		t.Helper()
		now = now.Add(d)
		var u *models.User
		u, cookie = request(cookie, false)
		if (u != nil) != want {
			t.Fatalf("%s: signed in = %v, want %v", why, u != nil, want)
		}
	}
	step(20*time.Minute, true, "20 minutes idle")
	step(25*time.Minute, true, "25 more minutes idle, the clock restarted at the last request")
	for range 3 { // stay active until past the absolute lifetime
		step(25*time.Minute, true, "active")
	}
	step(25*time.Minute, false, "over two hours after sign-in, however active")

	_, cookie = request(nil, true)
	step(31*time.Minute, false, "31 minutes idle")

	_, cookie = request(nil, true)
	users.user.SessionEpoch++ // a password change or disable
	step(time.Minute, false, "after the user's epoch moved")

	// A copy of the cookie kept from before a sign-out is signed out too.
	_, kept := request(nil, true)
	if u, _ := request(kept, false, true); u == nil {
		t.Fatal("not signed in when signing out")
	}
	if u, _ := request(kept, false); u != nil {
		t.Error("a copy of the cookie still signs in after its session was signed out of")
	}
	if len(users.ended) != 1 {
		t.Errorf("sessions ended: %v, want the one signed out of", users.ended)
	}
}
