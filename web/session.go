package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/handlers"
	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

const sessionCookie = "drawbridge_session"

// sessionState is everything the console keeps about a browser, sealed in
// one signed and encrypted cookie.
type sessionState struct {
	UserID uint `json:"u,omitempty"`
	// ID names the session, at random, from sign-in on: signing out
	// records it as ended (models.EndSession), so that a copy of the
	// cookie, and the route hosts' sessions handed over from it, end too.
	ID      string            `json:"i,omitempty"`
	Epoch   int               `json:"e,omitempty"` // the user's SessionEpoch at sign-in
	Created int64             `json:"c"`           // unix seconds at sign-in, for the absolute lifetime
	Seen    int64             `json:"s"`           // unix seconds of the last request, for the idle lifetime
	CSRF    string            `json:"x"`
	Flashes []views.Flash     `json:"f,omitempty"`
	Stash   map[string]string `json:"t,omitempty"`
}

// sessionUsers is what sessions need of the store.
type sessionUsers interface {
	GetUser(ctx context.Context, id uint) (*models.User, error)
	EndSession(ctx context.Context, sessionHash string, now, expires time.Time) error
}

// SessionEndedFunc reports whether the session whose id hashes to
// sessionHash was signed out of: the server asks the gateway's snapshot
// (proxy.Snapshot.SessionEnded), which it reloads at once after a
// sign-out, so the console's requests read no row for it.
type SessionEndedFunc func(sessionHash string) bool

// Sessions implements handlers.Sessions on a gorilla/sessions cookie store.
type Sessions struct {
	store    *sessions.CookieStore
	users    sessionUsers
	ended    SessionEndedFunc
	idle     time.Duration
	absolute time.Duration
	logger   *slog.Logger
	now      func() time.Time
}

var _ handlers.Sessions = (*Sessions)(nil)

// NewSessions makes the session manager. secure marks the cookie Secure,
// for consoles served over https.
func NewSessions(keys Keys, users sessionUsers, ended SessionEndedFunc, cfg SessionConfig, secure bool, logger *slog.Logger) *Sessions {
	store := sessions.NewCookieStore(keys.SessionHash, keys.SessionBlock)
	store.Options = &sessions.Options{
		Path:     "/",
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	// The cookie outlives no session: securecookie refuses older ones too.
	store.MaxAge(int(cfg.AbsoluteTimeout / time.Second))
	return &Sessions{store: store, users: users, ended: ended, idle: cfg.IdleTimeout, absolute: cfg.AbsoluteTimeout, logger: logger, now: time.Now}
}

const stateKey = "drawbridge.session"

type sessionCtx struct {
	state sessionState
	dirty bool
}

// Middleware reads the session cookie, resolves the signed-in user, and
// writes the cookie back (only when it changed) just before the response.
// A cookie that fails to decode, a session signed out of, a disabled user
// or an outdated epoch all mean the same thing: signed out.
func (m *Sessions) Middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sc := &sessionCtx{}
		r := c.Request()
		if _, err := r.Cookie(sessionCookie); err == nil {
			s, err := m.store.New(r, sessionCookie)
			raw, _ := s.Values["s"].(string)
			if err != nil || json.Unmarshal([]byte(raw), &sc.state) != nil {
				m.logger.Info("session cookie refused", "err", err, "ip", c.RealIP())
				sc.state, sc.dirty = sessionState{}, true
			}
		}
		if sc.state.CSRF == "" {
			sc.state.CSRF, sc.dirty = rand.Text(), true
		}
		c.Set(stateKey, sc)
		if err := m.resolveUser(c, sc); err != nil {
			return err
		}
		c.Response().Before(func() { m.save(c, sc) })
		return next(c)
	}
}

func (m *Sessions) resolveUser(c echo.Context, sc *sessionCtx) error {
	st := &sc.state
	if st.UserID == 0 {
		return nil
	}
	now := m.now()
	if now.Sub(time.Unix(st.Created, 0)) > m.absolute || now.Sub(time.Unix(st.Seen, 0)) > m.idle {
		m.reset(sc, "Your session has expired. Please sign in again.")
		return nil
	}
	ctx := c.Request().Context()
	if st.ID == "" { // a cookie from before sessions had ids
		m.reset(sc, "")
		return nil
	}
	if m.ended(models.HashToken(st.ID)) {
		m.reset(sc, "")
		return nil
	}
	u, err := m.users.GetUser(ctx, st.UserID)
	if errors.Is(err, models.ErrNotFound) || (err == nil && (u.Disabled || u.SessionEpoch != st.Epoch)) {
		m.reset(sc, "")
		return nil
	}
	if err != nil {
		return err
	}
	// Refresh the idle clock at most once a minute, to spare a Set-Cookie
	// on every request.
	if now.Sub(time.Unix(st.Seen, 0)) > time.Minute {
		st.Seen, sc.dirty = now.Unix(), true
	}
	handlers.SetUser(c, u)
	// Every change this request makes is recorded as this user's.
	c.SetRequest(c.Request().WithContext(models.WithActor(c.Request().Context(), u.Email)))
	return nil
}

