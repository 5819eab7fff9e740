package models

import (
	"strings"

	"gorm.io/gorm"
)

// containsPattern returns a LIKE pattern, for use with ESCAPE '\', that
// matches values containing query ignoring case, or "" when query is
// blank. Compare it against lower(column).
func containsPattern(query string) string {
	query = strings.ToLower(strings.TrimSpace(query))
	if query == "" {
		return ""
	}
	return "%" + escapeLike(query) + "%"
}

// whereContains narrows q to rows where any of columns contains query,
// ignoring case; a blank query leaves q as it is. columns are trusted
// identifiers, never input.
func whereContains(q *gorm.DB, query string, columns ...string) *gorm.DB {
	pattern := containsPattern(query)
	if pattern == "" {
		return q
	}
	conds := make([]string, len(columns))
	args := make([]any, len(columns))
	for i, c := range columns {
		conds[i] = "lower(" + c + `) LIKE ? ESCAPE '\'`
		args[i] = pattern
	}
	return q.Where(strings.Join(conds, " OR "), args...)
}

// listPage counts the rows q selects, then reads the page of them that
// offset and limit (0: no cap) describe, in order, with scopes (preloads,
// column choices) applied to the read only. A page past the end is empty,
// not nil.
func listPage[T any](q *gorm.DB, order string, offset, limit int, scopes ...func(*gorm.DB) *gorm.DB) ([]T, int64, error) {
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	page := q.Order(order).Scopes(scopes...)
	if offset > 0 {
		page = page.Offset(offset)
	}
	if limit > 0 {
		page = page.Limit(limit)
	}
	rows := []T{}
	if err := page.Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	return rows, total, nil
}
