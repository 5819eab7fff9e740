package models

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// configChannel is the PostgreSQL notification channel a configuration
// change is announced on. The announcement carries nothing: a listener
// reads the version as a poll would.
const configChannel = "drawbridge_config"

// notifyConfigChange announces a change on configChannel from inside the
// transaction that bumped the version. PostgreSQL delivers a notification when,
// and only if, its transaction commits, so a listener never hears of a
// version it cannot read. Nothing on SQLite: other processes find the
// change by polling the version (see ConfigVersion).
func notifyConfigChange(tx *gorm.DB) error {
	if !isPostgres(tx) {
		return nil
	}
	if err := tx.Exec("NOTIFY " + configChannel).Error; err != nil {
		return fmt.Errorf("announce the configuration change: %w", err)
	}
	return nil
}

// Listening again after a lost connection waits this long at first,
// doubling up to the maximum.
const (
	watchRetryMin = 100 * time.Millisecond
	watchRetryMax = 5 * time.Second
)

// WatchConfig calls changed whenever a configuration change commits in
// any process sharing this database, until ctx ends. On PostgreSQL it
// holds one connection of the pool that LISTENs for the announcements
// configuration writes make, and calls changed as each arrives; it also
// calls changed after every (re)connection, since announcements made
// while it was not listening are gone. A lost connection is retried with
// backoff, each failure logged.
//
// On SQLite there are no announcements between processes, and it
// returns at once: the caller's poll of ConfigVersion is the signal.
// changed must not block.
func (s *Store) WatchConfig(ctx context.Context, log *slog.Logger, changed func()) {
	if !isPostgres(s.db) {
		return
	}
	wait := watchRetryMin
	for ctx.Err() == nil {
		start := time.Now()
		err := s.listenConfig(ctx, changed)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > watchRetryMax {
			wait = watchRetryMin // it listened a while: a fresh failure
		}
		log.Warn("models: listening for configuration changes failed; retrying", "in", wait, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, watchRetryMax)
	}
}

// listenConfig LISTENs on one pooled connection and calls changed for
// each notification until the connection fails or ctx ends.
func (s *Store) listenConfig(ctx context.Context, changed func()) error {
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("listen: a %T is not a pgx connection", dc)
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+configChannel); err != nil {
			return errors.Join(err, driver.ErrBadConn)
		}
		changed()
		for {
			if _, err := pc.WaitForNotification(ctx); err != nil {
				// The connection is listening, or broken: either way it
				// must not go back to the pool.
				return errors.Join(err, driver.ErrBadConn)
			}
			changed()
		}
	})
}
