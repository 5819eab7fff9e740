package models

import (
	"context"
	"fmt"
	"time"
)

// lastUsedWindow is how many of a user's newest events LastUsedRoutes
// looks at: enough to cover every route anyone uses week to week, and a
// bound on the work however long the log grows.
const lastUsedWindow = 5000

// LastUsedRoutes returns, for each route the user called among their
// newest events, when they last did. It reads at most lastUsedWindow
// rows, along the user's index, newest first.
func (s *Store) LastUsedRoutes(ctx context.Context, userID uint) (map[uint]time.Time, error) {
	if err := s.settleAuditJournal(ctx); err != nil {
		return nil, fmt.Errorf("models: last use of routes by user %d: %w", userID, err)
	}
	rows, err := s.db.WithContext(ctx).Raw(`SELECT route_id, at FROM audit_events
		WHERE user_id = ? AND kind = ? ORDER BY id DESC LIMIT ?`, userID, AuditKindMCP, lastUsedWindow).Rows()
	if err != nil {
		return nil, fmt.Errorf("models: last use of routes by user %d: %w", userID, dbError(err))
	}
	defer rows.Close()
	out := map[uint]time.Time{}
	for rows.Next() {
		var route *uint
		var at time.Time
		if err := rows.Scan(&route, &at); err != nil {
			return nil, fmt.Errorf("models: last use of routes by user %d: %w", userID, err)
		}
		if route == nil {
			continue
		}
		if _, seen := out[*route]; !seen {
			out[*route] = at // newest first: the first seen is the last use
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("models: last use of routes by user %d: %w", userID, err)
	}
	return out, nil
}
