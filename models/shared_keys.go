package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Shared keys are keys every process that shares the database must hold
// alike: replicas on one PostgreSQL database sign session cookies and
// JWTs with the same keys, so that a sign-in or a token that one replica
// started, another one finishes. The store keeps them sealed with its
// Cipher, so the database alone does not give them away; the encryption
// keys are the one thing the replicas are configured with alike.

// sharedKey is one row of shared_keys: Value is sealed, with
// sharedKeyAAD(Name).
type sharedKey struct {
	Name      string `gorm:"primaryKey"`
	Value     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (sharedKey) TableName() string { return "shared_keys" }

// maxSharedKeyName is the length of shared_keys.name.
const maxSharedKeyName = 64

// sharedKeyAAD binds a sealed shared key to its name.
func sharedKeyAAD(name string) string { return "shared_keys.value:" + name }

// ErrEncryptionKeys means a sealed value does not open with the store's
// Cipher: this process runs with other encryption keys than the ones
// that sealed the database's secrets. Every *EncryptionKeysError is one.
var ErrEncryptionKeys = errors.New("sealed with encryption keys this process does not have")

// EncryptionKeysError says which sealed value did not open, the key that
// sealed it and the keys this process has (ids only, never secrets).
type EncryptionKeysError struct {
	What       string   // the value: `shared key "signing"`, `upstream_apps 3`
	SealedWith string   // the id of the key the value names
	Have       []string // the ids of the Cipher's keys, the current one first
}

// Error says what did not open and why it most likely did not.
func (e *EncryptionKeysError) Error() string {
	have := strings.Join(e.Have, ", ")
	if slices.Contains(e.Have, e.SealedWith) {
		return fmt.Sprintf("%s does not open with this process's encryption keys (%s): it is sealed with a key also named %s, "+
			"but another one (or it was altered); every replica needs the same encryption keys", e.What, have, e.SealedWith)
	}
	return fmt.Sprintf("%s does not open with this process's encryption keys (%s): it is sealed with key %q; "+
		"every replica needs the same encryption keys", e.What, have, e.SealedWith)
}

// Is makes errors.Is(err, ErrEncryptionKeys) hold for every
// *EncryptionKeysError.
func (e *EncryptionKeysError) Is(target error) bool { return target == ErrEncryptionKeys }

// open decrypts a value the store sealed with aad; one that does not
// open is an *EncryptionKeysError about what.
func (s *Store) open(sealed, aad, what string) ([]byte, error) {
	plain, err := s.cipher.Decrypt(sealed, aad)
	if err != nil {
		return nil, &EncryptionKeysError{What: what, SealedWith: sealedKeyID(sealed), Have: cipherKeyIDs(s.cipher)}
	}
	return plain, nil
}

// cipherKeyIDs returns the ids of c's keys, the current one first.
func cipherKeyIDs(c *Cipher) []string {
	ids := []string{c.current}
	for id := range c.aeads {
		if id != c.current {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids[1:])
	return ids
}

// SharedKey returns the shared key called name. When there is none yet it
// stores what generate makes, unless another process stored one first:
// of processes starting at once, each gets the key whichever insert came
// first. A key sealed with other encryption keys than the store's is an
// *EncryptionKeysError. generate may be nil, to read only: a missing key
// is then ErrNotFound.
func (s *Store) SharedKey(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	if err := checkSharedKeyName(name); err != nil {
		return nil, err
	}
	return s.sharedKey(ctx, name, generate)
}

func (s *Store) sharedKey(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	db := s.db.WithContext(ctx)
	v, err := s.readSharedKey(db, name)
	if !errors.Is(err, ErrNotFound) || generate == nil {
		return v, err
	}
	fresh, err := generate()
	if err != nil {
		return nil, fmt.Errorf("models: shared key %q: generate: %w", name, err)
	}
	sealed, err := s.cipher.Encrypt(fresh, sharedKeyAAD(name))
	if err != nil {
		return nil, fmt.Errorf("models: shared key %q: %w", name, err)
	}
	t := now()
	// A process that lost the race inserts nothing, and reads back the
	// winner's key below, like everyone else.
	err = db.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&sharedKey{Name: name, Value: sealed, CreatedAt: t, UpdatedAt: t}).Error
	if err != nil {
		return nil, fmt.Errorf("models: shared key %q: %w", name, dbError(err))
	}
	return s.readSharedKey(db, name)
}

// readSharedKey reads and opens the key called name, or ErrNotFound.
func (s *Store) readSharedKey(db *gorm.DB, name string) ([]byte, error) {
	var row sharedKey
	if err := db.Where("name = ?", name).Take(&row).Error; err != nil {
		return nil, fmt.Errorf("models: shared key %q: %w", name, dbError(err))
	}
	v, err := s.open(row.Value, sharedKeyAAD(name), sharedKeyWhat(name))
	if err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	return v, nil
}

// SetSharedKey stores value as the shared key called name, replacing the
// one there may be. To change a key from what it is (a rotation that
// keeps the previous key), use UpdateSharedKey, which cannot lose a
// change made at the same time.
func (s *Store) SetSharedKey(ctx context.Context, name string, value []byte) error {
	return s.UpdateSharedKey(ctx, name, func([]byte) ([]byte, error) { return value, nil })
}

// UpdateSharedKey replaces the shared key called name with what update
// makes of the current one (nil when there is none), in one transaction
// that holds the key's row: of two rotations at once, the second
// rotates what the first stored. The same transaction bumps the
// configuration version, announcing the change as configuration writes
// do, so every process sharing the database re-reads its keys. An error
// from update, or a current key sealed with other encryption keys than
// the store's, changes nothing.
func (s *Store) UpdateSharedKey(ctx context.Context, name string, update func(current []byte) ([]byte, error)) error {
	if err := checkSharedKeyName(name); err != nil {
		return err
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row sharedKey
		var current []byte
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("name = ?", name).Take(&row).Error
		switch {
		case err == nil:
			if current, err = s.open(row.Value, sharedKeyAAD(name), sharedKeyWhat(name)); err != nil {
				return err
			}
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		next, err := update(current)
		if err != nil {
			return err
		}
		sealed, err := s.cipher.Encrypt(next, sharedKeyAAD(name))
		if err != nil {
			return err
		}
		// An upsert: where there was no row to hold, two updates at
		// once both write, and the later one stays.
		t := now()
		err = tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "name"}},
			DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
		}).Create(&sharedKey{Name: name, Value: sealed, CreatedAt: t, UpdatedAt: t}).Error
		if err != nil {
			return err
		}
		return bumpConfigVersion(tx)
	})
	s.changed(err, true)
	if err != nil {
		return fmt.Errorf("models: update shared key %q: %w", name, err)
	}
	return nil
}

// sharedKeyWhat names the shared key name in an *EncryptionKeysError.
func sharedKeyWhat(name string) string {
	if name == sharedKeyCheck {
		return "the encryption check"
	}
	return fmt.Sprintf("shared key %q", name)
}

// checkSharedKeyName refuses a name the column cannot hold, and the
// name of the store's own encryption check.
func checkSharedKeyName(name string) error {
	switch {
	case name == "" || len(name) > maxSharedKeyName:
		return fmt.Errorf("models: shared key name %q: want 1 to %d bytes", name, maxSharedKeyName)
	case name == sharedKeyCheck:
		return fmt.Errorf("models: shared key name %q is the store's own", name)
	}
	return nil
}
