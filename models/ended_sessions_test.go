package models

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestEndSession(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	now := time.Now()
	version := func() int64 {
		t.Helper()
		v, err := s.ConfigVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ended := func(hash string, at time.Time) bool {
		t.Helper()
		hashes, err := s.EndedSessions(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Contains(hashes, hash)
	}
	a, b := HashToken("session-a"), HashToken("session-b")

	before := version()
	if err := s.EndSession(ctx, a, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != before+1 {
		t.Errorf("config version %d after a session ended, want %d: the gateways must learn of it", v, before+1)
	}
	if !ended(a, now) || ended(b, now) {
		t.Errorf("ended: a %v, b %v; want true, false", ended(a, now), ended(b, now))
	}
	if got, err := s.EndedSessions(ctx, now); err != nil || len(got) != 1 || got[0] != a {
		t.Errorf("EndedSessions = %v, %v; want [a]", got, err)
	}

	// Twice is no error, and no change.
	if err := s.EndSession(ctx, a, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != before+1 {
		t.Errorf("config version %d after a session ended twice, want %d", v, before+1)
	}

	// Past its expiry the session is no longer listed, and the next
	// EndSession deletes its row; a session over already stores nothing.
	later := now.Add(2 * time.Hour)
	if ended(a, later) {
		t.Error("a session is still refused after it would have expired")
	}
	if got, err := s.EndedSessions(ctx, later); err != nil || len(got) != 0 {
		t.Errorf("EndedSessions after expiry = %v, %v; want none", got, err)
	}
	if err := s.EndSession(ctx, b, later, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, s, "ended_sessions"); n != 0 {
		t.Errorf("ended_sessions has %d rows, want the expired one deleted and the one over already not stored", n)
	}

	for _, tt := range []struct {
		name    string
		hash    string
		expires time.Time
		want    string
	}{
		{"raw id instead of its hash", "session-a", now.Add(time.Hour), "session_hash"},
		{"no expiry", a, time.Time{}, "expires_at"},
	} {
		if got := invalidFields(t, s.EndSession(ctx, tt.hash, now, tt.expires)); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s: invalid fields %v, want [%s]", tt.name, got, tt.want)
		}
	}
}
