package models

import (
	"math"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// auditPlan is an AuditFilter made into SQL: conditions an index answers,
// conditions checked row by row, and the id range the time filter
// stands for.
type auditPlan struct {
	lo, hi int64 // ids in [lo, hi); hi is math.MaxInt64 for no bound
	// conds are answered by an index: column = ?, a tool IN (…) list,
	// or auditFailedSQL (idx_audit_events_failed).
	conds []string
	args  []any
	// rest are checked on each row the conds select.
	rest     []string
	restArgs []any
	// multi says conds hold a tool IN list: no single index walk counts
	// the rows they select.
	multi bool
	// scan says a page must bound the rows it examines: some condition
	// is checked row by row, or two conds share one index walk.
	scan bool
	// none says nothing can match: no tool has the prefix, or no event
	// is that recent.
	none bool
}

// planAudit turns f, already validated, into a plan: each equality on an
// indexed column is a cond, the tool prefix becomes the distinct tools
// it stands for, and the time range an id range, found by two seeks on
// the at index and widened by auditClockSlack, inside which at is checked
// exactly.
func planAudit(db *gorm.DB, f AuditFilter) (auditPlan, error) {
	p := auditPlan{hi: math.MaxInt64}
	pattern := containsPattern(f.Text)
	for _, v := range []string{f.ServiceAccount, f.MCPMethod, f.ClientID, f.ToolPrefix, pattern} {
		if cleanText(v) != v {
			// Events hold clean text only (see normalize): nothing
			// matches, and PostgreSQL would refuse the parameter.
			p.none = true
			return p, nil
		}
	}
	eq := func(column string, v any) {
		p.conds, p.args = append(p.conds, column+" = ?"), append(p.args, v)
	}
	check := func(cond string, args ...any) {
		p.rest, p.restArgs, p.scan = append(p.rest, cond), append(p.restArgs, args...), true
	}
	if f.UserID != nil {
		eq("user_id", *f.UserID)
	}
	if f.ServiceAccount != "" {
		eq("service_account", f.ServiceAccount)
	}
	if f.RouteID != nil {
		eq("route_id", *f.RouteID)
	}
	if f.MCPMethod != "" {
		eq("mcp_method", f.MCPMethod)
	}
	if f.Decision != "" {
		eq("decision", f.Decision)
	}
	if f.ClientID != "" {
		eq("client_id", f.ClientID)
	}
	if f.Kind != "" {
		eq("kind", f.Kind)
	}
	if f.ToolPrefix != "" {
		tools, err := auditToolsWithPrefix(db, f.ToolPrefix, maxAuditPrefixTools+1)
		if err != nil {
			return p, err
		}
		switch n := len(tools); {
		case n == 0:
			p.none = true
		case n == 1:
			eq("tool", tools[0])
		case n <= maxAuditPrefixTools:
			// SQLite walks (tool, id) backwards once per tool and stops
			// each walk once the LIMIT is met: no sort of all their rows.
			p.conds = append(p.conds, "tool IN (?"+strings.Repeat(", ?", n-1)+")")
			for _, t := range tools {
				p.args = append(p.args, t)
			}
			p.multi = true
		default:
			// So many tools that the prefix selects a good share of the
			// log: newest first, matches come soon.
			end, bounded := prefixEnd(f.ToolPrefix)
			check("tool >= ?", f.ToolPrefix)
			if bounded {
				check("tool < ?", end)
			}
		}
	}
	if f.Outcome != "" {
		if f.Outcome != AuditOutcomeOK && f.Outcome != AuditOutcomePending {
			p.conds = append(p.conds, auditFailedSQL)
		}
		check(auditOutcomeSQL[f.Outcome])
	}
	if pattern != "" {
		check(`lower(arguments) LIKE ? ESCAPE '\'`, pattern)
	}
	if len(p.conds) > 1 {
		p.scan = true
	}
	if !f.From.IsZero() {
		// The newest event (by time) stamped more than the slack before
		// From was committed before From, so before any event stamped
		// From or later: ids above it hold the whole range. (The first
		// event stamped after From-slack would not do: committed late,
		// its id could be above events that belong.)
		id, ok, err := lastAuditIDBefore(db, f.From.Add(-auditClockSlack))
		if err != nil {
			return p, err
		}
		if ok {
			p.lo = id + 1
		}
		p.rest, p.restArgs = append(p.rest, "at >= ?"), append(p.restArgs, f.From.UTC())
	}
	if !f.To.IsZero() {
		id, ok, err := firstAuditIDAt(db, f.To.Add(auditClockSlack))
		if err != nil {
			return p, err
		}
		if ok {
			p.hi = id
		}
		p.rest, p.restArgs = append(p.rest, "at < ?"), append(p.restArgs, f.To.UTC())
	}
	return p, nil
}

// where returns the plan's conditions and id range [lo, hi) as a WHERE
// clause and its arguments.
func (p *auditPlan) where(lo, hi int64) (string, []any) {
	conds := append(append(slices.Clone(p.conds), p.rest...), "id >= ?", "id < ?")
	args := append(append(slices.Clone(p.args), p.restArgs...), lo, hi)
	return strings.Join(conds, " AND "), args
}

// query is the SQL of fetch.
func (p *auditPlan) query(lo, hi int64, n int, desc bool) (string, []any) {
	where, args := p.where(lo, hi)
	order := "ASC"
	if desc {
		order = "DESC"
	}
	return "SELECT " + auditSelectColumns + " FROM audit_events WHERE " + where + " ORDER BY id " + order + " LIMIT ?", append(args, n)
}

// fetch reads up to n events of the plan with ids in [lo, hi), newest
// first when desc, oldest first otherwise.
func (p *auditPlan) fetch(db *gorm.DB, lo, hi int64, n int, desc bool) ([]AuditEvent, error) {
	q, args := p.query(lo, hi, n, desc)
	rows, err := db.Raw(q, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	evs := make([]AuditEvent, 0, min(n, 64))
	for rows.Next() {
		evs = append(evs, AuditEvent{})
		if err := scanAuditEvent(rows, &evs[len(evs)-1]); err != nil {
			return nil, err
		}
	}
	return evs, rows.Err()
}

// auditFirstWindow is the id window a bounded page examines first; each
// next one is twice the size, until AuditScanLimit.
const auditFirstWindow = 1000

// scanPage reads a page of a plan that checks rows one by one, below
// top, examining at most budget events: windows of growing size from top
// down, each [floor, cur) holding at most its size of the events the
// conds select, then the plan's query within the window.
func (p *auditPlan) scanPage(db *gorm.DB, top int64, limit, budget int) (AuditPage, error) {
	page := AuditPage{Events: []AuditEvent{}}
	// Windows over empty id space would spend the budget for nothing.
	var bounds struct{ Lo, Hi *int64 }
	if err := db.Raw("SELECT (SELECT MIN(id) FROM audit_events) AS lo, (SELECT MAX(id) FROM audit_events) AS hi").
		Scan(&bounds).Error; err != nil {
		return page, err
	}
	if bounds.Lo == nil {
		return page, nil
	}
	lo, cur := max(p.lo, *bounds.Lo), min(top, *bounds.Hi+1)
	examined, window := 0, auditFirstWindow
	for cur > lo && len(page.Events) <= limit {
		if examined >= budget {
			page.Truncated, page.Next = true, uint64(cur)
			return page, nil
		}
		size := min(window, budget-examined)
		floor, err := p.windowFloor(db, lo, cur, size)
		if err != nil {
			return page, err
		}
		evs, err := p.fetch(db, floor, cur, limit+1-len(page.Events), true)
		if err != nil {
			return page, err
		}
		page.Events = append(page.Events, evs...)
		examined, cur, window = examined+size, floor, window*2
	}
	page.trim(limit)
	return page, nil
}

// windowFloor returns the lowest id of a window below cur that holds at
// most size of the events the conds select. With one cond, that is the
// size-th of them, found by walking its index alone; with none, or more
// (which one walk cannot count), an id range of that size, which holds
// at most that many events of any kind.
func (p *auditPlan) windowFloor(db *gorm.DB, lo, cur int64, size int) (int64, error) {
	if len(p.conds) != 1 || p.multi {
		return max(lo, cur-int64(size)), nil
	}
	var ids []int64
	q, args := p.floorQuery(lo, cur, size)
	if err := db.Raw(q, args...).Scan(&ids).Error; err != nil || len(ids) == 0 {
		return lo, err
	}
	return ids[0], nil
}

// floorQuery is the SQL of windowFloor with one cond: a walk of its index
// alone.
func (p *auditPlan) floorQuery(lo, cur int64, size int) (string, []any) {
	return "SELECT id FROM audit_events WHERE " + p.conds[0] + " AND id >= ? AND id < ? ORDER BY id DESC LIMIT 1 OFFSET ?",
		append(slices.Clone(p.args), lo, cur, size-1)
}
