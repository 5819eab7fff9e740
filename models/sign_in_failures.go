package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Scopes of the keys sign-in throttling counts failures against.
const (
	SignInScopeAccount = "account" // the email typed, lowercased
	SignInScopeAddress = "address" // the client's IP address
)

// signInFailureKeep is how long a key's failures stay at most, whoever
// sweeps: RecordSignInFailure deletes that key's older rows as it adds
// one, so that a key guessed at for days keeps a bounded number of rows
// even where no sweep runs. Throttling looks back minutes, not hours.
const signInFailureKeep = 24 * time.Hour

// signInFailure is one failed sign-in attempt against a key. See
// signInFailureV11.
type signInFailure struct {
	ID      uint64
	Scope   string
	KeyHash string
	At      time.Time
}

func (signInFailure) TableName() string { return "sign_in_failures" }

// signInKeyHash is what the store keeps of a key: its keyed hash (see
// Cipher.KeyedHash). A mistyped email, or a password typed into the email
// field, is neither kept in clear nor recoverable by guessing.
func (s *Store) signInKeyHash(key string) string {
	return s.cipher.KeyedHash("sign-in failure", key)
}

// validateSignInScope refuses a scope the throttles do not use, as a
// *ValidationError.
func validateSignInScope(scope string) error {
	if scope != SignInScopeAccount && scope != SignInScopeAddress {
		return &ValidationError{Fields: []FieldError{{Field: "scope", Message: fmt.Sprintf("must be %q or %q", SignInScopeAccount, SignInScopeAddress)}}}
	}
	return nil
}

// RecordSignInFailure records a failed sign-in attempt against key at at,
// and, in the same transaction, deletes the key's failures older than a
// day before at. Every process sharing the database counts it. It returns
// the record's id, for ForgetSignInFailure: sign-in records each attempt
// as failed before it checks the password, and forgets it if it was not.
func (s *Store) RecordSignInFailure(ctx context.Context, scope, key string, at time.Time) (uint64, error) {
	var id uint64
	err := validateSignInScope(scope)
	if err == nil {
		row := &signInFailure{Scope: scope, KeyHash: s.signInKeyHash(key), At: dbTime(at)}
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Where("scope = ? AND key_hash = ? AND at < ?", row.Scope, row.KeyHash, row.At.Add(-signInFailureKeep)).
				Delete(&signInFailure{}).Error; err != nil {
				return err
			}
			return tx.Create(row).Error
		})
		id = row.ID
	}
	if err != nil {
		return 0, fmt.Errorf("models: record sign-in failure: %w", err)
	}
	return id, nil
}

// ForgetSignInFailure deletes the failure RecordSignInFailure returned id
// for; one already gone is no error.
func (s *Store) ForgetSignInFailure(ctx context.Context, id uint64) error {
	if err := s.db.WithContext(ctx).Where("id = ?", id).Delete(&signInFailure{}).Error; err != nil {
		return fmt.Errorf("models: forget sign-in failure %d: %w", id, err)
	}
	return nil
}

// signInFailuresSQL counts a key's failures since a time and finds the
// oldest, each in a walk of the key's range of the (scope, key_hash, at)
// index, which is in at order: no sort. at is selected as the column, not
// as MIN(at), so that SQLite's driver reads it as a time, not as text.
const signInFailuresSQL = `SELECT at, (SELECT COUNT(*) FROM sign_in_failures
		WHERE scope = @scope AND key_hash = @key AND at >= @since) AS count
	FROM sign_in_failures WHERE scope = @scope AND key_hash = @key AND at >= @since
	ORDER BY at LIMIT 1`

// SignInFailures counts the failures recorded against key at or after
// since, and returns the oldest of them (the zero time when there are
// none).
func (s *Store) SignInFailures(ctx context.Context, scope, key string, since time.Time) (count int, oldest time.Time, err error) {
	if err := validateSignInScope(scope); err != nil {
		return 0, time.Time{}, fmt.Errorf("models: count sign-in failures: %w", err)
	}
	var rows []struct {
		At    time.Time
		Count int
	}
	err = s.db.WithContext(ctx).Raw(signInFailuresSQL, map[string]any{"scope": scope, "key": s.signInKeyHash(key), "since": dbTime(since)}).
		Scan(&rows).Error
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("models: count sign-in failures: %w", err)
	}
	if len(rows) == 0 {
		return 0, time.Time{}, nil
	}
	return rows[0].Count, rows[0].At, nil
}

// ClearSignInFailures forgets every failure recorded against key, after
// a successful sign-in.
func (s *Store) ClearSignInFailures(ctx context.Context, scope, key string) error {
	err := validateSignInScope(scope)
	if err == nil {
		err = s.db.WithContext(ctx).Where("scope = ? AND key_hash = ?", scope, s.signInKeyHash(key)).
			Delete(&signInFailure{}).Error
	}
	if err != nil {
		return fmt.Errorf("models: clear sign-in failures: %w", err)
	}
	return nil
}

// DeleteSignInFailuresBefore deletes every failure, of any key, recorded
// before t, and returns how many. A background sweep calls it with a
// cutoff past any throttle's window.
func (s *Store) DeleteSignInFailuresBefore(ctx context.Context, t time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("at < ?", dbTime(t)).Delete(&signInFailure{})
	if res.Error != nil {
		return 0, fmt.Errorf("models: delete sign-in failures before %s: %w", t.UTC().Format(time.RFC3339), res.Error)
	}
	return res.RowsAffected, nil
}
