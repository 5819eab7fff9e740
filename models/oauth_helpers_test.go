package models

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"
)

// testChallenge is a valid PKCE S256 challenge.
var testChallenge = func() string {
	sum := sha256.Sum256([]byte("test verifier"))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}()

// testOAuthClient returns a valid public DCR client, not yet stored.
func testOAuthClient(clientID string) *OAuthClient {
	return &OAuthClient{
		ClientID:                clientID,
		Name:                    "Client " + clientID,
		RedirectURIs:            []string{"http://127.0.0.1:33418/callback"},
		GrantTypes:              []string{GrantAuthorizationCode, GrantRefreshToken},
		TokenEndpointAuthMethod: AuthMethodNone,
		Source:                  ClientSourceDCR,
	}
}

// createOAuthClient stores testOAuthClient(clientID), failing the test on
// error.
func createOAuthClient(t *testing.T, s *Store, clientID string) *OAuthClient {
	t.Helper()
	c := testOAuthClient(clientID)
	if err := s.CreateOAuthClient(context.Background(), c); err != nil {
		t.Fatalf("create oauth client %s: %v", clientID, err)
	}
	return c
}

// testResource is the resource test grants are for.
const testResource = "http://github.localhost:8080"

// testAuthCode returns a valid code for client and user, expiring in ten
// minutes, not yet stored; its raw value is raw.
func testAuthCode(raw, clientID string, userID uint) *AuthCode {
	return &AuthCode{
		CodeHash:      HashToken(raw),
		ClientID:      clientID,
		UserID:        userID,
		RedirectURI:   "http://127.0.0.1:33418/callback",
		CodeChallenge: testChallenge,
		Resource:      testResource,
		Scope:         "mcp",
		ExpiresAt:     time.Now().Add(10 * time.Minute),
	}
}

// grant is a redeemed authorization: the code and the family it started.
type grant struct {
	code     *AuthCode
	clientID string
	userID   uint
	family   string
}

// newGrant stores a code for the client and user and redeems it, failing
// the test on error.
func newGrant(t *testing.T, s *Store, clientID string, userID uint) grant {
	t.Helper()
	ctx := context.Background()
	raw := "code-" + newFamilyID()
	c := testAuthCode(raw, clientID, userID)
	if err := s.CreateAuthCode(ctx, c); err != nil {
		t.Fatalf("create code: %v", err)
	}
	redeemed, err := s.RedeemAuthCode(ctx, HashToken(raw), time.Now())
	if err != nil {
		t.Fatalf("redeem code: %v", err)
	}
	return grant{code: redeemed, clientID: clientID, userID: userID, family: redeemed.FamilyID}
}

// refresh stores a refresh token with raw value raw in g's family,
// expiring at expires, failing the test on error.
func (g grant) refresh(t *testing.T, s *Store, raw string, expires time.Time) *RefreshToken {
	t.Helper()
	rt := &RefreshToken{TokenHash: HashToken(raw), FamilyID: g.family, ClientID: g.clientID, UserID: g.userID,
		Resource: testResource, Scope: "mcp", ExpiresAt: expires}
	if err := s.CreateRefreshToken(context.Background(), rt); err != nil {
		t.Fatalf("create refresh token: %v", err)
	}
	return rt
}

// access records an access token jti in g's family, expiring at expires,
// failing the test on error.
func (g grant) access(t *testing.T, s *Store, jti string, expires time.Time) *AccessTokenRecord {
	t.Helper()
	r := &AccessTokenRecord{JTI: jti, FamilyID: g.family, ClientID: g.clientID, UserID: g.userID,
		Resource: testResource, ExpiresAt: expires}
	if err := s.RecordAccessToken(context.Background(), r); err != nil {
		t.Fatalf("record access token %s: %v", jti, err)
	}
	return r
}

// revokedJTIs returns RevokedAccessTokens at the current time, failing
// the test on error.
func revokedJTIs(t *testing.T, s *Store) []string {
	t.Helper()
	jtis, err := s.RevokedAccessTokens(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return jtis
}

// activeTokens returns CountActiveTokens at the current time, failing the
// test on error.
func activeTokens(t *testing.T, s *Store, clientID string) int64 {
	t.Helper()
	n, err := s.CountActiveTokens(context.Background(), clientID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// refreshToken reads the refresh token with raw value raw, failing the
// test on error.
func refreshToken(t *testing.T, s *Store, raw string) *RefreshToken {
	t.Helper()
	rt, err := s.GetRefreshToken(context.Background(), HashToken(raw))
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// rowCount counts the rows of table, failing the test on error.
func rowCount(t *testing.T, s *Store, table string) int64 {
	t.Helper()
	var n int64
	if err := s.db.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