// reset signs the browser out, keeping only a fresh CSRF token and an
// optional message.
func (m *Sessions) reset(sc *sessionCtx, msg string) {
	sc.state = sessionState{CSRF: rand.Text()}
	if msg != "" {
		sc.state.Flashes = []views.Flash{{Kind: views.FlashInfo, Message: msg}}
	}
	sc.dirty = true
}

func (m *Sessions) save(c echo.Context, sc *sessionCtx) {
	if !sc.dirty {
		return
	}
	s := sessions.NewSession(m.store, sessionCookie)
	opts := *m.store.Options
	s.Options = &opts
	b, err := json.Marshal(sc.state)
	if err != nil {
		m.logger.Error("encode session", "err", err)
		return
	}
	s.Values["s"] = string(b)
	if err := m.store.Save(c.Request(), c.Response().Writer, s); err != nil {
		m.logger.Error("save session", "err", err)
	}
}

func (m *Sessions) ctx(c echo.Context) *sessionCtx {
	sc, ok := c.Get(stateKey).(*sessionCtx)
	if !ok {
		// Only routes outside the session middleware get here, and none
		// of them use the session; a throwaway keeps them safe anyway.
		sc = &sessionCtx{}
		c.Set(stateKey, sc)
	}
	return sc
}

// SignIn replaces whatever the browser had with a new session for u: a
// new CSRF token, new clocks, nothing carried over but flashes.
func (m *Sessions) SignIn(c echo.Context, u *models.User) error {
	sc := m.ctx(c)
	now := m.now().Unix()
	sc.state = sessionState{
		UserID: u.ID, ID: rand.Text(), Epoch: u.SessionEpoch, Created: now, Seen: now, CSRF: rand.Text(), Flashes: sc.state.Flashes,
	}
	sc.dirty = true
	handlers.SetUser(c, u)
	return nil
}

// SignOut ends the session: it records it as ended, for as long as it or
// a route host's session handed over from it could last, and forgets the
// user. The browser keeps an anonymous session so the sign-in page that
// follows has a CSRF token and the goodbye message. When the record
// fails, nothing changes: the user is still signed in, and may try again.
func (m *Sessions) SignOut(c echo.Context) error {
	sc := m.ctx(c)
	if st := sc.state; st.UserID != 0 && st.ID != "" {
		// A hand-over happens within the session's absolute lifetime,
		// and the route host's session lasts as long again from then
		// (proxy.NewRouteSessions).
		expires := time.Unix(st.Created, 0).Add(2 * m.absolute)
		if err := m.users.EndSession(c.Request().Context(), models.HashToken(st.ID), m.now(), expires); err != nil {
			return err
		}
	}
	m.reset(sc, "")
	handlers.SetUser(c, nil)
	return nil
}

// SessionHash returns the hash of the session's id (see models.HashToken),
// or "" when no one is signed in.
func (m *Sessions) SessionHash(c echo.Context) string {
	if st := m.ctx(c).state; st.UserID != 0 && st.ID != "" {
		return models.HashToken(st.ID)
	}
	return ""
}

// CSRFToken returns the session's CSRF token.
func (m *Sessions) CSRFToken(c echo.Context) string { return m.ctx(c).state.CSRF }

// AddFlash queues a message for the next page.
func (m *Sessions) AddFlash(c echo.Context, f views.Flash) {
	sc := m.ctx(c)
	sc.state.Flashes = append(sc.state.Flashes, f)
	sc.dirty = true
}

// Flashes returns the queued messages and clears them.
func (m *Sessions) Flashes(c echo.Context) []views.Flash {
	sc := m.ctx(c)
	fs := sc.state.Flashes
	if len(fs) > 0 {
		sc.state.Flashes, sc.dirty = nil, true
	}
	return fs
}

// Stash keeps a short value until Take reads it.
func (m *Sessions) Stash(c echo.Context, key, value string) {
	sc := m.ctx(c)
	if sc.state.Stash == nil {
		sc.state.Stash = map[string]string{}
	}
	sc.state.Stash[key], sc.dirty = value, true
}

// Take returns a stashed value once.
func (m *Sessions) Take(c echo.Context, key string) string {
	sc := m.ctx(c)
	v, ok := sc.state.Stash[key]
	if ok {
		delete(sc.state.Stash, key)
		sc.dirty = true
	}
	return v
}
