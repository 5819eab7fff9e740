package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// UpstreamAuthState is one pending Connect flow: a user sent to an
// upstream app's authorization page, until the provider sends the browser
// back with the state. It is used once (TakeUpstreamAuthState), or
// expires.
type UpstreamAuthState struct {
	ID          uint
	StateHash   string // HashToken(state); unique
	UserID      uint
	AppID       uint
	RouteID     *uint  // the route the user was connecting for, if any; nil once that route is deleted
	SessionHash string // HashToken of a secret of the browser session that started the flow
	RedirectURL string // where the browser goes afterwards; the caller validated it
	// CodeVerifier is the PKCE verifier, sealed at rest (column
	// code_verifier_sealed, the AAD naming the state hash); "" without
	// PKCE.
	CodeVerifier string `gorm:"-"`
	ExpiresAt    time.Time
	CreatedAt    time.Time
}

// TableName names the table.
func (UpstreamAuthState) TableName() string { return "upstream_auth_states" }

// authStateRow is an auth state as its table holds it.
type authStateRow struct {
	UpstreamAuthState
	CodeVerifierSealed string `gorm:"column:code_verifier_sealed"`
}

// codeVerifierAAD binds a sealed verifier to its row, named by its state
// hash, which is known before the insert and unique.
func codeVerifierAAD(stateHash string) string {
	return "upstream_auth_states.code_verifier_sealed:" + stateHash
}

// pkceVerifierAlphabet is RFC 7636's unreserved characters.
const pkceVerifierAlphabet = base64URLAlphabet + ".~"

// validate reports every structural problem with st, as a
// *ValidationError.
func (st *UpstreamAuthState) validate() error {
	var v ValidationError
	validateHash(&v, "state_hash", st.StateHash)
	if st.UserID == 0 {
		v.Add("user_id", "is required")
	}
	if st.AppID == 0 {
		v.Add("app_id", "is required")
	}
	if st.RouteID != nil && *st.RouteID == 0 {
		v.Add("route_id", "must name a route, or be unset")
	}
	validateHash(&v, "session_hash", st.SessionHash)
	if st.RedirectURL == "" {
		v.Add("redirect_url", "is required")
	}
	validateMaxLen(&v, "redirect_url", st.RedirectURL, maxURLLen)
	if n := len(st.CodeVerifier); n > 0 && (n < 43 || n > 128 || strings.Trim(st.CodeVerifier, pkceVerifierAlphabet) != "") {
		v.Add("code_verifier", "must be 43 to 128 characters of A-Z, a-z, 0-9, -, ., _ and ~ (RFC 7636)")
	}
	if st.ExpiresAt.IsZero() {
		v.Add("expires_at", "is required")
	}
	return v.Err()
}

// CreateUpstreamAuthState validates st and stores it, its code verifier
// sealed, filling in its ID and CreatedAt; it also deletes the states
// that have expired, so the table holds only live flows. Invalid input
// is a *ValidationError; an unknown user, app or route is ErrNotFound; a
// state hash already stored is ErrConflict.
func (s *Store) CreateUpstreamAuthState(ctx context.Context, st *UpstreamAuthState) error {
	err := st.validate()
	if err == nil {
		err = s.createAuthState(ctx, st)
	}
	if err != nil {
		return fmt.Errorf("models: create upstream auth state: %w", err)
	}
	return nil
}

func (s *Store) createAuthState(ctx context.Context, st *UpstreamAuthState) error {
	row := authStateRow{UpstreamAuthState: *st}
	if st.CodeVerifier != "" {
		sealed, err := s.cipher.Encrypt([]byte(st.CodeVerifier), codeVerifierAAD(st.StateHash))
		if err != nil {
			return err
		}
		row.CodeVerifierSealed = sealed
	}
	at := now()
	row.ID, row.ExpiresAt, row.CreatedAt = 0, dbTime(st.ExpiresAt), at
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("expires_at <= ?", at).Delete(&UpstreamAuthState{}).Error; err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return refsDBError(err, "user, upstream app or route")
	}
	st.ID, st.ExpiresAt, st.CreatedAt = row.ID, row.ExpiresAt, row.CreatedAt
	return nil
}

// TakeUpstreamAuthState deletes the state whose hash is stateHash and
// returns it, code verifier decrypted: a state serves one callback, even
// when two arrive at once. An unknown state is ErrNotFound, and so is one
// expired at now, which is deleted all the same.
func (s *Store) TakeUpstreamAuthState(ctx context.Context, stateHash string, now time.Time) (*UpstreamAuthState, error) {
	var row authStateRow
	err := takeOnce(s.db.WithContext(ctx), &row, &row.ExpiresAt, now, "state_hash = ?", stateHash)
	if err == nil && row.CodeVerifierSealed != "" {
		var verifier []byte
		verifier, err = s.cipher.Decrypt(row.CodeVerifierSealed, codeVerifierAAD(row.StateHash))
		if err != nil {
			err = fmt.Errorf("upstream auth state %d: code verifier: %w", row.ID, err)
		}
		row.CodeVerifier = string(verifier)
	}
	if err != nil {
		return nil, fmt.Errorf("models: take upstream auth state: %w", err)
	}
	return &row.UpstreamAuthState, nil
}

// takeOnce loads into row the one row query selects and deletes it, in
// one transaction. expiresAt points at row's expiry: a row expired at now
// is deleted too, but is ErrNotFound.
func takeOnce(db *gorm.DB, row any, expiresAt *time.Time, now time.Time, query string, args ...any) error {
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Where(query, args...).Take(row).Error; err != nil {
			return dbError(err)
		}
		// The delete, not the read above, decides who takes the row: on
		// a database that lets two transactions read it, only one of
		// them deletes it.
		res := tx.Delete(row)
		if res.Error == nil && res.RowsAffected != 1 {
			return ErrNotFound
		}
		return res.Error
	})
	if err == nil && expired(*expiresAt, dbTime(now)) {
		err = fmt.Errorf("%w: expired", ErrNotFound)
	}
	return err
}
