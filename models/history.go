package models

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Resources a Change can be about.
const (
	ResourceRoute       = "route"
	ResourcePolicy      = "policy"
	ResourceUpstreamApp = "upstream_app"
	ResourceUser        = "user"
)

// What a Change did to its resource.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// Change is one configuration change, recorded in the same transaction as
// the change itself.
type Change struct {
	ID    uint      `json:"id"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"` // WithActor's value, or ActorSystem
	// Resource is ResourceRoute, ResourcePolicy, ResourceUpstreamApp or
	// ResourceUser; ResourceID and ResourceName say which one, the name as
	// it was at the time (a user's email).
	Resource     string `json:"resource"`
	ResourceID   uint   `json:"resource_id"`
	ResourceName string `json:"resource_name"`
	Action       string `json:"action"` // ActionCreate, ActionUpdate or ActionDelete
	// Before and After are YAML snapshots of the object, indented two
	// spaces with keys in a fixed order and multi-line text (a policy's
	// source) as a literal block, so a line diff of the two reads like a
	// diff of the config file. Changes recorded by older versions hold
	// indented JSON; both are shown as text. Before is "" on create, After
	// "" on delete. Secrets never appear: a password or client secret is
	// "(set)", "(unset)" or, after an update that replaced it, "(changed)".
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// ChangeFilter selects a page of changes for ListChanges. Empty fields
// select everything.
type ChangeFilter struct {
	Resource   string // exactly
	ResourceID uint   // with Resource: one object's history
	Actor      string // exactly, ignoring case
	Query      string // contained in the resource name, ignoring case
	// Offset skips that many changes; Limit caps the page (0: no cap).
	Offset, Limit int
}

// maxActorLen caps the recorded actor, which comes from a sign-in.
const maxActorLen = 320

// ListChanges returns one page of the changes matching f, newest first,
// and how many match in all. To keep pages light it leaves Before and
// After empty; GetChange returns them.
func (s *Store) ListChanges(ctx context.Context, f ChangeFilter) ([]Change, int64, error) {
	q := s.db.WithContext(ctx).Model(&Change{})
	if f.Resource != "" {
		q = q.Where("resource = ?", f.Resource)
	}
	if f.ResourceID != 0 {
		q = q.Where("resource_id = ?", f.ResourceID)
	}
	if actor := strings.TrimSpace(f.Actor); actor != "" {
		q = q.Where("lower(actor) = ?", strings.ToLower(actor))
	}
	q = whereContains(q, f.Query, "resource_name")
	changes, total, err := listPage[Change](q, "id DESC", f.Offset, f.Limit, func(db *gorm.DB) *gorm.DB {
		return db.Omit("before", "after")
	})
	if err != nil {
		return nil, 0, fmt.Errorf("models: list changes: %w", err)
	}
	return changes, total, nil
}

// GetChange returns the change with id, snapshots included, or
// ErrNotFound.
func (s *Store) GetChange(ctx context.Context, id uint) (*Change, error) {
	var c Change
	if err := s.db.WithContext(ctx).Take(&c, id).Error; err != nil {
		return nil, fmt.Errorf("models: get change %d: %w", id, dbError(err))
	}
	return &c, nil
}

// record adds a history row to w's transaction; w's configWrite then
// bumps the configuration version. before and after are snapshotText
// results, "" for none.
func (w *configTx) record(resource string, id uint, name, action, before, after string) error {
	c := Change{
		At:           now(),
		Actor:        truncate(w.actor, maxActorLen),
		Resource:     resource,
		ResourceID:   id,
		ResourceName: name,
		Action:       action,
		Before:       before,
		After:        after,
	}
	if err := w.db.Create(&c).Error; err != nil {
		return fmt.Errorf("record %s %s: %w", action, resource, err)
	}
	w.changes++
	return nil
}

// truncate shortens s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ChangeBefore returns the newest change made at or before at: the
// configuration change that was current then. ErrNotFound when none was.
func (s *Store) ChangeBefore(ctx context.Context, at time.Time) (*Change, error) {
	var c Change
	if err := s.db.WithContext(ctx).Where("at <= ?", dbTime(at)).Order("at DESC, id DESC").Take(&c).Error; err != nil {
		return nil, fmt.Errorf("models: change before %s: %w", at.UTC().Format(time.RFC3339), dbError(err))
	}
	return &c, nil
}
