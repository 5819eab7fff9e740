package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/web"
)

// On PostgreSQL several replicas share one database, each with a data
// directory of its own, if any. A sign-in that starts on one replica and
// ends on another needs one session key, and a token one signs and
// another verifies needs one set of signing keys: those keys live in the
// database (models.SharedKey), sealed with the encryption keys, which
// whoever runs the replicas gives each of them alike. The first replica
// to start makes the session and signing keys; keys set in the
// environment still win, as everywhere.

// The names of the keys in the database.
const (
	sharedSessionKey = "session"
	sharedSigningKey = "signing"
)

// sharesKeys reports whether the session and signing keys of cfg's
// deployment live in its database rather than in the data directory.
func sharesKeys(cfg web.Config) bool { return cfg.Database.Driver == "postgres" }

// sharedKeys reads the session and signing keys from the environment
// when set there, and otherwise from the database, making those the
// database does not have yet.
func sharedKeys(ctx context.Context, store *models.Store, env environment) (web.Keys, error) {
	session, err := sharedKey(ctx, store, env, envSessionKey, sharedSessionKey, newSessionKey)
	if err != nil {
		return web.Keys{}, err
	}
	signing, err := sharedKey(ctx, store, env, envSigningKey, sharedSigningKey, newSigningKeyPEM)
	if err != nil {
		return web.Keys{}, err
	}
	return parseKeys(session, signing)
}

// sharedKey returns the environment variable envName when set, and
// otherwise the database's key name, which generate makes if need be.
func sharedKey(ctx context.Context, store *models.Store, env environment, envName, name string, generate func() ([]byte, error)) ([]byte, error) {
	if v := env.get(envName); v != "" {
		return []byte(v), nil
	}
	b, err := store.SharedKey(ctx, name, generate)
	if err != nil {
		return nil, encryptionKeysError(err)
	}
	return b, nil
}

// rotateSharedSigningKey replaces the signing keys in the database with
// what rotate makes of them. The store holds the key's row meanwhile,
// as the key lock does the file: two rotations at once must not lose
// each other's keys. The same transaction bumps the configuration
// version and announces it, and every replica re-reads its keys.
func rotateSharedSigningKey(ctx context.Context, f configFlags, env environment, sio stdio, rotate func([]byte) ([]byte, error)) error {
	be, err := openBackend(ctx, f, env, sio.err) // makes the keys on a first start
	if err != nil {
		return err
	}
	defer be.Close()
	err = be.store.UpdateSharedKey(ctx, sharedSigningKey, func(b []byte) ([]byte, error) {
		if b == nil {
			return nil, errors.New("the database has no signing key")
		}
		b, err := rotate(b)
		if err != nil {
			return nil, fmt.Errorf("the database's signing keys: %w", err)
		}
		return b, nil
	})
	return encryptionKeysError(err)
}

// generateEncryptionKey is `drawbridge keys generate encryption`: a new
// key as DRAWBRIDGE_ENCRYPTION_KEY holds it, which an encryption.keys
// line may also be.
func generateEncryptionKey(sio stdio) error {
	line, err := newEncryptionKeyLine()
	if err != nil {
		return err
	}
	k, _, err := encryptionKeyLine(string(line))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(sio.out, "%s:%s\n", k.ID, base64.StdEncoding.EncodeToString(k.Secret))
	return err
}

// replicaCipher reads the encryption keys from the environment or the
// data directory, as loadKeys does, but never makes one: a replica that
// made its own would seal secrets no other replica opens.
func replicaCipher(dir string, env environment) (*models.Cipher, error) {
	if v := env.get(envEncryptionKey); v != "" {
		return parseEncryptionKeys([]byte(strings.ReplaceAll(v, ",", "\n")))
	}
	path := filepath.Join(dir, encryptionKeyFile)
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no encryption key: with database.driver postgres, every replica needs the same encryption keys, "+
			"so Drawbridge does not make one up. Make one with `drawbridge keys generate encryption` and give it to every replica "+
			"in %s (or in the data directory's %s, here %s)", envEncryptionKey, encryptionKeyFile, path)
	}
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	b, err := readKeyFile(path, info, envEncryptionKey)
	if err != nil {
		return nil, err
	}
	c, err := parseEncryptionKeys(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// encryptionKeysDiffer is what a process says when its encryption keys
// do not open what the database holds sealed.
const encryptionKeysDiffer = "the encryption keys of this process cannot open this database's secrets: " +
	"every replica needs the same encryption keys (" + envEncryptionKey + " or the data directory's " + encryptionKeyFile + ")"

// encryptionKeysError turns a *models.EncryptionKeysError in err into
// encryptionKeysDiffer, with the ids of the keys on either side; any
// other error is returned as it is.
func encryptionKeysError(err error) error {
	var ke *models.EncryptionKeysError
	if !errors.As(err, &ke) {
		return err
	}
	have := strings.Join(ke.Have, ", ")
	if slices.Contains(ke.Have, ke.SealedWith) {
		return fmt.Errorf("%s; %s is sealed with a key named %s, and this process's key of that name is another one",
			encryptionKeysDiffer, ke.What, ke.SealedWith)
	}
	return fmt.Errorf("%s; %s is sealed with key %s, and this process has %s", encryptionKeysDiffer, ke.What, ke.SealedWith, have)
}
