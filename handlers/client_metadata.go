package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

// Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document,
// preferred by MCP 2026-07-28): a client ID that is an https URL names a
// JSON document, served at that URL, describing the client.

const (
	defaultMetadataTTL        = 5 * time.Minute
	defaultMetadataFailureTTL = 30 * time.Second
	defaultMetadataMaxEntries = 1000
	maxMetadataURLLen         = 2048
)

// MetadataError says what is wrong with a client's metadata document, or
// with its URL, in words fit to show the person whose client it is. Its
// message never carries more of the document than a short quoted excerpt.
type MetadataError struct {
	ClientID string // the URL, as the client presented it
	Reason   string // completes "the client's metadata document at <ClientID> …"
}

func (e *MetadataError) Error() string {
	// The client ID is whatever the client sent, checked or not.
	id := metadataSanitize(e.ClientID, 300)
	if len(id) < len(e.ClientID) {
		id += "…"
	}
	return "the client's metadata document at " + id + " " + e.Reason
}

// MetadataClientStore is what MetadataClients needs of the store. Besides
// the upsert, it reads the stored client on every cache hit, so that an
// administrator disabling (or deleting) a client takes effect at once
// rather than when the cached document expires.
type MetadataClientStore interface {
	UpsertMetadataClient(ctx context.Context, c *models.OAuthClient) error
	GetOAuthClient(ctx context.Context, clientID string) (*models.OAuthClient, error)
}

// MetadataClients resolves client IDs that are metadata document URLs.
// Whether metadata documents are enabled at all is the caller's decision:
// check the setting before calling Resolve.
type MetadataClients struct {
	Store MetadataClientStore
	// Client fetches documents; NewMetadataFetchClient builds the one to
	// use. When nil, one is built from AllowPrivate on first use.
	Client *http.Client
	// AllowPrivate lets the default Client connect to loopback and
	// private addresses; it has no effect on a Client set explicitly.
	AllowPrivate bool
	// TTL is how long a good document is trusted before it is fetched
	// again (default 5 minutes); a Cache-Control max-age between 1 minute
	// and 24 hours overrides it, one outside that range is clamped to it.
	TTL time.Duration
	// FailureTTL is how long a bad or unreachable document is remembered
	// (default 30 seconds), so that a client cannot make us fetch in a loop.
	FailureTTL time.Duration
	// MaxEntries bounds the cache (default 1000).
	MaxEntries int
	// Now tells the time for the cache (default time.Now).
	Now func() time.Time

	mu         sync.Mutex
	entries    map[string]*metadataEntry
	clientOnce sync.Once
	// onJoin, for tests, runs when a call waits for another call's fetch.
	onJoin func()
}

// metadataEntry is one document, being fetched (done open) or fetched.
// err is written before done is closed and read after; finished and
// expires are guarded by MetadataClients.mu.
type metadataEntry struct {
	done     chan struct{}
	finished bool
	expires  time.Time
	err      error
}

// NewMetadataClients returns a resolver storing clients in store, with a
// fetch client that refuses private addresses unless allowPrivate.
func NewMetadataClients(store MetadataClientStore, allowPrivate bool) *MetadataClients {
	return &MetadataClients{Store: store, Client: NewMetadataFetchClient(allowPrivate), AllowPrivate: allowPrivate}
}

// IsMetadataClientID reports whether clientID looks like a metadata
// document URL (https://…); cheap, no network. Resolve decides whether
// it is a good one.
func IsMetadataClientID(clientID string) bool {
	const prefix = "https://"
	return len(clientID) > len(prefix) && strings.EqualFold(clientID[:len(prefix)], prefix)
}

