package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

func (p *Policy) normalize() {
	p.Name = strings.TrimSpace(p.Name)
	p.Description = strings.TrimSpace(p.Description)
	// Browsers post textareas with CRLF; the language reads either, and
	// one spelling keeps the history's diffs honest.
	p.Source = strings.ReplaceAll(p.Source, "\r\n", "\n")
}

// policySnapshot is a policy as the history shows it. snapshotText writes
// the source as a literal block, line for line as the admin wrote it, so
// its diff reads like a diff of the YAML.
type policySnapshot struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Source      string `yaml:"source"`
}

func snapshotPolicy(p *Policy) policySnapshot {
	return policySnapshot{Name: p.Name, Description: p.Description, Source: p.Source}
}

// CreatePolicy validates p and inserts it, filling in its ID and
// timestamps. Invalid fields are a *ValidationError; a source the policy
// language refuses is Options.ValidatePolicy's error, wrapped (joined with
// the *ValidationError when both fail); a name in use is a *ConflictError.
func (s *Store) CreatePolicy(ctx context.Context, p *Policy) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.createPolicy(p) }); err != nil {
		return fmt.Errorf("models: create policy %q: %w", p.Name, err)
	}
	return nil
}

// UpdatePolicy replaces policy p.ID with p, under the rules of
// CreatePolicy. The policy missing is ErrNotFound. An update that changes
// nothing writes nothing.
func (s *Store) UpdatePolicy(ctx context.Context, p *Policy) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.updatePolicy(p) }); err != nil {
		return fmt.Errorf("models: update policy %d: %w", p.ID, err)
	}
	return nil
}

// DeletePolicy deletes the policy with id. While routes use it, it refuses
// with a *ConflictError naming them; a missing policy is ErrNotFound.
func (s *Store) DeletePolicy(ctx context.Context, id uint) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.deletePolicy(id) }); err != nil {
		return fmt.Errorf("models: delete policy %d: %w", id, err)
	}
	return nil
}

// checkPolicy normalizes p and reports every problem with it: the fields'
// as a *ValidationError, the source's as the ValidatePolicy hook's error,
// both joined if both fail.
func (w *configTx) checkPolicy(p *Policy) error {
	p.normalize()
	var v ValidationError
	validateSlug(&v, "name", p.Name)
	validateMaxChars(&v, "description", p.Description, maxDescriptionChars)
	sourceOK := false
	switch {
	case strings.TrimSpace(p.Source) == "":
		v.Add("source", "is required")
	case len(p.Source) > MaxPolicySourceBytes:
		v.Add("source", fmt.Sprintf("must be at most %d KiB", MaxPolicySourceBytes>>10))
	default:
		sourceOK = true
	}
	var hookErr error
	if sourceOK && w.store.validatePolicy != nil {
		hookErr = w.store.validatePolicy(p.Name, []byte(p.Source))
	}
	if hookErr == nil {
		return v.Err()
	}
	if v.Err() == nil {
		return hookErr
	}
	return errors.Join(&v, hookErr)
}

// policyTaken returns a *ConflictError if another policy than p has its
// name.
func (w *configTx) policyTaken(p *Policy) error {
	var n int64
	if err := w.db.Model(&Policy{}).Where("name = ? AND id <> ?", p.Name, p.ID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return &ConflictError{Field: "name", Message: "is already used by another policy"}
	}
	return nil
}

func (w *configTx) createPolicy(p *Policy) error {
	p.ID = 0
	if err := w.checkPolicy(p); err != nil {
		return err
	}
	if err := w.policyTaken(p); err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = now(), now()
	if err := w.db.Create(p).Error; err != nil {
		return dbError(err)
	}
	after, err := snapshotText(snapshotPolicy(p))
	if err != nil {
		return err
	}
	return w.record(ResourcePolicy, p.ID, p.Name, ActionCreate, "", after)
}

func (w *configTx) updatePolicy(p *Policy) error {
	old, err := findPolicy(w.db, "id = ?", p.ID)
	if err != nil {
		return err
	}
	if err := w.checkPolicy(p); err != nil {
		return err
	}
	if err := w.policyTaken(p); err != nil {
		return err
	}
	before, after, differ, err := snapshotPair(snapshotPolicy(old), snapshotPolicy(p))
	if err != nil || !differ {
		*p = *old
		return err
	}
	p.CreatedAt, p.UpdatedAt = old.CreatedAt, now()
	res := w.db.Model(p).Select("name", "description", "source", "updated_at").Updates(p)
	if res.Error != nil {
		return dbError(res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrNotFound
	}
	return w.record(ResourcePolicy, p.ID, p.Name, ActionUpdate, before, after)
}

func (w *configTx) deletePolicy(id uint) error {
	old, err := findPolicy(w.db, "id = ?", id)
	if err != nil {
		return err
	}
	users, err := routesWhere(w.db, "id IN (SELECT route_id FROM route_policies WHERE policy_id = ?)", id)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return &ConflictError{Field: "policy", Message: usedBy(users)}
	}
	before, err := snapshotText(snapshotPolicy(old))
	if err != nil {
		return err
	}
	if err := w.db.Delete(&Policy{}, id).Error; err != nil {
		return dbError(err)
	}
	return w.record(ResourcePolicy, id, old.Name, ActionDelete, before, "")
}
