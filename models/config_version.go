package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// configVersion is the single row whose version goes up with every
// configuration change. The proxy engine compares it with the version its
// snapshot was built from, which is how a change made by another process or
// replica reaches it.
type configVersion struct {
	ID        uint
	Version   int64
	UpdatedAt time.Time
}

// configVersionID is the primary key of the one config_versions row.
const configVersionID = 1

// ConfigVersion returns the current configuration version.
func (s *Store) ConfigVersion(ctx context.Context) (int64, error) {
	var cv configVersion
	if err := s.db.WithContext(ctx).Take(&cv, configVersionID).Error; err != nil {
		return 0, fmt.Errorf("models: get config version: %w", dbError(err))
	}
	return cv.Version, nil
}

// configTx is one configuration write in progress: the transaction, plus
// what the per-resource write functions need besides it (who is acting,
// the store's cipher and hooks) and whether anything changed so far.
//
// Each resource's write logic is a method of configTx (createRoute,
// updatePolicy, deleteUpstreamApp, …) that validates, writes and records
// its history inside w.db, and never commits or bumps the version itself.
// So a bulk write, such as applying a declarative file, can call several
// of them inside one configWrite and have them succeed or fail together,
// with one version bump at the end.
type configTx struct {
	db      *gorm.DB
	store   *Store
	actor   string
	changes int // history rows recorded so far
}

// configWrite runs fn in a transaction that also bumps the configuration
// version when fn recorded at least one change, so a reader never sees the
// change without the new version, nor the new version without the change.
// If fn fails, neither happens; if fn changed nothing (an update to the
// values already stored), the version stays where it was. Every store
// method that changes configuration (users, routes, policies, apps,
// service accounts) goes through it.
func (s *Store) configWrite(ctx context.Context, fn func(w *configTx) error) error {
	bumped := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Configuration writes check before they write: a name is free,
		// no route uses the policy, the user is not disabled, the
		// settings were as shown. They run one at a time, as SQLite runs
		// every write, so each check holds until the commit.
		if err := lockExclusive(tx, lockConfig); err != nil {
			return err
		}
		w := &configTx{db: tx, store: s, actor: actorOf(ctx)}
		if err := fn(w); err != nil {
			return err
		}
		if w.changes == 0 {
			return nil
		}
		bumped = true
		return bumpConfigVersion(tx)
	})
	s.changed(err, bumped)
	return err
}

// changed tells the OnChange hook about a committed version bump.
func (s *Store) changed(err error, bumped bool) {
	if fn := s.onChange.Load(); err == nil && bumped && fn != nil {
		(*fn)()
	}
}

// BumpConfigVersion bumps the configuration version, and announces it,
// for a change made outside the database: a signing key file rotated, which
// every process watching the version then re-reads. It records no
// history.
func (s *Store) BumpConfigVersion(ctx context.Context) error {
	err := s.db.WithContext(ctx).Transaction(bumpConfigVersion)
	s.changed(err, true)
	if err != nil {
		return fmt.Errorf("models: %w", err)
	}
	return nil
}

// bumpConfigVersion increments the version inside tx. configWrite calls
// it for configuration, revocationWrite for revocations (the proxy must
// drop a revoked token at once, but a revocation is not a change to show
// in history), UpdateSharedKey and BumpConfigVersion for keys (every
// process must re-read them); nothing else should.
func bumpConfigVersion(tx *gorm.DB) error {
	res := tx.Model(&configVersion{}).Where("id = ?", configVersionID).
		Update("version", gorm.Expr("version + 1"))
	if res.Error != nil {
		return fmt.Errorf("bump config version: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("bump config version: the config_versions row is missing")
	}
	return notifyConfigChange(tx)
}