// Resolve fetches (or takes from cache) and validates the document,
// upserts the client in the store and returns it, as stored. hosts is the
// admin allow-list (empty = any public host), entries "host.example.com"
// or "*.example.com". What is wrong with the URL, the document, or the
// client is a *MetadataError; anything else (the store failing, ctx
// ending) is an internal error.
func (m *MetadataClients) Resolve(ctx context.Context, clientID string, hosts []string) (*models.OAuthClient, error) {
	u, err := checkMetadataURL(clientID)
	if err != nil {
		return nil, &MetadataError{ClientID: clientID, Reason: "cannot be used: its URL " + err.Error()}
	}
	// Before the cache: the allow-list may have changed since the fetch.
	if !metadataHostAllowed(u.Hostname(), hosts) {
		return nil, &MetadataError{ClientID: clientID, Reason: fmt.Sprintf(
			"cannot be used: %s is not one of the hosts this server accepts client metadata documents from", u.Hostname())}
	}
	// A second round only when the client vanished from the store (an
	// administrator deleted it) while its document was cached.
	for range 2 {
		e, err := m.entry(ctx, clientID)
		if err != nil {
			return nil, err
		}
		if e.err != nil {
			return nil, e.err
		}
		c, err := m.Store.GetOAuthClient(ctx, clientID)
		if errors.Is(err, models.ErrNotFound) {
			m.forget(clientID, e)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("resolve client metadata %s: %w", clientID, err)
		}
		if c.Disabled {
			return nil, &MetadataError{ClientID: clientID, Reason: "describes a client that an administrator turned off"}
		}
		return c, nil
	}
	return nil, fmt.Errorf("resolve client metadata %s: %w", clientID, models.ErrNotFound)
}

// entry returns the finished cache entry for clientID, fetching the
// document when there is none or it expired. Concurrent calls for one
// client ID share one fetch. The fetch runs on its own, unaffected by
// ctx ending, so that one impatient caller cannot fail the others.
func (m *MetadataClients) entry(ctx context.Context, clientID string) (*metadataEntry, error) {
	m.mu.Lock()
	if m.entries == nil {
		m.entries = make(map[string]*metadataEntry)
	}
	e := m.entries[clientID]
	switch {
	case e == nil || (e.finished && !m.now().Before(e.expires)):
		delete(m.entries, clientID)
		if !m.makeRoom() {
			m.mu.Unlock()
			return nil, &MetadataError{ClientID: clientID, Reason: "could not be fetched: too many documents are being fetched at once; try again in a moment"}
		}
		e = &metadataEntry{done: make(chan struct{})}
		m.entries[clientID] = e
		go m.fill(context.WithoutCancel(ctx), clientID, e)
	case !e.finished && m.onJoin != nil:
		m.onJoin()
	}
	m.mu.Unlock()
	select {
	case <-e.done:
		return e, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("resolve client metadata %s: %w", clientID, ctx.Err())
	}
}

// makeRoom drops expired entries, then the one expiring first, until a
// new entry fits; it reports false when every entry is still fetching.
// m.mu is held.
func (m *MetadataClients) makeRoom() bool {
	limit := m.MaxEntries
	if limit <= 0 {
		limit = defaultMetadataMaxEntries
	}
	if len(m.entries) < limit {
		return true
	}
	now := m.now()
	var oldest string
	for id, e := range m.entries {
		if !e.finished {
			continue
		}
		if !now.Before(e.expires) {
			delete(m.entries, id)
			continue
		}
		if oldest == "" || e.expires.Before(m.entries[oldest].expires) {
			oldest = id
		}
	}
	if len(m.entries) < limit {
		return true
	}
	if oldest == "" {
		return false
	}
	delete(m.entries, oldest)
	return true
}

// fill fetches, checks and stores the document, then publishes the
// outcome in e.
func (m *MetadataClients) fill(ctx context.Context, clientID string, e *metadataEntry) {
	ttl, err := m.load(ctx, clientID)
	m.mu.Lock()
	defer m.mu.Unlock()
	e.err, e.finished, e.expires = err, true, m.now().Add(ttl)
	close(e.done)
}

// load fetches, checks and stores the document, and says how long the
// outcome holds. Store failures other than a conflict are not the
// document's fault and are not remembered.
func (m *MetadataClients) load(ctx context.Context, clientID string) (time.Duration, error) {
	failureTTL := m.FailureTTL
	if failureTTL <= 0 {
		failureTTL = defaultMetadataFailureTTL
	}
	body, maxAge, err := fetchMetadataDocument(ctx, m.httpClient(), clientID)
	if err != nil {
		return failureTTL, &MetadataError{ClientID: clientID, Reason: err.Error()}
	}
	c, err := parseClientMetadata(body, clientID)
	if err != nil {
		return failureTTL, &MetadataError{ClientID: clientID, Reason: "is not valid: " + err.Error()}
	}
	if err := m.Store.UpsertMetadataClient(ctx, c); err != nil {
		if errors.Is(err, models.ErrConflict) {
			return failureTTL, &MetadataError{ClientID: clientID,
				Reason: "cannot be used: its URL is already the client ID of a client registered another way"}
		}
		return 0, fmt.Errorf("resolve client metadata %s: %w", clientID, err)
	}
	ttl := m.TTL
	if ttl <= 0 {
		ttl = defaultMetadataTTL
	}
	if maxAge >= 0 {
		ttl = min(max(maxAge, time.Minute), 24*time.Hour)
	}
	return ttl, nil
}

