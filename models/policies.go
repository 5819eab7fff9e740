package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// MaxPolicySourceBytes caps a policy's YAML source.
const MaxPolicySourceBytes = 64 << 10

// Policy is a named set of allow and deny rules, attached to routes.
type Policy struct {
	ID uint `json:"id"`
	// Name is unique: a lowercase slug, [a-z0-9][a-z0-9_-]{0,63}.
	Name        string `json:"name"`
	Description string `json:"description"` // at most 1000 characters
	// Source is the policy in the policy language's YAML, with line
	// endings stored as "\n".
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PolicyFilter selects a page of policies for ListPolicies.
type PolicyFilter struct {
	// Query, when set, keeps policies whose name or description contains
	// it, ignoring case.
	Query string
	// Offset skips that many policies; Limit caps the page (0: no cap).
	Offset, Limit int
}

// GetPolicy returns the policy with id, or ErrNotFound.
func (s *Store) GetPolicy(ctx context.Context, id uint) (*Policy, error) {
	p, err := findPolicy(s.db.WithContext(ctx), "id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("models: get policy %d: %w", id, err)
	}
	return p, nil
}

// GetPolicyByName returns the policy named name, or ErrNotFound.
func (s *Store) GetPolicyByName(ctx context.Context, name string) (*Policy, error) {
	p, err := findPolicy(s.db.WithContext(ctx), "name = ?", strings.TrimSpace(name))
	if err != nil {
		return nil, fmt.Errorf("models: get policy %q: %w", name, err)
	}
	return p, nil
}

func findPolicy(db *gorm.DB, query any, args ...any) (*Policy, error) {
	var p Policy
	if err := db.Where(query, args...).Take(&p).Error; err != nil {
		return nil, dbError(err)
	}
	return &p, nil
}

// ListPolicies returns one page of the policies matching f, ordered by
// name, and how many policies match f in all.
func (s *Store) ListPolicies(ctx context.Context, f PolicyFilter) ([]Policy, int64, error) {
	q := whereContains(s.db.WithContext(ctx).Model(&Policy{}), f.Query, "name", "description")
	policies, total, err := listPage[Policy](q, "name", f.Offset, f.Limit)
	if err != nil {
		return nil, 0, fmt.Errorf("models: list policies: %w", err)
	}
	return policies, total, nil
}

// AllPolicies returns every policy, ordered by name, for a select or a
// checkbox list.
func (s *Store) AllPolicies(ctx context.Context) ([]Policy, error) {
	policies := []Policy{}
	if err := s.db.WithContext(ctx).Order("name").Find(&policies).Error; err != nil {
		return nil, fmt.Errorf("models: all policies: %w", err)
	}
	return policies, nil
}
