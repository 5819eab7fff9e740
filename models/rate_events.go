package models

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"gorm.io/gorm"
)

// Rate events are what the sliding-window limits count: a failed sign-in
// against an account or an address, a dynamic client registration from
// an address. They live in the database, so every process sharing it
// counts the same events. With N replicas a key gets its limit once, not
// N times, and a restart forgets nothing.
//
// The table keeps the name migration 11 gave it, sign_in_failures, from
// when it counted sign-ins alone. Renaming it would break a rolling
// upgrade. Replicas not yet upgraded keep running on the migrated
// database, and every sign-in they throttle would fail on the missing
// table until they were replaced.

// Scopes of the keys rate events count against. Each scope is one
// limit's events: the same key in two scopes is two keys.
const (
	SignInScopeAccount       = "account"      // failed sign-ins, by the email typed, lowercased
	SignInScopeAddress       = "address"      // failed sign-ins, by client address
	RegistrationScopeAddress = "registration" // dynamic client registrations, by client address
)

// rateEventKeep is the longest any key's events stay, whoever sweeps.
// TakeRateEvent deletes that key's older rows as it adds one, so a key
// that keeps trying for days has a bounded number of rows even where
// no sweep runs. The limits look back minutes, not hours.
const rateEventKeep = 24 * time.Hour

// rateEvent is one event counted against a key. See signInFailureV11.
type rateEvent struct {
	ID      uint64
	Scope   string
	KeyHash string
	At      time.Time
}

func (rateEvent) TableName() string { return "sign_in_failures" }

// rateKeyHash is what the store keeps of a key: its keyed hash (see
// Cipher.KeyedHash). A mistyped email, a password typed into the email
// field or a client's address is neither kept in clear nor recoverable
// by guessing. The purpose string is older than the other scopes. It
// stays so that rows written before them still match their keys.
func (s *Store) rateKeyHash(key string) string {
	return s.cipher.KeyedHash("sign-in failure", key)
}

// checkRateScope adds to v a problem with scope, if no limit uses it.
func checkRateScope(v *ValidationError, scope string) {
	switch scope {
	case SignInScopeAccount, SignInScopeAddress, RegistrationScopeAddress:
		return
	}
	v.Add("scope", fmt.Sprintf("must be %q, %q or %q", SignInScopeAccount, SignInScopeAddress, RegistrationScopeAddress))
}

// validateRateScope refuses a scope no limit uses, as a *ValidationError.
func validateRateScope(scope string) error {
	var v ValidationError
	checkRateScope(&v, scope)
	return v.Err()
}

// RateLimit caps one scope's events: at most Limit per key within any
// Window.
type RateLimit struct {
	Scope  string
	Limit  int
	Window time.Duration
}

// validate reports each bad field of l as a *ValidationError.
func (l RateLimit) validate() error {
	var v ValidationError
	checkRateScope(&v, l.Scope)
	if l.Limit < 1 {
		v.Add("limit", "must be at least 1")
	}
	if l.Window <= 0 {
		v.Add("window", "must be positive")
	}
	return v.Err()
}

// RateTake is what TakeRateEvent decided.
type RateTake struct {
	// ID is the event recorded, for ForgetRateEvent; 0 when refused.
	ID      uint64
	Allowed bool
	// RetryAfter, when refused, is how long until the oldest event in
	// the window leaves it.
	RetryAfter time.Duration
}

// TakeRateEvent records an event against key at at if key has fewer
// than l.Limit events in the l.Window up to at, and refuses it if not.
// The count and the record are one step that no other process can come
// between, so of requests sent together across every replica, only
// l.Limit pass. On SQLite the transaction holds the database's write lock
// from its start. On PostgreSQL it holds an advisory lock for the key (see
// lockRateKey). In the same transaction it deletes the key's events older
// than a day.
func (s *Store) TakeRateEvent(ctx context.Context, l RateLimit, key string, at time.Time) (RateTake, error) {
	var take RateTake
	err := l.validate()
	if err == nil {
		row := &rateEvent{Scope: l.Scope, KeyHash: s.rateKeyHash(key), At: dbTime(at)}
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := lockRateKey(tx, row.Scope, row.KeyHash); err != nil {
				return err
			}
			if err := tx.Where("scope = ? AND key_hash = ? AND at < ?", row.Scope, row.KeyHash, row.At.Add(-rateEventKeep)).
				Delete(&rateEvent{}).Error; err != nil {
				return err
			}
			n, oldest, err := countRateEvents(tx, row.Scope, row.KeyHash, row.At.Add(-l.Window))
			if err != nil {
				return err
			}
			if n >= l.Limit {
				take = RateTake{RetryAfter: max(oldest.Add(l.Window).Sub(row.At), 0)}
				return nil
			}
			if err := tx.Create(row).Error; err != nil {
				return err
			}
			take = RateTake{ID: row.ID, Allowed: true}
			return nil
		})
	}
	if err != nil {
		return RateTake{}, fmt.Errorf("models: take a %s rate event: %w", l.Scope, err)
	}
	return take, nil
}

