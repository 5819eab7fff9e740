package models

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// AuditFilter selects events; zero fields select everything. All filters
// combine (AND).
type AuditFilter struct {
	// From and To select at >= From and at < To. They are turned into an
	// id range (ids rise with time: see auditIndexesV5), widened by
	// auditClockSlack, and at is then checked exactly within it.
	From, To       time.Time
	UserID         *uint
	ServiceAccount string // exact
	RouteID        *uint
	ToolPrefix     string // the tool starts with it (case-sensitive, as stored)
	MCPMethod      string // exact
	Decision       string // AuditAllow, AuditDeny or AuditError
	Outcome        string // one of AuditOutcomes, or "" for any
	ClientID       string // exact
	Kind           string // one of AuditKinds
	// Text is a case-insensitive substring of the arguments (ASCII case
	// only on SQLite). It is checked row by row, newest first, within the
	// other filters: see ListAuditEvents for the bound on that scan.
	Text string
}

// Outcome classes of AuditFilter.Outcome. The three failures are kept
// apart because a 200 can carry a failed call: a JSON-RPC error, or a
// tool result with isError.
const (
	// AuditOutcomeOK is a 2xx answer that was neither a JSON-RPC error
	// nor a tool result with isError.
	AuditOutcomeOK        = "ok"
	AuditOutcomeRPCError  = "rpc_error"  // the answer was a JSON-RPC error
	AuditOutcomeToolError = "tool_error" // a tool result with isError true
	AuditOutcomeHTTPError = "http_error" // HTTP status 400 or above
	// AuditOutcomePending has no outcome (yet): the answer has not ended,
	// or the process stopped first. The authorization server's events
	// never get one; a denied request gets its outcome as it is refused.
	AuditOutcomePending = "pending"
)

// AuditOutcomes lists the classes AuditFilter.Outcome accepts.
var AuditOutcomes = []string{AuditOutcomeOK, AuditOutcomeRPCError, AuditOutcomeToolError, AuditOutcomeHTTPError, AuditOutcomePending}

// auditOutcomeSQL is each class's condition. The failures repeat
// auditFailedSQL, so that SQLite may walk idx_audit_events_failed.
var auditOutcomeSQL = map[string]string{
	AuditOutcomeOK:        "status >= 200 AND status < 300 AND rpc_error_code IS NULL AND (is_error IS NULL OR NOT is_error)",
	AuditOutcomeRPCError:  "rpc_error_code IS NOT NULL",
	AuditOutcomeToolError: "is_error",
	AuditOutcomeHTTPError: "status >= 400",
	AuditOutcomePending:   "outcome_at IS NULL",
}

// Bounds of the audit log's queries.
const (
	// MaxAuditPage is the largest page ListAuditEvents returns.
	MaxAuditPage = 500
	// AuditScanLimit is how many events a page examines at most when some
	// filter is checked row by row (see ListAuditEvents).
	AuditScanLimit = 50_000
	// auditClockSlack widens a time filter's id range: an event whose at
	// is further out of step with its id (its writer held it that long
	// before committing, or its clock was off) may be missed by a time
	// filter it matches.
	auditClockSlack = 2 * time.Minute
	// maxAuditPrefixTools is how many distinct tools a tool prefix may
	// stand for before it is checked row by row instead of by index.
	maxAuditPrefixTools = 100
	maxAuditText        = 1000
	maxAuditToolPrefix  = 255
)

// Validate reports every bad field of f as a *ValidationError.
func (f AuditFilter) Validate() error {
	var v ValidationError
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		v.Add("to", "must be after from")
	}
	switch f.Decision {
	case "", AuditAllow, AuditDeny, AuditError:
	default:
		v.Add("decision", fmt.Sprintf("%q is not allow, deny or error", f.Decision))
	}
	if f.Outcome != "" && !slices.Contains(AuditOutcomes, f.Outcome) {
		v.Add("outcome", fmt.Sprintf("%q is not one of %v", f.Outcome, AuditOutcomes))
	}
	if f.Kind != "" && !slices.Contains(AuditKinds, f.Kind) {
		v.Add("kind", fmt.Sprintf("%q is not one of %v", f.Kind, AuditKinds))
	}
	if len(f.ToolPrefix) > maxAuditToolPrefix {
		v.Add("tool_prefix", fmt.Sprintf("must be at most %d bytes", maxAuditToolPrefix))
	}
	if len(f.Text) > maxAuditText {
		v.Add("text", fmt.Sprintf("must be at most %d bytes", maxAuditText))
	}
	return v.Err()
}

