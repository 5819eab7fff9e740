package models

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testVerifier is a valid PKCE code verifier: 43 base64url characters.
const testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

// testAuthState returns a valid Connect flow of the user at the app,
// expiring in ten minutes, not yet stored; its raw state is raw.
func testAuthState(raw string, userID, appID uint, routeID *uint) *UpstreamAuthState {
	return &UpstreamAuthState{
		StateHash: HashToken(raw), UserID: userID, AppID: appID, RouteID: routeID,
		SessionHash: HashToken("session"), RedirectURL: "https://console.example.com/connections",
		CodeVerifier: testVerifier, ExpiresAt: time.Now().Add(10 * time.Minute),
	}
}

// testRouteSignIn returns a valid sign-in of the user to the route,
// expiring in a minute, not yet stored; its raw code is raw.
func testRouteSignIn(raw string, userID, routeID uint) *RouteSignIn {
	return &RouteSignIn{CodeHash: HashToken(raw), UserID: userID, RouteID: routeID, SessionHash: HashToken("session"),
		ReturnPath: "/tools?page=2", ExpiresAt: time.Now().Add(time.Minute)}
}

func TestUpstreamAuthState(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	github := createApp(t, s, "github")
	route := createRoute(t, s, "tools", "https://tools.example.com")

	st := testAuthState("state-1", alice.ID, github.ID, &route.ID)
	if err := s.CreateUpstreamAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if st.ID == 0 || st.CreatedAt.IsZero() {
		t.Errorf("created = %+v", st)
	}
	var sealed string
	if err := s.db.Table("upstream_auth_states").Where("id = ?", st.ID).Pluck("code_verifier_sealed", &sealed).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, "v1:k1:") || strings.Contains(sealed, testVerifier) {
		t.Errorf("stored code verifier = %q, want it sealed", sealed)
	}
	if err := s.CreateUpstreamAuthState(ctx, testAuthState("state-1", alice.ID, github.ID, nil)); !errors.Is(err, ErrConflict) {
		t.Errorf("same state twice: err = %v, want ErrConflict", err)
	}
	for name, bad := range map[string]*UpstreamAuthState{
		"user":  testAuthState("state-2", alice.ID+1, github.ID, nil),
		"app":   testAuthState("state-3", alice.ID, github.ID+1, nil),
		"route": testAuthState("state-4", alice.ID, github.ID, new(route.ID+1)),
	} {
		if err := s.CreateUpstreamAuthState(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown %s: err = %v, want ErrNotFound", name, err)
		}
	}

	got, err := s.TakeUpstreamAuthState(ctx, HashToken("state-1"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != st.ID || got.UserID != alice.ID || got.AppID != github.ID || got.RouteID == nil || *got.RouteID != route.ID ||
		got.SessionHash != st.SessionHash || got.RedirectURL != st.RedirectURL || got.CodeVerifier != testVerifier ||
		!got.ExpiresAt.Equal(st.ExpiresAt) || !got.CreatedAt.Equal(st.CreatedAt) {
		t.Errorf("taken = %+v, want %+v", got, st)
	}
	if _, err := s.TakeUpstreamAuthState(ctx, HashToken("state-1"), time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("take twice: err = %v, want ErrNotFound", err)
	}

	// Without PKCE, nothing is sealed.
	plain := testAuthState("state-5", alice.ID, github.ID, nil)
	plain.CodeVerifier = ""
	if err := s.CreateUpstreamAuthState(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TakeUpstreamAuthState(ctx, HashToken("state-5"), time.Now()); err != nil || got.CodeVerifier != "" || got.RouteID != nil {
		t.Errorf("take without PKCE = %+v, %v", got, err)
	}

	tests := []struct {
		name string
		edit func(st *UpstreamAuthState)
		want []string
	}{
		{"raw state instead of its hash", func(st *UpstreamAuthState) { st.StateHash = "state" }, []string{"state_hash"}},
		{"plain verifier", func(st *UpstreamAuthState) { st.CodeVerifier = "short" }, []string{"code_verifier"}},
		{"verifier with a space", func(st *UpstreamAuthState) { st.CodeVerifier = testVerifier[:42] + " " }, []string{"code_verifier"}},
		{"everything missing", func(st *UpstreamAuthState) { *st = UpstreamAuthState{RouteID: new(uint(0))} },
			[]string{"state_hash", "user_id", "app_id", "route_id", "session_hash", "redirect_url", "expires_at"}},
		{"redirect too long", func(st *UpstreamAuthState) { st.RedirectURL = "https://x/" + strings.Repeat("a", 2048) }, []string{"redirect_url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := testAuthState("state-6", alice.ID, github.ID, nil)
			tt.edit(st)
			if got := invalidFields(t, s.CreateUpstreamAuthState(ctx, st)); !slices.Equal(got, tt.want) {
				t.Errorf("invalid fields = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUpstreamAuthStateExpiry(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	github := createApp(t, s, "github")

	st := testAuthState("late", alice.ID, github.ID, nil)
	if err := s.CreateUpstreamAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeUpstreamAuthState(ctx, HashToken("late"), st.ExpiresAt); !errors.Is(err, ErrNotFound) {
		t.Errorf("take at the expiry: err = %v, want ErrNotFound", err)
	}
	if n := rowCount(t, s, "upstream_auth_states"); n != 0 {
		t.Errorf("%d states left; an expired one is deleted when taken", n)
	}

	// Creating a state clears out those that expired unused.
	old := testAuthState("abandoned", alice.ID, github.ID, nil)
	old.ExpiresAt = time.Now().Add(-time.Second)
	live := testAuthState("live", alice.ID, github.ID, nil)
	for _, st := range []*UpstreamAuthState{old, live, testAuthState("new", alice.ID, github.ID, nil)} {
		if err := s.CreateUpstreamAuthState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	if n := rowCount(t, s, "upstream_auth_states"); n != 2 {
		t.Errorf("%d states, want the 2 live ones", n)
	}
	if _, err := s.TakeUpstreamAuthState(ctx, HashToken("live"), time.Now()); err != nil {
		t.Errorf("take of a live state: %v", err)
	}
}

// TestTakeUpstreamAuthStateConcurrently races 20 takes of one state:
// exactly one gets it.
func TestTakeUpstreamAuthStateConcurrently(t *testing.T) {
	s := newTestStore(t)
	alice := createUser(t, s, "alice@example.com")
	github := createApp(t, s, "github")
	if err := s.CreateUpstreamAuthState(context.Background(), testAuthState("raced", alice.ID, github.ID, nil)); err != nil {
		t.Fatal(err)
	}
	wins := raceTakes(t, 20, func() error {
		st, err := s.TakeUpstreamAuthState(context.Background(), HashToken("raced"), time.Now())
		if err == nil && st.CodeVerifier != testVerifier {
			t.Errorf("taken verifier = %q", st.CodeVerifier)
		}
		return err
	})
	if wins != 1 {
		t.Errorf("%d takes succeeded, want exactly 1", wins)
	}
}

// raceTakes runs take n times at once and counts the successes; every
// failure must be ErrNotFound.
func raceTakes(t *testing.T, n int, take func() error) int {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			err := take()
			if err != nil && !errors.Is(err, ErrNotFound) {
				t.Errorf("take: %v", err)
			}
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	return wins
}

func TestRouteSignIn(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	route := createRoute(t, s, "tools", "https://tools.example.com")

	si := testRouteSignIn("code-1", alice.ID, route.ID)
	if err := s.CreateRouteSignIn(ctx, si); err != nil {
		t.Fatal(err)
	}
	if si.ID == 0 || si.CreatedAt.IsZero() {
		t.Errorf("created = %+v", si)
	}
	if err := s.CreateRouteSignIn(ctx, testRouteSignIn("code-1", alice.ID, route.ID)); !errors.Is(err, ErrConflict) {
		t.Errorf("same code twice: err = %v, want ErrConflict", err)
	}
	if err := s.CreateRouteSignIn(ctx, testRouteSignIn("code-2", alice.ID+1, route.ID)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: err = %v, want ErrNotFound", err)
	}
	if err := s.CreateRouteSignIn(ctx, testRouteSignIn("code-3", alice.ID, route.ID+1)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown route: err = %v, want ErrNotFound", err)
	}

	got, err := s.TakeRouteSignIn(ctx, HashToken("code-1"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if *got != *si {
		t.Errorf("taken = %+v, want %+v", got, si)
	}
	if _, err := s.TakeRouteSignIn(ctx, HashToken("code-1"), time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("take twice: err = %v, want ErrNotFound", err)
	}

	// Expiry: an expired code is refused and gone; creating a code clears
	// out the expired ones.
	late := testRouteSignIn("late", alice.ID, route.ID)
	old := testRouteSignIn("abandoned", alice.ID, route.ID)
	old.ExpiresAt = time.Now().Add(-time.Second)
	for _, si := range []*RouteSignIn{late, old} {
		if err := s.CreateRouteSignIn(ctx, si); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.TakeRouteSignIn(ctx, HashToken("late"), late.ExpiresAt.Add(time.Second)); !errors.Is(err, ErrNotFound) {
		t.Errorf("take after the expiry: err = %v, want ErrNotFound", err)
	}
	if n := rowCount(t, s, "route_sign_ins"); n != 1 {
		t.Errorf("%d sign-ins, want only the abandoned one", n)
	}
	if err := s.CreateRouteSignIn(ctx, testRouteSignIn("raced", alice.ID, route.ID)); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, s, "route_sign_ins"); n != 1 {
		t.Errorf("%d sign-ins, want the abandoned one gone", n)
	}

	wins := raceTakes(t, 20, func() error {
		_, err := s.TakeRouteSignIn(context.Background(), HashToken("raced"), time.Now())
		return err
	})
	if wins != 1 {
		t.Errorf("%d takes succeeded, want exactly 1", wins)
	}

	tests := []struct {
		name string
		edit func(si *RouteSignIn)
		want []string
	}{
		{"raw code instead of its hash", func(si *RouteSignIn) { si.CodeHash = "code" }, []string{"code_hash"}},
		{"no console session", func(si *RouteSignIn) { si.SessionHash = "" }, []string{"session_hash"}},
		{"absolute URL", func(si *RouteSignIn) { si.ReturnPath = "https://evil.example/" }, []string{"return_path"}},
		{"another host", func(si *RouteSignIn) { si.ReturnPath = "//evil.example/" }, []string{"return_path"}},
		{"another host, backslashed", func(si *RouteSignIn) { si.ReturnPath = `/\evil.example/` }, []string{"return_path"}},
		{"control character", func(si *RouteSignIn) { si.ReturnPath = "/a\nb" }, []string{"return_path"}},
		{"too long", func(si *RouteSignIn) { si.ReturnPath = "/" + strings.Repeat("a", 2048) }, []string{"return_path"}},
		{"everything missing", func(si *RouteSignIn) { *si = RouteSignIn{} },
			[]string{"code_hash", "session_hash", "user_id", "route_id", "return_path", "expires_at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			si := testRouteSignIn("code-4", alice.ID, route.ID)
			tt.edit(si)
			if got := invalidFields(t, s.CreateRouteSignIn(ctx, si)); !slices.Equal(got, tt.want) {
				t.Errorf("invalid fields = %v, want %v", got, tt.want)
			}
		})
	}
}
