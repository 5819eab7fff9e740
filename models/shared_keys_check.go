package models

import (
	"bytes"
	"context"
	"fmt"
)

// sharedKeyCheck names the shared key that holds the encryption check.
const sharedKeyCheck = "check"

// encryptionCheck is what the check seals: a known text, so that opening
// it proves the keys, whatever else the database holds.
var encryptionCheck = []byte("drawbridge: these encryption keys open this database's secrets")

// checkSample is how many values of each sealed column a first check
// tries (see opensStoredSecret).
const checkSample = 20

// checkEncryptionKeys makes sure the store's Cipher opens what the
// database holds sealed, before anything reads or writes a secret. A
// process with other keys would fail on every stored secret, and seal
// new ones that no other process opens: the database would end up with
// secrets under two sets of keys, each process able to read only its
// own. Open calls it, so that every process, server or command, refuses
// to go on instead.
//
// The check is encryptionCheck sealed in shared_keys: the first process
// to open the database writes it, every later one opens it, and
// ReencryptSecrets re-seals it with the rest. A database that already
// holds secrets (made before the check existed) has the first process
// prove its keys on them first, or the first process to start with the
// wrong keys would make them the ones every other must have.
//
// Opening is not enough: a process whose current key is newer than the
// one the check is sealed with (a key being rotated in, given to it
// first) would seal new secrets that processes without that key cannot
// open. Unless it is reencrypting (which re-seals the check too), it is
// refused, and told the order a rotation takes.
func (s *Store) checkEncryptionKeys(ctx context.Context, reencrypting bool) error {
	got, err := s.sharedKey(ctx, sharedKeyCheck, func() ([]byte, error) {
		return encryptionCheck, s.opensStoredSecret(ctx)
	})
	if err != nil {
		return err
	}
	if !bytes.Equal(got, encryptionCheck) {
		return fmt.Errorf("models: the encryption check holds %q, want %q", got, encryptionCheck)
	}
	var sealed []string
	if err := s.db.WithContext(ctx).Model(&sharedKey{}).Where("name = ?", sharedKeyCheck).Pluck("value", &sealed).Error; err != nil {
		return fmt.Errorf("models: read the encryption check: %w", err)
	}
	if len(sealed) != 1 {
		return fmt.Errorf("models: read the encryption check: %d rows, want 1", len(sealed))
	}
	if kid, current := sealedKeyID(sealed[0]), s.cipher.CurrentKeyID(); kid != current && !reencrypting {
		return fmt.Errorf("this process encrypts with key %q, but this database's secrets are sealed with key %q: "+
			"every process sharing it must encrypt with the same key. To rotate: give every process the new key "+
			"first in its list (it then only decrypts) and restart them; run `drawbridge keys reencrypt` with the "+
			"new key last; then restart every process with the new key last", current, kid)
	}
	return nil
}

// opensStoredSecret returns nil when the database holds no sealed value,
// or when the Cipher opens one of the first few of some sealed column;
// otherwise the *EncryptionKeysError of the first it tried. One is
// enough: a value may not open for reasons of its own (a key removed
// while a replica still sealed with it), but keys that open none are
// not this database's.
func (s *Store) opensStoredSecret(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	var first error
	for _, c := range sealedColumns {
		values, err := c.values(db, checkSample)
		if err != nil {
			return err
		}
		for _, v := range values {
			_, err := s.open(v.value, c.aad(v.idText), c.table+" "+v.idText)
			if err == nil {
				return nil
			}
			if first == nil {
				first = err
			}
		}
	}
	return first
}