// AuditPage is one page of ListAuditEvents.
type AuditPage struct {
	Events []AuditEvent
	// Next is the cursor of the next, older page: pass it as before. 0
	// when there is no more.
	Next uint64
	// Truncated says the page stopped at AuditScanLimit events examined
	// before it was full: there may be more matches below Next.
	Truncated bool
}

// ListAuditEvents returns the events f selects with id < before (0: from
// the newest), newest first, at most limit (1 to MaxAuditPage) of them.
//
// Each page is a keyset query, WHERE … AND id < before ORDER BY id DESC
// LIMIT n, that walks one (column, id) index backwards from the cursor,
// so a page deep in the log costs what the first one does. When some
// filter must be checked row by row (the text, the outcome, or a second
// indexed filter the first one's index cannot answer), the page examines
// at most AuditScanLimit events, in id windows of growing size, and says
// so with Truncated when it stopped there before filling up.
func (s *Store) ListAuditEvents(ctx context.Context, f AuditFilter, before uint64, limit int) (AuditPage, error) {
	if err := s.settleAuditJournal(ctx); err != nil {
		return AuditPage{}, fmt.Errorf("models: list audit events: %w", err)
	}
	page, err := s.listAuditEvents(ctx, f, before, limit, AuditScanLimit)
	if err != nil {
		return AuditPage{}, fmt.Errorf("models: list audit events: %w", err)
	}
	return page, nil
}

// listAuditEvents is ListAuditEvents with the scan bound a parameter.
func (s *Store) listAuditEvents(ctx context.Context, f AuditFilter, before uint64, limit, budget int) (AuditPage, error) {
	if err := validAuditLimit(limit); err != nil {
		return AuditPage{}, err
	}
	if err := f.Validate(); err != nil {
		return AuditPage{}, err
	}
	db := s.db.WithContext(ctx)
	p, err := planAudit(db, f)
	if err != nil {
		return AuditPage{}, err
	}
	page := AuditPage{Events: []AuditEvent{}}
	top := p.hi
	if before != 0 && before < uint64(top) {
		top = int64(before)
	}
	if p.none || top <= p.lo {
		return page, nil
	}
	if !p.scan {
		evs, err := p.fetch(db, p.lo, top, limit+1, true)
		if err != nil {
			return AuditPage{}, err
		}
		page.Events = evs
		page.trim(limit)
		return page, nil
	}
	return p.scanPage(db, top, limit, budget)
}

// trim cuts an over-full page to limit and sets Next.
func (page *AuditPage) trim(limit int) {
	if len(page.Events) > limit {
		page.Events = page.Events[:limit]
		page.Next = page.Events[limit-1].ID
	}
}

// AuditEventsAfter returns the events f selects with id > after, oldest
// first, at most limit (1 to MaxAuditPage): what the live tail adds.
//
// It does not bound its scan: start after a recent id (the newest
// event's, from ListAuditEvents with limit 1, when the tail opens), and
// when fewer than limit events come back, move after to the newest id
// read before the call, not only to the last event returned, so that the
// next call does not examine the same non-matching events again. Ids
// become visible in order, on either database: appends commit one at a
// time (see appendAuditBatch), so no event below an id already read can
// appear later.
func (s *Store) AuditEventsAfter(ctx context.Context, f AuditFilter, after uint64, limit int) ([]AuditEvent, error) {
	if err := s.settleAuditJournal(ctx); err != nil {
		return nil, fmt.Errorf("models: audit events after %d: %w", after, err)
	}
	evs, err := s.auditEventsAfter(ctx, f, after, limit)
	if err != nil {
		return nil, fmt.Errorf("models: audit events after %d: %w", after, err)
	}
	return evs, nil
}

func (s *Store) auditEventsAfter(ctx context.Context, f AuditFilter, after uint64, limit int) ([]AuditEvent, error) {
	if err := validAuditLimit(limit); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if after >= math.MaxInt64 {
		return []AuditEvent{}, nil
	}
	db := s.db.WithContext(ctx)
	p, err := planAudit(db, f)
	if err != nil {
		return nil, err
	}
	lo := max(p.lo, int64(after)+1)
	if p.none || p.hi <= lo {
		return []AuditEvent{}, nil
	}
	return p.fetch(db, lo, p.hi, limit, false)
}

