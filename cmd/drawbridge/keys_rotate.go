package main

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
	"github.com/drawbridge/drawbridge/web"
)

const keysUsage = `Usage: drawbridge keys <command> [flags]

Commands:
  list                show the ids of the signing and encryption keys (never the keys)
  generate encryption print a new encryption key, "<id>:<base64>", for DRAWBRIDGE_ENCRYPTION_KEY
                      or encryption.keys: on PostgreSQL, give every replica the same keys
  rotate signing      make a new signing key; the previous one keeps verifying
                      for 2 hours (--drop-old: not at all, when it may have leaked)
  rotate encryption   add a new encryption key and re-encrypt every stored secret
                      with it (--drop-old: then remove the keys no secret uses;
                      stop Drawbridge first)
  reencrypt           re-encrypt every stored secret with the newest configured key,
                      after adding one to DRAWBRIDGE_ENCRYPTION_KEY

A running Drawbridge (on PostgreSQL, every replica) picks up a new signing key
within a second, without a restart. It reads the encryption keys when it starts:
restart it after rotating those.
Every command but generate also takes --config, --data-dir and the other serve flags.
`

// keysCommand is `drawbridge keys`.
func keysCommand(ctx context.Context, args []string, env environment, sio stdio) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	if (sub == "rotate" || sub == "generate") && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = sub+" "+args[0], args[1:]
	}
	switch sub {
	case "list", "reencrypt", "rotate signing", "rotate encryption":
	case "generate encryption":
		fs := newFlagSet("keys "+sub, sio.err)
		fs.Usage = func() { fmt.Fprint(fs.Output(), keysUsage) }
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		return generateEncryptionKey(sio)
	default:
		fmt.Fprint(sio.err, keysUsage)
		switch sub {
		case "":
			return errors.New("keys: a command is required")
		case "rotate":
			return errors.New("keys rotate: which key? signing or encryption")
		case "generate":
			return errors.New("keys generate: which key? encryption")
		}
		return fmt.Errorf("keys: unknown command %q", sub)
	}
	var f configFlags
	fs := newFlagSet("keys "+sub, sio.err)
	fs.Usage = func() { fmt.Fprint(fs.Output(), keysUsage+"\nFlags:\n"); fs.PrintDefaults() }
	f.register(fs)
	dropOld := new(bool)
	if strings.HasPrefix(sub, "rotate ") {
		fs.BoolVar(dropOld, "drop-old", false, "remove the previous keys at once (see above)")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch sub {
	case "list":
		return listKeys(ctx, f, env, sio)
	case "reencrypt":
		return reencryptSecrets(ctx, f, env, sio)
	}
	cfg, err := loadConfig(f, env)
	if err != nil {
		return err
	}
	if sub == "rotate signing" {
		return rotateSigning(ctx, f, cfg, env, *dropOld, sio)
	}
	return rotateEncryption(ctx, f, cfg, env, *dropOld, sio)
}

