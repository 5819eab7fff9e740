package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
	"github.com/drawbridge/drawbridge/web"
)

// dataDir returns a new, empty data directory, mode 0700.
func dataDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := prepareDataDir(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// keyDir returns a data directory holding the keys first start writes.
func keyDir(t *testing.T) string {
	t.Helper()
	dir := dataDir(t)
	if _, _, err := loadKeys(dir, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pemBlocks decodes every PEM block of the file at path.
func pemBlocks(t *testing.T, path string) []*pem.Block {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []*pem.Block
	for block, rest := pem.Decode(b); block != nil; block, rest = pem.Decode(rest) {
		blocks = append(blocks, block)
	}
	return blocks
}

// assertPrivate fails t unless the key file at path is 0600 and the
// rotation left no temporary or lock file behind.
func assertPrivate(t *testing.T, path string) {
	t.Helper()
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, want mode 0600", path, info.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), ".lock") {
			t.Errorf("%s left behind", e.Name())
		}
	}
}

const testIssuer, testResource = "https://console.example.com", "https://mcp.example.com/"

func TestRotateSigningKeepsOldTokensValid(t *testing.T) {
	dir := keyDir(t)
	before, _, err := loadKeys(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	oldSet, err := token.NewKeySet(before.Signing)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := token.NewIssuer(oldSet, testIssuer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := issuer.Issue(token.Claims{Subject: "u1", Audience: testResource, ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}

	out, err := runCLI(t, "", "keys", "rotate", "signing", "--data-dir", dir)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(out, "(id "+oldSet.KeyID()+") keeps verifying for 2 hours") {
		t.Errorf("output does not name the previous key: %s", out)
	}
	if out, err = runCLI(t, "", "keys", "rotate", "signing", "--data-dir", dir); err != nil {
		t.Fatalf("%v: %s", err, out)
	}

	path := filepath.Join(dir, signingKeyFile)
	assertPrivate(t, path)
	blocks := pemBlocks(t, path)
	if len(blocks) != 3 || blocks[0].Headers[retiredAtHeader] != "" ||
		blocks[1].Headers[retiredAtHeader] == "" || blocks[2].Headers[retiredAtHeader] == "" {
		t.Fatalf("after two rotations: %d blocks, want a current key and two retired ones", len(blocks))
	}
	after, _, err := loadKeys(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after.Signing.Equal(before.Signing) || len(after.PreviousSigning) != 2 {
		t.Fatalf("after two rotations: %d previous keys, want 2 and a new current key", len(after.PreviousSigning))
	}
	if !strings.Contains(out, "new key id "+signingKeyID(after.Signing)) {
		t.Errorf("output does not name the new key: %s", out)
	}

	notRevoked := func(string) bool { return false }
	loaded, err := token.NewKeySet(after.Signing, after.PreviousSigning...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token.NewVerifier(loaded, testIssuer, token.VerifierOptions{}).Verify(raw, testResource, notRevoked); err != nil {
		t.Errorf("a token the old key signed no longer verifies: %v", err)
	}
	if jwks := servedJWKS(t, dir); !strings.Contains(jwks, oldSet.KeyID()) || !strings.Contains(jwks, signingKeyID(after.Signing)) {
		t.Errorf("the JWKS Drawbridge serves after the rotation lacks the new or the retired key: %s", jwks)
	}
	onlyNew, _ := token.NewKeySet(after.Signing)
	if _, err := token.NewVerifier(onlyNew, testIssuer, token.VerifierOptions{}).Verify(raw, testResource, notRevoked); err == nil {
		t.Error("the new key alone verifies a token the old key signed")
	}
}

// servedJWKS starts the console on data directory dir, as serve does, and
// returns the JWKS it publishes.
func servedJWKS(t *testing.T, dir string) string {
	t.Helper()
	b, err := openBackend(context.Background(), configFlags{dataDir: dir, logLevel: "error"}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv, err := web.New(web.Deps{Config: b.cfg, Keys: b.keys, Store: b.store, Logger: b.logger})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, b.cfg.Server.ConsoleURL+"/.well-known/jwks.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /.well-known/jwks.json: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestRotateSigningDropsKeysRetiredOverTwoHoursAgo(t *testing.T) {
	dir := dataDir(t)
	path := filepath.Join(dir, signingKeyFile)
	file, all := testSigningKeys(t, time.Now().Add(-3*time.Hour))
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	if keys, _, err := loadKeys(dir, nil); err != nil || len(keys.PreviousSigning) != 0 {
		t.Fatalf("loaded %d previous keys (%v), want the one retired 3 hours ago ignored", len(keys.PreviousSigning), err)
	}

	out, err := runCLI(t, "", "keys", "rotate", "signing", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "Dropped 1 key retired more than 2 hours ago") {
		t.Fatalf("%v: %s", err, out)
	}
	assertPrivate(t, path)
	b, _ := os.ReadFile(path)
	ks, err := parseSigningKeys(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.retired) != 1 || !ks.retired[0].key.Equal(all[0]) {
		t.Errorf("%d retired keys, want only the previous current one", len(ks.retired))
	}
}

func TestRotateSigningDropOld(t *testing.T) {
	dir := keyDir(t)
	for range 2 {
		if out, err := runCLI(t, "", "keys", "rotate", "signing", "--data-dir", dir); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	out, err := runCLI(t, "", "keys", "rotate", "signing", "--drop-old", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "and 2 older retired keys are dropped") {
		t.Fatalf("%v: %s", err, out)
	}
	if blocks := pemBlocks(t, filepath.Join(dir, signingKeyFile)); len(blocks) != 1 {
		t.Errorf("%d keys left, want only the new one", len(blocks))
	}
}

func TestRotateRefusals(t *testing.T) {
	pemKey, _ := newSigningKeyPEM()
	encKey := "k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	for _, tt := range []struct {
		name, what string
		env        environment
		want       string
	}{
		{"signing key from the environment", "signing", environment{envSigningKey + "=" + string(pemKey)}, envSigningKey},
		{"encryption key from the environment", "encryption", environment{envEncryptionKey + "=" + encKey}, "drawbridge keys reencrypt"},
	} {
		dir := keyDir(t)
		before, _ := os.ReadFile(filepath.Join(dir, signingKeyFile))
		beforeEnc, _ := os.ReadFile(filepath.Join(dir, encryptionKeyFile))
		_, stderr, err := runWithEnv(t, tt.env, "keys", "rotate", tt.what, "--data-dir", dir)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v (%s), want a refusal mentioning %s", tt.name, err, stderr, tt.want)
		}
		after, _ := os.ReadFile(filepath.Join(dir, signingKeyFile))
		afterEnc, _ := os.ReadFile(filepath.Join(dir, encryptionKeyFile))
		if !bytes.Equal(before, after) || !bytes.Equal(beforeEnc, afterEnc) {
			t.Errorf("%s: a key file changed", tt.name)
		}
	}

	dir := keyDir(t)
	os.WriteFile(filepath.Join(dir, "keys.lock"), nil, 0o600)
	if _, err := runCLI(t, "", "keys", "rotate", "encryption", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "another key rotation") {
		t.Errorf("with a rotation under way: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "typo")
	if _, err := runCLI(t, "", "keys", "rotate", "signing", "--data-dir", missing); err == nil {
		t.Error("rotated in a data directory that does not exist")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a rotation created a new data directory")
	}
}

// createSecretApp stores an upstream app whose client secret is secret.
func createSecretApp(t *testing.T, s *models.Store, secret string) uint {
	t.Helper()
	a := &models.UpstreamApp{
		Name: "github", ClientID: "abc", ClientSecret: secret,
		AuthURL: "https://github.com/login/oauth/authorize", TokenURL: "https://github.com/login/oauth/access_token",
	}
	if err := s.CreateUpstreamApp(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// storedKeyID reads the id of the key that sealed app id's secret straight
// from the database file of data directory dir.
func storedKeyID(t *testing.T, dir string, id uint) string {
	t.Helper()
	db, err := gorm.Open(sqlite.Open(filepath.Join(dir, databaseFile)), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	var sealed string
	if err := sqlDB.QueryRow("SELECT client_secret FROM upstream_apps WHERE id = ?", id).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	parts := strings.SplitN(sealed, ":", 3)
	if len(parts) != 3 {
		t.Fatalf("stored secret %q is not sealed", sealed)
	}
	return parts[1]
}

// secretOf reads app id's secret through a store opened on dir with env.
func secretOf(t *testing.T, dir string, env environment, id uint) string {
	t.Helper()
	b, err := openBackend(context.Background(), configFlags{dataDir: dir, logLevel: "error"}, env, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	secret, err := b.store.UpstreamAppSecret(context.Background(), id)
	if err != nil {
		t.Fatalf("read the secret: %v", err)
	}
	return secret
}

// encryptionKeyIDs reads the key ids of dir's encryption.keys, oldest first.
func encryptionKeyIDs(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, encryptionKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := encryptionKeys(b)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(keyIDs(keys), ", ")
}

func TestRotateEncryption(t *testing.T) {
	dir := keyDir(t)
	id := createSecretApp(t, openData(t, dir), "s3cret")
	first := encryptionKeyIDs(t, dir)[0]
	if got := storedKeyID(t, dir, id); got != first {
		t.Fatalf("secret sealed with %q, want %q", got, first)
	}

	out, err := runCLI(t, "", "keys", "rotate", "encryption", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "re-encrypted 1 stored secret") {
		t.Fatalf("%v: %s", err, out)
	}
	ids := encryptionKeyIDs(t, dir)
	if len(ids) != 2 || ids[0] != first {
		t.Fatalf("keys %v, want %s and a new one after it", ids, first)
	}
	if got := storedKeyID(t, dir, id); got != ids[1] {
		t.Errorf("after rotation the secret is sealed with %q, want the new key %q", got, ids[1])
	}
	if got := secretOf(t, dir, nil, id); got != "s3cret" {
		t.Errorf("secret %q after rotation", got)
	}
	assertPrivate(t, filepath.Join(dir, encryptionKeyFile))

	out, err = runCLI(t, "", "keys", "rotate", "encryption", "--drop-old", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "Removed the keys no stored secret uses: "+first+", "+ids[1]) {
		t.Fatalf("%v: %s", err, out)
	}
	last := encryptionKeyIDs(t, dir)
	if len(last) != 1 || last[0] == ids[1] {
		t.Fatalf("keys %v after --drop-old, want only a third, new one", last)
	}
	if got := storedKeyID(t, dir, id); got != last[0] {
		t.Errorf("secret sealed with %q, want %q", got, last[0])
	}
	if got := secretOf(t, dir, nil, id); got != "s3cret" {
		t.Errorf("secret %q with only the newest key", got)
	}
	assertPrivate(t, filepath.Join(dir, encryptionKeyFile))
}

func TestReencryptWithKeysFromEnvironment(t *testing.T) {
	dir := dataDir(t)
	key := func(id string, fill byte) string {
		return id + ":" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, 32))
	}
	oldOnly := environment{envEncryptionKey + "=" + key("old", 1)}
	b, err := openBackend(context.Background(), configFlags{dataDir: dir, logLevel: "error"}, oldOnly, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	id := createSecretApp(t, b.store, "s3cret")
	b.Close()

	both := environment{envEncryptionKey + "=" + key("old", 1) + "," + key("new", 2)}
	out, _, err := runWithEnv(t, both, "keys", "reencrypt", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "Re-encrypted 1 stored secret with the newest key, new.") {
		t.Fatalf("%v: %s", err, out)
	}
	if got := storedKeyID(t, dir, id); got != "new" {
		t.Errorf("secret sealed with %q, want new", got)
	}
	if got := secretOf(t, dir, environment{envEncryptionKey + "=" + key("new", 2)}, id); got != "s3cret" {
		t.Errorf("secret %q with only the new key", got)
	}
}

func TestKeysListShowsIDsOnly(t *testing.T) {
	dir := keyDir(t)
	createSecretApp(t, openData(t, dir), "s3cret")
	for _, what := range []string{"signing", "encryption"} {
		if out, err := runCLI(t, "", "keys", "rotate", what, "--data-dir", dir); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	out, err := runCLI(t, "", "keys", "list", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	keys, _, err := loadKeys(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := encryptionKeyIDs(t, dir)
	squeezed := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		signingKeyID(keys.Signing) + " current",
		signingKeyID(keys.Signing) + " current " + keyIDOf(t, keys.PreviousSigning[0]) + " retired 0m ago, verifies for 1h59m more",
		ids[0] + " older: decrypts only 0",
		ids[1] + " current 1",
	} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("list does not show %q:\n%s", want, out)
		}
	}
	enc, _ := os.ReadFile(filepath.Join(dir, encryptionKeyFile))
	for _, line := range strings.Split(strings.TrimSpace(string(enc)), "\n") {
		if _, secret, _ := strings.Cut(line, " "); strings.Contains(out, secret) {
			t.Errorf("list shows an encryption key:\n%s", out)
		}
	}
	if strings.Contains(out, "PRIVATE KEY") {
		t.Errorf("list shows a signing key:\n%s", out)
	}
}

// keyIDOf is the kid of public key pub.
func keyIDOf(t *testing.T, pub *ecdsa.PublicKey) string {
	t.Helper()
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}