func validAuditLimit(limit int) error {
	if limit < 1 || limit > MaxAuditPage {
		return &ValidationError{Fields: []FieldError{{Field: "limit", Message: fmt.Sprintf("must be 1 to %d", MaxAuditPage)}}}
	}
	return nil
}

// AuditToolsWithPrefix returns, in order, up to max (1 to 1000) distinct
// tools that start with prefix (every tool, for ""), each found by one
// seek on the tool index: the next tool after the last one found.
func (s *Store) AuditToolsWithPrefix(ctx context.Context, prefix string, max int) ([]string, error) {
	if max < 1 || max > 1000 {
		return nil, &ValidationError{Fields: []FieldError{{Field: "max", Message: "must be 1 to 1000"}}}
	}
	if err := s.settleAuditJournal(ctx); err != nil {
		return nil, fmt.Errorf("models: audit tools with prefix %q: %w", prefix, err)
	}
	tools, err := auditToolsWithPrefix(s.db.WithContext(ctx), prefix, max)
	if err != nil {
		return nil, fmt.Errorf("models: audit tools with prefix %q: %w", prefix, err)
	}
	return tools, nil
}

func auditToolsWithPrefix(db *gorm.DB, prefix string, max int) ([]string, error) {
	tools := []string{}
	if cleanText(prefix) != prefix {
		// Tools are stored as clean text (see normalize), so none starts
		// with this; and PostgreSQL would refuse it as a parameter.
		return tools, nil
	}
	end, bounded := prefixEnd(prefix)
	last, op := prefix, ">="
	if prefix == "" {
		op = ">" // the empty tool is no tool
	}
	for len(tools) < max {
		q, args := "SELECT tool FROM audit_events WHERE tool "+op+" ?", []any{last}
		if bounded {
			q, args = q+" AND tool < ?", append(args, end)
		}
		var next []string
		if err := db.Raw(q+" ORDER BY tool LIMIT 1", args...).Scan(&next).Error; err != nil {
			return nil, err
		}
		if len(next) == 0 {
			break
		}
		tools = append(tools, next[0])
		last, op = next[0], ">"
	}
	return tools, nil
}

// prefixEnd returns the least UTF-8 string above every UTF-8 string that
// starts with prefix, in byte order (code point order, for UTF-8), and
// false when there is none (the prefix is "" or all U+10FFFF). The tool
// column holds UTF-8 only, and the bound must be UTF-8 too: PostgreSQL
// refuses any other text, where a byte-wise increment of, say, "¿"
// (C2 BF) would make C2 C0.
func prefixEnd(prefix string) (string, bool) {
	runes := []rune(prefix)
	for i := len(runes) - 1; i >= 0; i-- {
		switch r := runes[i]; {
		case r == utf8.MaxRune:
			continue
		case r == 0xD7FF:
			runes[i] = 0xE000 // past the surrogates, which UTF-8 cannot hold
		default:
			runes[i] = r + 1
		}
		return string(runes[:i+1]), true
	}
	return "", false
}

// auditFirstIDAtSQL is firstAuditIDAt's query. Of events stamped alike,
// it takes the first by id: what SQLite's (at) index gives anyway, since
// the rowid ends each of its entries, and what PostgreSQL would not
// promise without the id in ORDER BY.
const auditFirstIDAtSQL = "SELECT id FROM audit_events WHERE at >= ? ORDER BY at, id LIMIT 1"

// lastAuditIDBefore returns the id of the event stamped last before t,
// by time, the last by id of those stamped alike.
func lastAuditIDBefore(db *gorm.DB, t time.Time) (int64, bool, error) {
	var ids []int64
	err := db.Raw("SELECT id FROM audit_events WHERE at < ? ORDER BY at DESC, id DESC LIMIT 1", t.UTC()).Scan(&ids).Error
	if err != nil || len(ids) == 0 {
		return 0, false, err
	}
	return ids[0], true, nil
}

// firstAuditIDAt returns the id of the earliest event at or after t, by
// one seek on the at index, and false when there is none.
func firstAuditIDAt(db *gorm.DB, t time.Time) (int64, bool, error) {
	var ids []int64
	err := db.Raw(auditFirstIDAtSQL, t.UTC()).Scan(&ids).Error
	if err != nil || len(ids) == 0 {
		return 0, false, err
	}
	return ids[0], true, nil
}