// rotateSigning makes a new current signing key and retires the current
// one, dropping retired keys that no longer verify: in signing.pem, or
// on PostgreSQL in the database the replicas share. Either way it bumps
// the configuration version, which makes every running Drawbridge
// re-read its signing keys.
func rotateSigning(ctx context.Context, f configFlags, cfg web.Config, env environment, dropOld bool, sio stdio) error {
	if env.get(envSigningKey) != "" {
		return fmt.Errorf("keys rotate signing: the signing key comes from %s: rotate it there, then restart Drawbridge. "+
			"Put a new key first and the current one after it, retired: add the line \"%s: <now, RFC 3339>\" and a blank line "+
			"after its BEGIN line. It keeps verifying for %s after that time", envSigningKey, retiredAtHeader, hours(retiredKeyVerifies))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	var (
		old     signingKeys
		dropped []retiredKey
	)
	rotate := func(b []byte) ([]byte, error) {
		var err error
		if old, err = parseSigningKeys(b); err != nil {
			return nil, err
		}
		var next signingKeys
		next, dropped = old.rotate(key, time.Now(), dropOld)
		return next.encode()
	}
	running := "A running Drawbridge"
	if sharesKeys(cfg) {
		running = "Every running replica"
		err = rotateSharedSigningKey(ctx, f, env, sio, rotate) // bumps the version with the key
	} else if err = rotateSigningKeyFile(cfg.Server.DataDir, rotate); err == nil {
		err = announceKeyFile(ctx, f, cfg, env, sio)
	}
	if err != nil {
		return err
	}
	newID, oldID := signingKeyID(key), signingKeyID(old.current)
	if dropOld {
		older := " is"
		if len(dropped) > 0 {
			older = fmt.Sprintf(" and %d older retired %s are", len(dropped), plural(len(dropped), "key", "keys"))
		}
		fmt.Fprintf(sio.out, "Rotated the signing key: new key id %s. The previous key (id %s)%s dropped.\n"+
			"%s switches to the new key within a second, without a restart: tokens the dropped keys signed are refused from then on.\n",
			newID, oldID, older, running)
		return nil
	}
	fmt.Fprintf(sio.out, "Rotated the signing key: new key id %s, the previous key (id %s) keeps verifying for %s.\n"+
		"%s signs with the new key within a second, without a restart.\n",
		newID, oldID, hours(retiredKeyVerifies), running)
	if len(dropped) > 0 {
		fmt.Fprintf(sio.out, "Dropped %d %s retired more than %s ago.\n", len(dropped), plural(len(dropped), "key", "keys"), hours(retiredKeyVerifies))
	}
	return nil
}

// rotateSigningKeyFile replaces signing.pem in the data directory dir
// with what rotate makes of it, under the directory's key lock.
func rotateSigningKeyFile(dir string, rotate func([]byte) ([]byte, error)) error {
	path, unlock, err := lockKeyFile(dir, signingKeyFile)
	if err != nil {
		return err
	}
	defer unlock()
	b, err := readExistingKeyFile(path, envSigningKey)
	if err != nil {
		return err
	}
	data, err := rotate(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return writeKeyFile(path, data)
}

// announceKeyFile bumps the configuration version of the SQLite database
// next to a rotated signing.pem: a running Drawbridge polls the version,
// and re-reads its keys when it moves. A data directory without a
// database has nothing running on it to tell.
func announceKeyFile(ctx context.Context, f configFlags, cfg web.Config, env environment, sio stdio) error {
	if cfg.Database.DSN == "" {
		if _, err := os.Stat(filepath.Join(cfg.Server.DataDir, databaseFile)); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	notRead := func(err error) error {
		return fmt.Errorf("the new signing key is in %s, but a running Drawbridge cannot be told to read it (%w): "+
			"restart it to sign with the new key", filepath.Join(cfg.Server.DataDir, signingKeyFile), err)
	}
	be, err := openBackend(ctx, f, env, sio.err)
	if err != nil {
		return notRead(err)
	}
	defer be.Close()
	if err := be.store.BumpConfigVersion(ctx); err != nil {
		return notRead(err)
	}
	return nil
}

// rotate returns ks with next as the current key and the current one
// retired at now, without the retired keys that no longer verify (with
// dropOld, without any), and the keys it dropped.
func (ks signingKeys) rotate(next *ecdsa.PrivateKey, now time.Time, dropOld bool) (signingKeys, []retiredKey) {
	out := signingKeys{current: next}
	if dropOld {
		return out, ks.retired
	}
	out.retired = []retiredKey{{key: ks.current, at: now}}
	var dropped []retiredKey
	for _, r := range ks.retired {
		if now.Sub(r.at) < retiredKeyVerifies {
			out.retired = append(out.retired, r)
		} else {
			dropped = append(dropped, r)
		}
	}
	return out, dropped
}

// signingKeyID is the kid tokens signed by k carry: its RFC 7638
// thumbprint.
func signingKeyID(k *ecdsa.PrivateKey) string {
	ks, err := token.NewKeySet(k)
	if err != nil {
		return "(invalid key: " + err.Error() + ")"
	}
	return ks.KeyID()
}

// rotateEncryption appends a new encryption key to encryption.keys, making
// it current, and re-encrypts every stored secret with it. The file is
// written before the database: the other way round, a crash in between
// would leave secrets sealed with a key nowhere on disk.
func rotateEncryption(ctx context.Context, f configFlags, cfg web.Config, env environment, dropOld bool, sio stdio) error {
	if env.get(envEncryptionKey) != "" {
		return fmt.Errorf("keys rotate encryption: the encryption keys come from %s: rotate them there. "+
			"Make a key with `drawbridge keys generate encryption`; add it first in the list (it then only decrypts) and restart "+
			"every Drawbridge; run `drawbridge keys reencrypt` with it last; restart every Drawbridge with it last; "+
			"remove the old key once `drawbridge keys list` shows no secret uses it", envEncryptionKey)
	}
	path, unlock, err := lockKeyFile(cfg.Server.DataDir, encryptionKeyFile)
	if err != nil {
		return err
	}
	defer unlock()
	b, err := readExistingKeyFile(path, envEncryptionKey)
	if err != nil {
		return err
	}
	older, err := encryptionKeys(b)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	line, err := newEncryptionKeyLine()
	if err != nil {
		return err
	}
	added, _, err := encryptionKeyLine(string(line))
	if err != nil {
		return err
	}
	for _, k := range older {
		if k.ID == added.ID {
			return fmt.Errorf("keys rotate encryption: the new key's id %s is already in %s; run the command again", added.ID, path)
		}
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	b = append(b, line...)
	if err := writeKeyFile(path, b); err != nil {
		return err
	}

	// Nothing is re-encrypted yet when this fails: the new key is current
	// and the old ones still decrypt, so a retry is all it takes.
	retry := func(err error) error {
		return fmt.Errorf("%w\nThe new key %s is in %s, and current. Fix the above (a secret that does not decrypt: "+
			"set it again, in the console or with apply), then run `drawbridge keys reencrypt`", err, added.ID, path)
	}
	be, err := openBackendWith(ctx, f, env, sio.err, true)
	if err != nil {
		return retry(err)
	}
	defer be.Close()
	n, err := be.store.ReencryptSecrets(ctx)
	if err != nil {
		return retry(err)
	}
	fmt.Fprintf(sio.out, "Added the encryption key %s and re-encrypted %d stored %s with it.\n", added.ID, n, plural(n, "secret", "secrets"))
	fmt.Fprintln(sio.out, "Restart Drawbridge now: until it restarts it cannot read secrets sealed with the new key.")
	if sharesKeys(cfg) {
		fmt.Fprintf(sio.out, "Every replica needs the new key: add it (the last line of %s) to each one's %s or %s before it restarts; "+
			"one without it refuses to start.\n", path, encryptionKeyFile, envEncryptionKey)
	}
	if !dropOld {
		fmt.Fprintf(sio.out, "Once every Drawbridge that uses this database runs with the new key, remove the older %s (%s) from %s.\n",
			plural(len(older), "key", "keys"), keyIDs(older), path)
		return nil
	}
	return dropUnusedKeys(ctx, be, path, b, older, sio)
}

// dropUnusedKeys removes from the key file b at path those of older that
// no stored secret names any more. A secret that does still name one was
// written by a Drawbridge still running with the old key, after the
// re-encryption: that key stays.
func dropUnusedKeys(ctx context.Context, be *backend, path string, b []byte, older []models.Key, sio stdio) error {
	inUse, err := be.store.SecretKeyIDs(ctx)
	if err != nil {
		return err
	}
	var drop, kept []models.Key
	for _, k := range older {
		if inUse[k.ID] > 0 {
			kept = append(kept, k)
		} else {
			drop = append(drop, k)
		}
	}
	if len(drop) > 0 {
		if err := writeKeyFile(path, withoutEncryptionKeys(b, drop)); err != nil {
			return err
		}
		fmt.Fprintf(sio.out, "Removed the %s no stored secret uses: %s.\n", plural(len(drop), "key", "keys"), keyIDs(drop))
	}
	if len(kept) > 0 {
		fmt.Fprintf(sio.out, "Kept %s: stored secrets still use %s, written since by a Drawbridge still running with the old key. "+
			"Restart every Drawbridge, then run `drawbridge keys reencrypt`.\n", keyIDs(kept), plural(len(kept), "it", "them"))
	}
	return nil
}

// withoutEncryptionKeys returns the key file b without the lines of drop,
// comments and the other keys untouched.
func withoutEncryptionKeys(b []byte, drop []models.Key) []byte {
	var out []byte
	for _, line := range strings.SplitAfter(string(b), "\n") {
		k, ok, err := encryptionKeyLine(line)
		if err == nil && ok && slices.ContainsFunc(drop, func(d models.Key) bool { return d.ID == k.ID }) {
			continue
		}
		out = append(out, line...)
	}
	return out
}

func keyIDs(keys []models.Key) string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return strings.Join(ids, ", ")
}

// reencryptSecrets is `drawbridge keys reencrypt`: after a key was added
// where the command cannot add it (the environment), it re-encrypts every
// stored secret with the newest key.
func reencryptSecrets(ctx context.Context, f configFlags, env environment, sio stdio) error {
	be, err := openBackendWith(ctx, f, env, sio.err, true)
	if err != nil {
		return err
	}
	defer be.Close()
	n, err := be.store.ReencryptSecrets(ctx)
	if err != nil {
		return err
	}
	current := be.store.Cipher().CurrentKeyID()
	fmt.Fprintf(sio.out, "Re-encrypted %d stored %s with the newest key, %s.\n"+
		"Older keys can be removed once every Drawbridge that uses this database runs with %s as its newest key.\n",
		n, plural(n, "secret", "secrets"), current, current)
	return nil
}

// listKeys is `drawbridge keys list`: the id and state of every key, and
// how many stored secrets each encryption key seals, which says when an
// old one can go. Key material is never shown.
func listKeys(ctx context.Context, f configFlags, env environment, sio stdio) error {
	be, err := openBackendWith(ctx, f, env, sio.err, true) // also checks, or makes, the key files; lists mid-rotation too
	if err != nil {
		return err
	}
	defer be.Close()
	dir := be.cfg.Server.DataDir

	var (
		signing []byte
		from    string
	)
	if sharesKeys(be.cfg) && env.get(envSigningKey) == "" {
		from = "the database"
		if signing, err = be.store.SharedKey(ctx, sharedSigningKey, nil); err != nil {
			return encryptionKeysError(err)
		}
	} else if signing, from, err = keySource(env, envSigningKey, filepath.Join(dir, signingKeyFile)); err != nil {
		return err
	}
	ks, err := parseSigningKeys(signing)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(sio.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Signing keys (%s):\n  ID\tSTATUS\n", from)
	fmt.Fprintf(tw, "  %s\tcurrent\n", signingKeyID(ks.current))
	now := time.Now()
	for _, r := range ks.retired {
		age := now.Sub(r.at)
		status := fmt.Sprintf("retired %s ago, verifies for %s more", roughly(age), roughly(retiredKeyVerifies-age))
		if age >= retiredKeyVerifies {
			status = fmt.Sprintf("retired %s ago, no longer verifies (dropped at the next rotation)", roughly(age))
		}
		fmt.Fprintf(tw, "  %s\t%s\n", signingKeyID(r.key), status)
	}

	enc, from, err := keySource(env, envEncryptionKey, filepath.Join(dir, encryptionKeyFile))
	if err != nil {
		return err
	}
	if from == envEncryptionKey {
		enc = []byte(strings.ReplaceAll(string(enc), ",", "\n"))
	}
	keys, err := encryptionKeys(enc)
	if err != nil {
		return err
	}
	inUse, err := be.store.SecretKeyIDs(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(tw, "\nEncryption keys (%s):\n  ID\tSTATUS\tSECRETS\n", from)
	for i, k := range keys {
		status := "older: decrypts only"
		if i == len(keys)-1 {
			status = "current"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\n", k.ID, status, inUse[k.ID])
		delete(inUse, k.ID)
	}
	for _, id := range slices.Sorted(maps.Keys(inUse)) {
		fmt.Fprintf(tw, "  %s\tMISSING: these secrets cannot be decrypted\t%d\n", cmp.Or(id, "(not in the v1 format)"), inUse[id])
	}
	return tw.Flush()
}

// keySource returns a key from the environment variable envName when set,
// otherwise from the file at path, and says which.
func keySource(env environment, envName, path string) ([]byte, string, error) {
	if v := env.get(envName); v != "" {
		return []byte(v), envName, nil
	}
	b, err := readExistingKeyFile(path, envName)
	return b, path, err
}

// roughly spells d in whole minutes, hours or days.
func roughly(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
}

// lockKeyFile returns the path of key file name in the data directory dir
// and takes the directory's key lock. Two rotations at once would each
// write a file without the other's new key; for encryption keys, secrets
// re-encrypted with the lost key would be lost with it.
//
// The directory must exist: a rotation in a mistyped directory should
// fail, not start a new one.
func lockKeyFile(dir, name string) (path string, unlock func(), err error) {
	if _, err := os.Stat(dir); err != nil {
		return "", nil, fmt.Errorf("data directory: %w", err)
	}
	if err := prepareDataDir(dir); err != nil {
		return "", nil, err
	}
	lock := filepath.Join(dir, "keys.lock")
	f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return "", nil, fmt.Errorf("another key rotation is running in %s (%s exists; if none is, remove it)", dir, lock)
	}
	if err != nil {
		return "", nil, fmt.Errorf("lock keys: %w", err)
	}
	f.Close()
	return filepath.Join(dir, name), func() { os.Remove(lock) }, nil
}

// readExistingKeyFile reads the key file at path under the checks start
// applies, but does not create it.
func readExistingKeyFile(path, envName string) ([]byte, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: Drawbridge writes it on first start (is the data directory right?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	return readKeyFile(path, info, envName)
}

// writeKeyFile replaces path with data, mode 0600, so that a crash leaves
// either the old file or the new one: a temporary file in the same
// directory, synced, then renamed over path, and the directory synced so
// the rename itself survives a power loss.
func writeKeyFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// hours spells a whole number of hours: "2 hours".
func hours(d time.Duration) string {
	h := int(d.Hours())
	return fmt.Sprintf("%d %s", h, plural(h, "hour", "hours"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
