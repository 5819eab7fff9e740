package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/web"
)

// backend is what every subcommand that touches state opens: the config,
// the keys, and the store. Close releases it.
type backend struct {
	cfg    web.Config
	keys   web.Keys
	store  *models.Store
	logger *slog.Logger
}

func (b *backend) Close() error { return b.store.Close() }

// openBackend loads the configuration and opens the data directory and
// database it names, creating them on first start.
func openBackend(ctx context.Context, f configFlags, env environment, stderr io.Writer) (*backend, error) {
	return openBackendWith(ctx, f, env, stderr, false)
}

// openBackendWith is openBackend; reencrypting opens the database even
// when the current encryption key is not yet the one its secrets are
// sealed with, for the commands that re-seal them (see
// models.Options.Reencrypting).
func openBackendWith(ctx context.Context, f configFlags, env environment, stderr io.Writer, reencrypting bool) (*backend, error) {
	cfg, err := loadConfig(f, env)
	if err != nil {
		return nil, err
	}
	logger, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return nil, err
	}
	if err := prepareDataDir(cfg.Server.DataDir); err != nil {
		return nil, err
	}
	var (
		keys   web.Keys
		cipher *models.Cipher
	)
	if sharesKeys(cfg) {
		cipher, err = replicaCipher(cfg.Server.DataDir, env)
	} else {
		keys, cipher, err = loadKeys(cfg.Server.DataDir, env)
	}
	if err != nil {
		return nil, err
	}
	dsn := cfg.Database.DSN
	if dsn == "" {
		dsn = filepath.Join(cfg.Server.DataDir, databaseFile)
		// SQLite creates the file (and its -wal and -shm companions, which
		// copy its mode) world-readable; it holds hashes and ciphertexts,
		// so make it the owner's alone before SQLite does.
		if f, err := os.OpenFile(dsn, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
			f.Close()
		}
	}
	store, err := models.Open(ctx, web.StoreOptions(cfg, models.Options{Driver: cfg.Database.Driver, DSN: dsn, Cipher: cipher, Logger: logger, Reencrypting: reencrypting}))
	if err != nil {
		if errors.Is(err, models.ErrEncryptionKeys) {
			return nil, encryptionKeysError(err)
		}
		return nil, fmt.Errorf("open database: %w", err)
	}
	if sharesKeys(cfg) {
		// Once the store has checked the encryption keys (in Open): the
		// session and signing keys are sealed with them.
		if keys, err = sharedKeys(ctx, store, env); err != nil {
			store.Close()
			return nil, err
		}
	}
	keys.ReadSigning = signingKeyReader(cfg, env, store)
	return &backend{cfg: cfg, keys: keys, store: store, logger: logger}, nil
}

// signingKeyReader is how a running server reads its signing keys again
// after a rotation: from the database the replicas share (sealed), or
// from signing.pem (under the same checks as at start). Nil when they
// come from the environment, which does not change while it runs.
func signingKeyReader(cfg web.Config, env environment, store *models.Store) func(context.Context) (*ecdsa.PrivateKey, []*ecdsa.PublicKey, error) {
	if env.get(envSigningKey) != "" {
		return nil
	}
	read := func(context.Context) ([]byte, error) {
		return readExistingKeyFile(filepath.Join(cfg.Server.DataDir, signingKeyFile), envSigningKey)
	}
	if sharesKeys(cfg) {
		read = func(ctx context.Context) ([]byte, error) {
			b, err := store.SharedKey(ctx, sharedSigningKey, nil)
			return b, encryptionKeysError(err)
		}
	}
	return func(ctx context.Context) (*ecdsa.PrivateKey, []*ecdsa.PublicKey, error) {
		b, err := read(ctx)
		if err != nil {
			return nil, nil, err
		}
		ks, err := parseSigningKeys(b)
		if err != nil {
			return nil, nil, err
		}
		return ks.current, ks.verifying(time.Now()), nil
	}
}

func newLogger(cfg web.LogConfig, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}
