package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// OIDCIdentity is what an OIDC provider said about the person signing in.
type OIDCIdentity struct {
	Provider string // the provider's configured name
	Subject  string // the "sub" claim
	// Email must be one the provider has verified: UpsertOIDCUser may link
	// the identity to an existing account with that email.
	Email  string
	Name   string
	Groups []string
	// MakeAdmin grants the admin role (configured admins); false never
	// revokes it. MakeAuditor does the same for the auditor role.
	MakeAdmin   bool
	MakeAuditor bool
}

func (in *OIDCIdentity) normalize() {
	in.Provider = strings.TrimSpace(in.Provider)
	in.Subject = strings.TrimSpace(in.Subject)
	in.Email = NormalizeEmail(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	in.Groups = normalizeGroups(in.Groups)
}

func (in *OIDCIdentity) validate() error {
	var v ValidationError
	switch {
	case in.Provider == "":
		v.Add("provider", "is required")
	case in.Provider == ProviderLocal:
		v.Add("provider", fmt.Sprintf("%q is reserved for password sign-in", ProviderLocal))
	case len(in.Provider) > maxProviderLen:
		v.Add("provider", fmt.Sprintf("must be at most %d bytes", maxProviderLen))
	}
	switch {
	case in.Subject == "":
		v.Add("subject", "is required")
	case len(in.Subject) > maxSubjectLen:
		v.Add("subject", fmt.Sprintf("must be at most %d bytes", maxSubjectLen))
	}
	validateEmail(&v, in.Email)
	validateName(&v, in.Name)
	return v.Err()
}

// UpsertOIDCUser finds or creates the user behind an OIDC sign-in and
// brings it up to date with the provider's claims, returning it.
//
// The user is found by (provider, subject); failing that, by email, in
// which case the identity is linked to that user unless the user already
// has a different subject at this provider (ErrConflict: two people, or a
// recycled address). Failing both, the user is created. Email, groups and
// a non-empty name are copied on every sign-in; MakeAdmin grants admin but
// its absence never revokes it, and so does MakeAuditor for auditor. A disabled user stays disabled: refusing
// the sign-in is the caller's job.
//
// The configuration version is bumped only if the user was created or
// changed, so a routine sign-in does not reload the proxy.
func (s *Store) UpsertOIDCUser(ctx context.Context, in OIDCIdentity) (*User, error) {
	in.normalize()
	if err := in.validate(); err != nil {
		return nil, err
	}
	var out *User
	err := s.configWrite(ctx, func(w *configTx) error {
		u, err := findOIDCUser(w.db, in)
		if errors.Is(err, ErrNotFound) {
			out, err = w.createOIDCUser(in)
			return err
		}
		if err != nil {
			return err
		}
		out, err = w.updateOIDCUser(u, in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("models: upsert user %s/%s: %w", in.Provider, in.Subject, err)
	}
	return out, nil
}

// findOIDCUser finds the user for in by subject, then by email.
func findOIDCUser(tx *gorm.DB, in OIDCIdentity) (*User, error) {
	var u User
	// The repeated "subject <> ''" lets the planner use the partial
	// unique index, whose WHERE clause it must see implied.
	err := tx.Where("provider = ? AND subject = ? AND subject <> ''", in.Provider, in.Subject).Take(&u).Error
	switch {
	case err == nil:
		return &u, nil
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return nil, err
	}
	if err := tx.Where("lower(email) = ?", in.Email).Take(&u).Error; err != nil {
		return nil, dbError(err)
	}
	if u.Provider == in.Provider && u.Subject != "" {
		return nil, &ConflictError{Field: "email", Message: fmt.Sprintf(
			"belongs to a user linked to a different %s account", in.Provider)}
	}
	return &u, nil
}

func (w *configTx) createOIDCUser(in OIDCIdentity) (*User, error) {
	u := &User{
		Email:     in.Email,
		Name:      in.Name,
		Provider:  in.Provider,
		Subject:   in.Subject,
		Groups:    in.Groups,
		IsAdmin:   in.MakeAdmin,
		IsAuditor: in.MakeAuditor,
	}
	if err := w.db.Create(u).Error; err != nil {
		return nil, dbError(err)
	}
	return u, w.recordUserCreate(u)
}

// updateOIDCUser writes whichever of in's claims differ from u, and links
// u to in's subject if it is not linked yet.
func (w *configTx) updateOIDCUser(u *User, in OIDCIdentity) (*User, error) {
	before := *u
	var changed []string
	if u.Provider != in.Provider || u.Subject != in.Subject {
		u.Provider, u.Subject = in.Provider, in.Subject
		changed = append(changed, "provider", "subject")
	}
	if u.Email != in.Email {
		u.Email = in.Email
		changed = append(changed, "email")
	}
	if in.Name != "" && u.Name != in.Name {
		u.Name = in.Name
		changed = append(changed, "name")
	}
	if !slices.Equal(u.Groups, in.Groups) {
		u.Groups = in.Groups
		changed = append(changed, "groups")
	}
	if in.MakeAdmin && !u.IsAdmin {
		u.IsAdmin = true
		changed = append(changed, "is_admin")
	}
	if in.MakeAuditor && !u.IsAuditor {
		u.IsAuditor = true
		changed = append(changed, "is_auditor")
	}
	if len(changed) == 0 {
		return u, nil
	}
	// Only the changed columns are written, so a concurrent change to
	// another column (an admin disabling the user, say) is not undone.
	err := w.db.Model(u).Select(append(changed, "updated_at")).Updates(u).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// (provider, subject) was looked up first, so only email can clash.
		return nil, &ConflictError{Field: "email", Message: "is already used by another user"}
	}
	if err != nil {
		return nil, err
	}
	return u, w.recordUserUpdate(&before, u)
}
