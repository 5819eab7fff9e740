package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// A console session lives in its cookie, sealed: the server keeps no row
// for it. Signing out clears the cookie in the browser that signs out,
// but a copy of it, and the sessions route hosts started from it (see
// RouteSignIn), would go on working until they expired. So signing out
// also records the session as ended, by the hash of the random id its
// cookie carries: every process's snapshot of the configuration
// (EndedSessions) has it at once, since the write bumps the version they
// watch, and refuses the cookie on the console and the route hosts'
// sessions handed over from it. The
// row goes once neither could last any longer anyway.

// EndedSession is a console session signed out of before it expired.
type EndedSession struct {
	ID          uint
	SessionHash string    // HashToken of the session's id; unique
	EndedAt     time.Time // when its user signed out
	ExpiresAt   time.Time // when neither it nor the sessions handed over from it could last longer
}

// TableName names the table.
func (EndedSession) TableName() string { return "ended_sessions" }

// EndSession records that the console session whose id hashes to
// sessionHash ended at now, until expires, when it and the sessions
// handed over from it would have ended anyway; it also deletes the rows
// of sessions expired by now. Ending a session twice is no error. A
// malformed hash is a *ValidationError.
func (s *Store) EndSession(ctx context.Context, sessionHash string, now, expires time.Time) error {
	var v ValidationError
	validateHash(&v, "session_hash", sessionHash)
	if expires.IsZero() {
		v.Add("expires_at", "is required")
	}
	err := v.Err()
	if err == nil {
		err = s.revocationWrite(ctx, now, func(w *revocationTx) error {
			if err := w.db.Where("expires_at <= ?", w.now).Delete(&EndedSession{}).Error; err != nil {
				return err
			}
			if !expires.After(now) {
				return nil // over already: nothing to refuse
			}
			res := w.db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "session_hash"}}, DoNothing: true}).
				Create(&EndedSession{SessionHash: sessionHash, EndedAt: w.now, ExpiresAt: dbTime(expires)})
			w.changes += res.RowsAffected
			return res.Error
		})
	}
	if err != nil {
		return fmt.Errorf("models: end session: %w", dbError(err))
	}
	return nil
}

// EndedSessions returns the hashes of the sessions ended whose rows have
// not expired by now, for the gateway's snapshot.
func (s *Store) EndedSessions(ctx context.Context, now time.Time) ([]string, error) {
	hashes := []string{}
	err := s.db.WithContext(ctx).Model(&EndedSession{}).
		Where("expires_at > ?", dbTime(now)).Order("session_hash").Pluck("session_hash", &hashes).Error
	if err != nil {
		return nil, fmt.Errorf("models: list ended sessions: %w", err)
	}
	return hashes, nil
}