// rateLockClass is the first of the two keys of the advisory lock that
// TakeRateEvent holds per key: "DBRE" in ASCII. PostgreSQL keeps locks
// named by two 32-bit keys apart from those named by one 64-bit key,
// like locks.go's, so the two sets cannot collide.
const rateLockClass int32 = 0x4442_5245

// lockRateKey makes tx the only transaction taking an event for the key
// with the keyed hash hash in scope, until it commits or rolls back. It
// does nothing on SQLite, where tx already runs alone. The lock's second
// key is 32 bits of scope and hash. Two keys that share those bits wait on
// each other, which costs a moment and breaks nothing.
func lockRateKey(tx *gorm.DB, scope, hash string) error {
	if !isPostgres(tx) {
		return nil
	}
	h := fnv.New32a()
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(hash))
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?, ?)", rateLockClass, int32(h.Sum32())).Error; err != nil {
		return fmt.Errorf("take the rate lock: %w", err)
	}
	return nil
}

// ForgetRateEvent deletes the event TakeRateEvent returned id for. An
// event that is already gone is no error. Sign-in takes each attempt as
// failed before it checks the password, and forgets it if it was not.
func (s *Store) ForgetRateEvent(ctx context.Context, id uint64) error {
	if err := s.db.WithContext(ctx).Where("id = ?", id).Delete(&rateEvent{}).Error; err != nil {
		return fmt.Errorf("models: forget rate event %d: %w", id, err)
	}
	return nil
}

// rateEventsSQL counts a key's events since a time and finds the oldest,
// each in a walk of the key's range of the (scope, key_hash, at) index,
// which is in at order: no sort. at is selected as the column, not as
// MIN(at), so that SQLite's driver reads it as a time, not as text.
const rateEventsSQL = `SELECT at, (SELECT COUNT(*) FROM sign_in_failures
		WHERE scope = @scope AND key_hash = @key AND at >= @since) AS count
	FROM sign_in_failures WHERE scope = @scope AND key_hash = @key AND at >= @since
	ORDER BY at LIMIT 1`

// countRateEvents runs rateEventsSQL on db for the key with the keyed
// hash hash. It returns the zero time as oldest when there are none.
func countRateEvents(db *gorm.DB, scope, hash string, since time.Time) (count int, oldest time.Time, err error) {
	var rows []struct {
		At    time.Time
		Count int
	}
	err = db.Raw(rateEventsSQL, map[string]any{"scope": scope, "key": hash, "since": dbTime(since)}).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return 0, time.Time{}, err
	}
	return rows[0].Count, rows[0].At, nil
}

// CountRateEvents counts the events recorded against key at or after
// since, and returns the oldest of them (the zero time when there are
// none).
func (s *Store) CountRateEvents(ctx context.Context, scope, key string, since time.Time) (count int, oldest time.Time, err error) {
	err = validateRateScope(scope)
	if err == nil {
		count, oldest, err = countRateEvents(s.db.WithContext(ctx), scope, s.rateKeyHash(key), since)
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("models: count %s rate events: %w", scope, err)
	}
	return count, oldest, nil
}

// ClearRateEvents forgets every event recorded against key, as after a
// successful sign-in.
func (s *Store) ClearRateEvents(ctx context.Context, scope, key string) error {
	err := validateRateScope(scope)
	if err == nil {
		err = s.db.WithContext(ctx).Where("scope = ? AND key_hash = ?", scope, s.rateKeyHash(key)).
			Delete(&rateEvent{}).Error
	}
	if err != nil {
		return fmt.Errorf("models: clear %s rate events: %w", scope, err)
	}
	return nil
}

// DeleteRateEventsBefore deletes every event recorded before t, whatever
// its scope or key, and returns how many. A background sweep calls it
// with a cutoff past every limit's window.
func (s *Store) DeleteRateEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("at < ?", dbTime(t)).Delete(&rateEvent{})
	if res.Error != nil {
		return 0, fmt.Errorf("models: delete rate events before %s: %w", t.UTC().Format(time.RFC3339), res.Error)
	}
	return res.RowsAffected, nil
}
