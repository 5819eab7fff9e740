package proxy

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/drawbridge/drawbridge/proxy/token"
)

// account is a service account as the engine serves it: what a request
// needs to be decided without reading the database.
type account struct {
	ID        uint
	Name      string
	UserID    uint
	tokenHash [sha256.Size]byte
	// prevHash works until prevUntil, after a rotation with a grace.
	prevHash  [sha256.Size]byte
	prevUntil time.Time
	expires   time.Time // zero: never
	// routes, when not nil, are the only routes the account may use.
	routes map[uint]bool
}

// accountMap compiles the accounts that are not revoked.
func accountMap(ctx context.Context, store Store) (map[uint]*account, error) {
	rows, err := store.AllServiceAccounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[uint]*account, len(rows))
	for _, a := range rows {
		acc := &account{ID: a.ID, Name: a.Name, UserID: a.UserID}
		if !decodeHash(a.TokenHash, &acc.tokenHash) {
			continue // not one we wrote: it can match nothing
		}
		if a.PreviousValidUntil != nil && decodeHash(a.PreviousTokenHash, &acc.prevHash) {
			acc.prevUntil = *a.PreviousValidUntil
		}
		if a.ExpiresAt != nil {
			acc.expires = *a.ExpiresAt
		}
		if a.RoutesRestricted || len(a.RouteIDs) > 0 {
			acc.routes = make(map[uint]bool, len(a.RouteIDs))
			for _, id := range a.RouteIDs {
				acc.routes[id] = true
			}
		}
		out[a.ID] = acc
	}
	return out, nil
}

func decodeHash(s string, dst *[sha256.Size]byte) bool {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return false
	}
	copy(dst[:], b)
	return true
}

// Why a service-account token is refused. Like the token package's
// errors, they never repeat the token.
var (
	errAccountUnknown  = errors.New("the service-account token is not valid (revoked, rotated, or never issued here)")
	errAccountExpired  = errors.New("the service account has expired")
	errAccountDisabled = errors.New("the user this service account acts as can no longer sign in")
	errAccountRoute    = errors.New("this service account may not use this route")
)

// serviceAccount authenticates a service-account token: its hash must be
// the live account's (or, during a rotation's grace, the previous one).
func (e *Engine) serviceAccount(snap *Snapshot, route *Route, jwt string, c token.ServiceAccountClaims) (*Identity, error) {
	acc := snap.accounts[c.AccountID]
	if acc == nil {
		return nil, errAccountUnknown
	}
	now := time.Now()
	sum := sha256.Sum256([]byte(jwt))
	current := subtle.ConstantTimeCompare(sum[:], acc.tokenHash[:]) == 1
	previous := now.Before(acc.prevUntil) && subtle.ConstantTimeCompare(sum[:], acc.prevHash[:]) == 1
	switch u := snap.User(acc.UserID); {
	case !current && !previous:
		return nil, errAccountUnknown
	case !acc.expires.IsZero() && !now.Before(acc.expires):
		return nil, errAccountExpired
	case u == nil || u.Disabled:
		return nil, errAccountDisabled
	case acc.routes != nil && !acc.routes[route.ID]:
		return nil, errAccountRoute
	default:
		e.accountUse.touch(acc.ID, now)
		return &Identity{
			UserID: strconv.FormatUint(uint64(u.ID), 10), Email: u.Email, Groups: u.Groups,
			ServiceAccount: acc.Name, ClientID: "service-account:" + acc.Name, Routes: acc.routes,
		}, nil
	}
}

// refuseServiceAccount answers a refused service-account token: 401, or
// 403 for a route the account may not use, with no challenge pointing at
// sign-in, since an account never starts an OAuth flow.
func refuseServiceAccount(w http.ResponseWriter, err error) {
	status := http.StatusUnauthorized
	if errors.Is(err, errAccountRoute) {
		status = http.StatusForbidden
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+err.Error()+`"`)
	}
	writeRPCError(w, status, errorBody(codeUnauthorized, "Unauthorized: "+err.Error()+"."))
}

// usage remembers when each account was last used, for one write every
// few seconds rather than one per request.
type usage struct {
	mu   sync.Mutex
	used map[uint]time.Time
}

func (u *usage) touch(id uint, at time.Time) {
	u.mu.Lock()
	if u.used == nil {
		u.used = map[uint]time.Time{}
	}
	u.used[id] = at
	u.mu.Unlock()
}

// FlushUsage records when service accounts were last used, since the
// last flush.
func (e *Engine) FlushUsage(ctx context.Context) error {
	e.accountUse.mu.Lock()
	used := e.accountUse.used
	e.accountUse.used = nil
	e.accountUse.mu.Unlock()
	if len(used) == 0 {
		return nil
	}
	err := e.store.TouchServiceAccounts(ctx, used)
	if err != nil {
		// Keep them for the next flush, unless newer uses came since.
		e.accountUse.mu.Lock()
		for id, at := range used {
			if cur, ok := e.accountUse.used[id]; !ok || cur.Before(at) {
				if e.accountUse.used == nil {
					e.accountUse.used = map[uint]time.Time{}
				}
				e.accountUse.used[id] = at
			}
		}
		e.accountUse.mu.Unlock()
	}
	return err
}
