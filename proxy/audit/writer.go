// Package audit is the gateway's durable audit writer. Record commits an
// event before the request it describes may go upstream, sharing each
// transaction with whatever other requests queued meanwhile (group
// commit); Outcome adds what the answer was, later and in batches.
//
// One goroutine per Writer does every write: it takes all the events
// queued (up to Options.MaxBatch), appends them in one transaction, tells
// each waiting Record, and between commits writes the queued outcomes.
// At concurrency 1 a Record waits for exactly one transaction; under load,
// the next batch gathers while one commits, and lingers a moment for the
// requests still on their way (linger.go), so the number of transactions
// grows far slower than the number of requests.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drawbridge/drawbridge/models"
)

// Store is what a Writer needs of models.Store.
type Store interface {
	AppendAuditEvents(ctx context.Context, writer string, events []*models.AuditEvent) error
	RecordAuditOutcomes(ctx context.Context, outcomes []models.AuditOutcome) error
}

// Options configures a Writer. Zero values take the defaults.
type Options struct {
	// Writer names this process's hash chain: by default hostname, pid
	// and a random suffix, so every run of every process starts its own.
	// Two running processes must not share a name: each would then see
	// the other's events as a gap in its chain, and report it. At most
	// 128 bytes of UTF-8; New cuts a longer name.
	Writer string
	// MaxBatch caps the events of one transaction; default 256.
	MaxBatch int
	// RedactKeys are the object keys whose values are never stored,
	// matched ignoring case and the separators - _ . and space, as
	// substrings: "api_key" catches "X-Api-Key". Default DefaultRedactKeys.
	RedactKeys []string
	// MaxArgumentBytes caps stored arguments, after redaction; larger
	// ones are replaced by a note of their size. Default 8 KiB.
	MaxArgumentBytes int
	// Linger is how long a batch may wait, at most, for requests in
	// flight (see Expect and linger.go); default DefaultLinger, and a
	// negative Linger never waits.
	Linger time.Duration
	// OutcomeFlushInterval is how long an outcome may wait for its
	// batch; default 200 ms.
	OutcomeFlushInterval time.Duration
	Logger               *slog.Logger
	// Metrics, when set, receives the writer's collectors.
	Metrics prometheus.Registerer
	// Stream, when set, receives every committed event and every outcome
	// written as a JSON line, for a SIEM to pick up.
	Stream io.Writer
}

// DefaultRedactKeys are the RedactKeys used when Options leaves them out.
var DefaultRedactKeys = []string{
	"password", "passwd", "secret", "token", "authorization", "api_key", "apikey",
	"private_key", "credential", "cookie",
}

// Defaults of Options.
const (
	DefaultMaxBatch             = 256
	DefaultMaxArgumentBytes     = 8 << 10
	DefaultOutcomeFlushInterval = 200 * time.Millisecond
)

// maxQueuedOutcomes bounds the outcomes waiting to be written. Outcome
// never blocks a request's goroutine: past this many, outcomes are
// dropped (counted, and logged once per flush). An outcome is the
// expendable half of a record; the decision, already committed, is not.
const maxQueuedOutcomes = 1 << 14

// outcomeBatch is the queue length at which outcomes are written without
// waiting for the flush interval.
const outcomeBatch = 1024

// writeTimeout bounds one transaction, so that a wedged database fails
// the requests waiting on it instead of holding them forever. SQLite's
// own busy timeout (5 s) usually answers first.
const writeTimeout = 30 * time.Second

// maxNameLen is the size of the events' writer column.
const maxNameLen = 128

// ErrClosed is what Record returns once Close has been called.
var ErrClosed = errors.New("audit: writer closed")

// Writer records audit events durably. Its methods are safe for
// concurrent use.
type Writer struct {
	store      Store
	name       string
	maxBatch   int
	redactKeys []string // normalized: see normalizeKey
	maxArgs    int
	flushEvery time.Duration
	linger     time.Duration
	log        *slog.Logger
	m          *metrics

	mu       sync.RWMutex // held to read closed and send on records; Close writes
	closed   bool
	records  chan *pending
	outcomes chan models.AuditOutcome
	quit     chan struct{} // closed by Close: stop waiting to queue
	done     chan struct{} // closed when the writing goroutine has finished
	once     sync.Once
	// streamOnce closes the stream once the writing goroutine is done.
	streamOnce sync.Once

	queued   atomic.Int64 // events queued, not yet committed
	inFlight atomic.Int64 // requests being served, as Expect counts them
	dropped  atomic.Int64 // outcomes dropped since the last warning

	stream *stream // nil without Options.Stream

	// The writing goroutine's own: the head of the chain it last wrote.
	lastSeq  uint64
	lastHash string
}

// pending is one Record's events, committed together, and where the
// result goes.
type pending struct {
	events []*models.AuditEvent
	done   chan error // buffered: the writer never waits for the reader
}

// New returns a running Writer. Close it after the last request it
// records has finished: after the HTTP server's Shutdown.
func New(store Store, opts Options) *Writer {
	w := &Writer{
		store:      store,
		name:       opts.Writer,
		maxBatch:   opts.MaxBatch,
		maxArgs:    opts.MaxArgumentBytes,
		flushEvery: opts.OutcomeFlushInterval,
		linger:     opts.Linger,
		log:        opts.Logger,
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		outcomes:   make(chan models.AuditOutcome, maxQueuedOutcomes),
	}
	if w.name == "" {
		w.name = defaultName()
	}
	w.name = strings.ReplaceAll(strings.ToValidUTF8(w.name, "?"), "\x00", "?")
	for len(w.name) > maxNameLen {
		_, size := utf8.DecodeLastRuneInString(w.name)
		w.name = w.name[:len(w.name)-size]
	}
	if w.maxBatch <= 0 {
		w.maxBatch = DefaultMaxBatch
	}
	keys := opts.RedactKeys
	if keys == nil {
		keys = DefaultRedactKeys
	}
	w.redactKeys = normalizeKeys(keys)
	if w.maxArgs <= 0 {
		w.maxArgs = DefaultMaxArgumentBytes
	}
	if w.linger == 0 {
		w.linger = DefaultLinger
	}
	if w.flushEvery <= 0 {
		w.flushEvery = DefaultOutcomeFlushInterval
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	// Room for the batch being gathered while one commits; a Record that
	// finds the queue full waits (for its context), never drops.
	w.records = make(chan *pending, 2*w.maxBatch)
	w.m = newMetrics(opts.Metrics, w)
	if opts.Stream != nil {
		w.stream = newStream(w, opts.Stream)
	}
	go w.run()
	return w
}

// Name returns the writer's name: the Writer column of its events.
func (w *Writer) Name() string { return w.name }

// defaultName is hostname-pid-random: unique to this run of this process.
func defaultName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "drawbridge"
	}
	if len(host) > 96 {
		host = host[:96]
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:]) // never fails
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(suffix[:]))
}

// Close stops taking events, commits those already queued, writes the
// queued outcomes, and returns when that is done or ctx ends. Records
// waiting to queue return ErrClosed. Call it once; a second call only
// waits again.
func (w *Writer) Close(ctx context.Context) error {
	w.once.Do(func() {
		close(w.quit)
		w.mu.Lock()
		w.closed = true
		close(w.records)
		w.mu.Unlock()
	})
	select {
	case <-w.done:
	case <-ctx.Done():
		return fmt.Errorf("audit: close: %w", ctx.Err())
	}
	if w.stream != nil {
		w.streamOnce.Do(w.stream.close)
	}
	return nil
}