// forget drops e, if it is still the entry for clientID.
func (m *MetadataClients) forget(clientID string, e *metadataEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries[clientID] == e {
		delete(m.entries, clientID)
	}
}

func (m *MetadataClients) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *MetadataClients) httpClient() *http.Client {
	m.clientOnce.Do(func() {
		if m.Client == nil {
			m.Client = NewMetadataFetchClient(m.AllowPrivate)
		}
	})
	return m.Client
}

// checkMetadataURL reports why raw cannot be a metadata document URL
// (https, a host, a path other than "/", no fragment, user info or dot
// segments, at most 2048 bytes), completing "its URL …". The URL must
// also be written as Go writes it back, so that what is fetched is
// byte for byte what the document's client_id is compared with.
func checkMetadataURL(raw string) (*url.URL, error) {
	switch {
	case len(raw) > maxMetadataURLLen:
		return nil, errors.New("is longer than 2048 bytes")
	case strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '\\' }):
		return nil, errors.New("contains spaces, backslashes, control or non-ASCII characters")
	case strings.Contains(raw, "#"):
		return nil, errors.New("must not have a fragment")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errors.New("is not a valid URL")
	case u.Scheme != "https":
		return nil, errors.New("must use https")
	case !strings.HasPrefix(raw, "https://"):
		return nil, errors.New("must start with https:// in lowercase")
	case u.User != nil:
		return nil, errors.New("must not carry user info")
	case u.Hostname() == "":
		return nil, errors.New("has no host")
	case !validMetadataHost(u.Hostname()):
		return nil, errors.New("has a host that is neither a DNS name nor an IP address")
	case u.Port() == "" && strings.HasSuffix(u.Host, ":"), !validPort(u.Port()):
		return nil, errors.New("has an invalid port")
	case u.Path == "" || u.Path == "/":
		return nil, errors.New("must have a path, such as https://app.example.com/oauth/client.json")
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return nil, errors.New("must not contain . or .. path segments")
		}
	}
	canonical := "https://" + u.Host + u.EscapedPath()
	if u.ForceQuery || u.RawQuery != "" {
		canonical += "?" + u.RawQuery
	}
	if canonical != raw {
		return nil, errors.New("must be written plainly (no percent-encoding in the host, for one)")
	}
	return u, nil
}

// validMetadataHost reports whether h is an IP address or a DNS name made
// of letters, digits, hyphens, underscores and dots.
func validMetadataHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	return !strings.ContainsFunc(h, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' || r == '.')
	})
}

// metadataHostAllowed reports whether hostname matches one of hosts, an
// entry "host.example.com" exactly or "*.example.com" as a proper
// subdomain (not example.com itself), ignoring case; an IP address
// matches only itself. No hosts means any.
func metadataHostAllowed(hostname string, hosts []string) bool {
	if len(hosts) == 0 {
		return true
	}
	h := strings.ToLower(hostname)
	_, err := netip.ParseAddr(h)
	isIP := err == nil
	for _, entry := range hosts {
		entry = strings.ToLower(strings.TrimSpace(entry))
		if suffix, ok := strings.CutPrefix(entry, "*."); ok {
			if isIP {
				continue // 127.0.0.1 is no subdomain of *.0.0.1
			}
			// The part before the suffix must be whole labels: not
			// empty, and not ending in a dot (a..example.com).
			sub, found := strings.CutSuffix(h, "."+suffix)
			if suffix != "" && found && sub != "" && !strings.HasSuffix(sub, ".") {
				return true
			}
			continue
		}
		if entry != "" && h == entry {
			return true
		}
	}
	return false
}
