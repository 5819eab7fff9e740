package models

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// ProviderLocal is the Provider of users who sign in with a password.
const ProviderLocal = "local"

// Field limits checked by the user validation.
const (
	maxEmailLen    = 254
	maxNameChars   = 200
	maxProviderLen = 64
	maxSubjectLen  = 255
)

// User is a person who can sign in, locally or through an OIDC provider.
type User struct {
	ID    uint   `json:"id"`
	Email string `json:"email"` // unique; stored trimmed and lowercased
	Name  string `json:"name"`
	// PasswordHash is a HashPassword result, or "" for users who cannot
	// sign in with a password (OIDC-only).
	PasswordHash string `json:"-"`
	IsAdmin      bool   `json:"is_admin"`
	// IsAuditor lets the user read the audit log and the dashboard
	// without changing configuration.
	IsAuditor bool `json:"is_auditor"`
	Disabled  bool `json:"disabled"`
	// Provider is ProviderLocal or the name of an OIDC provider.
	Provider string `json:"provider"`
	// Subject is the OIDC subject; (Provider, Subject) is unique when set.
	Subject string   `json:"subject,omitempty"`
	Groups  []string `json:"groups" gorm:"serializer:json"`
	// SessionEpoch goes up when the password changes or the user is
	// disabled; a session that carries an older epoch is void.
	SessionEpoch int        `json:"session_epoch"`
	LastSignInAt *time.Time `json:"last_sign_in_at,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// UserFilter selects a page of users for ListUsers.
type UserFilter struct {
	// Query, when set, keeps users whose email or name contains it,
	// ignoring case.
	Query string
	// Offset skips that many users; Limit caps the page (0: no cap).
	Offset, Limit int
}

// UserCounts summarizes the users table.
type UserCounts struct {
	Total    int64 `json:"total"`
	Admins   int64 `json:"admins"`   // admins, whether disabled or not
	Disabled int64 `json:"disabled"` // disabled users, admins included
}

// NormalizeEmail returns email as the store keeps it: trimmed and
// lowercased.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// normalizeGroups trims, drops empties and duplicates, and sorts, so the
// same set of groups is always stored the same way whatever order the
// identity provider sent it in.
func normalizeGroups(groups []string) []string {
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (u *User) normalize() {
	u.Email = NormalizeEmail(u.Email)
	u.Name = strings.TrimSpace(u.Name)
	u.Provider = strings.TrimSpace(u.Provider)
	u.Subject = strings.TrimSpace(u.Subject)
	u.Groups = normalizeGroups(u.Groups)
}

// Validate reports every problem with a normalized u, as a *ValidationError.
func (u *User) Validate() error {
	var v ValidationError
	validateEmail(&v, u.Email)
	validateName(&v, u.Name)
	switch {
	case u.Provider == "":
		v.Add("provider", "is required")
	case len(u.Provider) > maxProviderLen:
		v.Add("provider", fmt.Sprintf("must be at most %d bytes", maxProviderLen))
	}
	switch {
	case u.Provider == ProviderLocal && u.Subject != "":
		v.Add("subject", "must be empty for local users")
	case len(u.Subject) > maxSubjectLen:
		v.Add("subject", fmt.Sprintf("must be at most %d bytes", maxSubjectLen))
	}
	if u.PasswordHash != "" && !isPasswordHash(u.PasswordHash) {
		v.Add("password", "must be stored as a HashPassword hash")
	}
	return v.Err()
}

func validateEmail(v *ValidationError, email string) {
	switch {
	case email == "":
		v.Add("email", "is required")
	case len(email) > maxEmailLen:
		v.Add("email", fmt.Sprintf("must be at most %d bytes", maxEmailLen))
	default:
		// ParseAddress accepts display names and angle brackets; requiring
		// the bare address back keeps only the plain name@domain form.
		addr, err := mail.ParseAddress(email)
		if err != nil || addr.Address != email || !strings.Contains(email, "@") {
			v.Add("email", "must be an address like name@example.com")
		}
	}
}

func validateName(v *ValidationError, name string) {
	if utf8.RuneCountInString(name) > maxNameChars {
		v.Add("name", fmt.Sprintf("must be at most %d characters", maxNameChars))
	}
}

// CreateUser validates u and inserts it, filling in its ID and timestamps.
// Invalid input is a *ValidationError naming every bad field; an email
// already in use, in any case, is a *ConflictError (ErrConflict).
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.createUser(u) }); err != nil {
		return fmt.Errorf("models: create user %q: %w", u.Email, err)
	}
	return nil
}

func (w *configTx) createUser(u *User) error {
	u.normalize()
	if err := u.Validate(); err != nil {
		return err
	}
	if taken, err := emailTaken(w.db, u.Email); err != nil {
		return err
	} else if taken {
		return &ConflictError{Field: "email", Message: "is already used by another user"}
	}
	if err := w.db.Create(u).Error; err != nil {
		return dbError(err)
	}
	return w.recordUserCreate(u)
}

// emailTaken reports whether a user has email. The unique index is the
// real guard; asking first lets the error name the field.
func emailTaken(tx *gorm.DB, email string) (bool, error) {
	var n int64
	err := tx.Model(&User{}).Where("lower(email) = ?", email).Count(&n).Error
	return n > 0, err
}

// GetUser returns the user with id, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id uint) (*User, error) {
	var u User
	if err := s.db.WithContext(ctx).Take(&u, id).Error; err != nil {
		return nil, fmt.Errorf("models: get user %d: %w", id, dbError(err))
	}
	return &u, nil
}

// GetUserByEmail returns the user with email, compared without regard to
// case or surrounding spaces, or ErrNotFound.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*User, error) {
	if cleanText(email) != email {
		// As typed at sign-in: no user has it, and PostgreSQL would
		// refuse it as a parameter.
		return nil, fmt.Errorf("models: get user by email %q: %w", email, ErrNotFound)
	}
	var u User
	err := s.db.WithContext(ctx).Where("lower(email) = ?", NormalizeEmail(email)).Take(&u).Error
	if err != nil {
		return nil, fmt.Errorf("models: get user by email %q: %w", email, dbError(err))
	}
	return &u, nil
}

// ListUsers returns one page of the users matching f, ordered by email,
// and how many users match f in all.
func (s *Store) ListUsers(ctx context.Context, f UserFilter) ([]User, int64, error) {
	q := s.db.WithContext(ctx).Model(&User{})
	if query := strings.ToLower(strings.TrimSpace(f.Query)); query != "" {
		pattern := "%" + escapeLike(query) + "%"
		q = q.Where(`lower(email) LIKE ? ESCAPE '\' OR lower(name) LIKE ? ESCAPE '\'`, pattern, pattern)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("models: count users: %w", err)
	}
	page := q.Order("email")
	if f.Offset > 0 {
		page = page.Offset(f.Offset)
	}
	if f.Limit > 0 {
		page = page.Limit(f.Limit)
	}
	users := []User{}
	if err := page.Find(&users).Error; err != nil {
		return nil, 0, fmt.Errorf("models: list users: %w", err)
	}
	return users, total, nil
}

// escapeLike makes s match literally inside a LIKE pattern that uses
// ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CountUsers counts all users, admins and disabled users.
func (s *Store) CountUsers(ctx context.Context) (UserCounts, error) {
	var c UserCounts
	err := s.db.WithContext(ctx).Model(&User{}).Select(
		"COUNT(*) AS total, " +
			"COALESCE(SUM(CASE WHEN is_admin THEN 1 ELSE 0 END), 0) AS admins, " +
			"COALESCE(SUM(CASE WHEN disabled THEN 1 ELSE 0 END), 0) AS disabled",
	).Scan(&c).Error
	if err != nil {
		return UserCounts{}, fmt.Errorf("models: count users: %w", err)
	}
	return c, nil
}
