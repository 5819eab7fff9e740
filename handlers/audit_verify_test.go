package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// fakeSessions keeps flashes in memory, for handlers that only add them.
// Safe for concurrent requests.
type fakeSessions struct {
	mu      sync.Mutex
	flashes []views.Flash
}

var _ Sessions = (*fakeSessions)(nil)

func (s *fakeSessions) SignIn(echo.Context, *models.User) error { return nil }
func (s *fakeSessions) SignOut(echo.Context) error              { return nil }
func (s *fakeSessions) SessionHash(echo.Context) string         { return "" }
func (s *fakeSessions) CSRFToken(echo.Context) string           { return "token" }
func (s *fakeSessions) Stash(echo.Context, string, string)      {}
func (s *fakeSessions) Take(echo.Context, string) string        { return "" }
func (s *fakeSessions) AddFlash(_ echo.Context, f views.Flash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flashes = append(s.flashes, f)
}
func (s *fakeSessions) Flashes(echo.Context) []views.Flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.flashes
	s.flashes = nil
	return out
}

// slowVerifyStore is a real store whose VerifyAuditChains says when it
// starts and then waits to be released, standing in for a walk of
// millions of events.
type slowVerifyStore struct {
	*models.Store
	started chan struct{}
	release chan struct{}
	calls   atomic.Int32
}

func (s *slowVerifyStore) VerifyAuditChains(ctx context.Context) ([]models.AuditChainStatus, error) {
	s.calls.Add(1)
	s.started <- struct{}{}
	<-s.release
	return s.Store.VerifyAuditChains(ctx)
}

// postVerify runs h.Verify on a POST and returns the response.
func postVerify(h *AuditLog) (*httptest.ResponseRecorder, error) {
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/admin/audit/verify", nil), rec)
	return rec, h.Verify(c)
}

// A Verify pressed while one runs does not start a second walk: it says
// so and goes back to the log. Once the first ends, Verify runs again.
func TestVerifyRunsOneAtATime(t *testing.T) {
	store := &slowVerifyStore{Store: newTestStore(t), started: make(chan struct{}, 2), release: make(chan struct{})}
	sessions := &fakeSessions{}
	h := &AuditLog{Base: Base{Sessions: sessions}, Store: store}
	type result struct {
		rec *httptest.ResponseRecorder
		err error
	}
	press := func() chan result {
		done := make(chan result, 1)
		go func() {
			rec, err := postVerify(h)
			done <- result{rec, err}
		}()
		return done
	}
	first := press()
	<-store.started

	var second result
	select {
	case second = <-press():
	case <-store.started:
		close(store.release)
		t.Fatal("a second walk of the chains started while the first ran")
	}
	if rec := second.rec; second.err != nil || rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin/audit" {
		t.Fatalf("Verify while one runs: %d %v, %v", rec.Code, rec.Header(), second.err)
	}
	busy := views.Flash{Kind: views.FlashInfo, Message: "A verification is already running; try again when it finishes."}
	if got := sessions.Flashes(nil); !slices.Equal(got, []views.Flash{busy}) {
		t.Errorf("flashes while one runs = %+v, want %+v", got, busy)
	}
	if _, err := store.LastAuditVerification(context.Background()); err == nil {
		t.Error("the refused Verify recorded a verification")
	}

	close(store.release)
	if r := <-first; r.err != nil || r.rec.Code != http.StatusSeeOther {
		t.Fatalf("the first Verify: %d, %v", r.rec.Code, r.err)
	}
	if n := store.calls.Load(); n != 1 {
		t.Errorf("%d walks of the chains for two presses during one, want 1", n)
	}
	if got := sessions.Flashes(nil); len(got) != 1 || got[0].Kind != views.FlashSuccess {
		t.Errorf("flashes of the first Verify = %+v, want its success", got)
	}
	if rec, err := postVerify(h); err != nil || rec.Code != http.StatusSeeOther || store.calls.Load() != 2 {
		t.Errorf("Verify after the first ended: %d, %v, %d walks; want a second walk", rec.Code, err, store.calls.Load())
	}
}

func TestAuditChainRows(t *testing.T) {
	got := auditChainRows([]models.AuditChainResult{
		{Writer: "gw-1", Events: 12, LastSeq: 12, OK: true, CheckpointSeq: 4},
		{Writer: "gw-2", Events: 2, LastSeq: 2, Problem: "altered", BrokenID: 88, BrokenSeq: 3, CheckpointSeq: 4},
		{Writer: "gw-3", Events: 5, LastSeq: 9, Problem: "starts from a retention checkpoint (seq 4), but retention is off", CheckpointSeq: 4},
	})
	want := []views.AuditChainRow{
		{Writer: "gw-1", Events: 12, LastSeq: 12, OK: true, CheckpointSeq: 4},
		{Writer: "gw-2", Events: 2, LastSeq: 2, Problem: "altered", BrokenID: 88, BrokenURL: "/admin/audit/88", CheckpointSeq: 4},
		// The problem is the checkpoint: no note that retention made it.
		{Writer: "gw-3", Events: 5, LastSeq: 9, Problem: "starts from a retention checkpoint (seq 4), but retention is off"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("auditChainRows =\n%+v\nwant\n%+v", got, want)
	}
}
