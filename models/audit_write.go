package models

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// auditInsertColumns are the columns AppendAuditEvents writes: all but id,
// which it assigns on SQLite (auditTailSQL) and PostgreSQL assigns at
// insert, and the outcome, which comes later.
const auditInsertColumns = "at, kind, request_id, writer, seq, prev_hash, hash, user_id, user_email, " +
	"service_account, client_id, route_id, route_name, http_method, mcp_method, tool, arguments, " +
	"decision, reasons, config_version, source_ip"

// auditInsertColumnCount is how many auditInsertColumns there are.
const auditInsertColumnCount = 21

// AppendAuditEvents inserts events in one transaction and returns once it
// has committed: on SQLite into the audit journal, from which they settle
// into audit_events before anyone reads them (see audit_journal.go). It
// assigns each event's Writer (writer), Seq, PrevHash, Hash and ID,
// continuing writer's chain from its newest event: the one this process
// last appended, remembered, or, the first time and whenever that turns
// out stale (another process appended under the same name: on SQLite its
// head read in the transaction is further on; on PostgreSQL the unique
// (writer, seq) index refused the batch), the one read inside the
// transaction. The transaction holds the audit lock from before that
// read (see lockExclusive; on SQLite, BEGIN IMMEDIATE), so processes
// appending to one database, even under one writer name, cannot
// interleave inside a chain.
//
// It normalizes the events first (see AuditEvent.Validate and normalize),
// and refuses the whole batch if any of them is invalid. On error nothing
// was stored, and the events' assigned fields mean nothing.
//
// Each event is one run of a statement prepared once and kept (see
// auditStatements).
func (s *Store) AppendAuditEvents(ctx context.Context, writer string, events []*AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	if err := validWriter(writer); err != nil {
		return fmt.Errorf("models: append audit events: %w", err)
	}
	for i, e := range events {
		e.normalize()
		if err := e.Validate(); err != nil {
			return fmt.Errorf("models: append audit events: event %d: %w", i, err)
		}
	}
	_, _, cached := s.auditHeads.get(writer)
	err := s.appendAuditBatch(ctx, writer, events, cached)
	if cached && errors.Is(err, ErrConflict) {
		// The cached head was stale: another process writes under this
		// writer's name, and the unique seq refused the batch. Read the
		// head and try once more. Any other failure (a lock timeout, the
		// database gone) is the caller's to see at once: trying again
		// would only double the wait of a request held for its commit.
		err = s.appendAuditBatch(ctx, writer, events, false)
	}
	if err != nil {
		s.auditHeads.forget(writer)
		for _, e := range events {
			e.ID = 0
		}
		return fmt.Errorf("models: append %d audit events for %s: %w", len(events), writer, dbError(err))
	}
	return nil
}

// appendAuditBatch is one attempt of AppendAuditEvents: from the cached
// head of writer's chain, or from the head read in the transaction.
func (s *Store) appendAuditBatch(ctx context.Context, writer string, events []*AuditEvent, useCache bool) error {
	var seq uint64
	var prev string
	err := s.inAuditTx(ctx, func(ctx context.Context, tx *auditTx) error {
		st := tx.st
		// One append at a time, across every writer and process: each
		// reads its chain's head and continues it, and ids, which
		// PostgreSQL takes from a sequence at insert, become visible in
		// order, as the live tail and the time filters expect (see
		// AuditEventsAfter and auditIndexesV5). SQLite's writes run one
		// at a time anyway.
		if err := lockExclusiveTx(ctx, tx.tx, st.postgres, lockAudit); err != nil {
			return err
		}
		var cached bool
		seq, prev, cached = s.auditHeads.get(writer)
		cached = cached && useCache
		var id uint64 // on SQLite, the next event's
		if !st.postgres {
			// A stale cached head would be refused only once its events
			// settled (see audit_journal.go): too late. So check that no
			// one went further. (A cached head ahead of the stored one is
			// kept: this writer's newest events were deleted, and the
			// chain then shows the gap.)
			var stored uint64
			if err := tx.stmt(ctx, st.tail).QueryRowContext(ctx, writer, writer).Scan(&stored, &id); err != nil {
				return fmt.Errorf("read the tail of the log: %w", err)
			}
			cached = cached && stored <= seq
		}
		if !cached {
			var err error
			if seq, prev, err = auditHead(ctx, tx, writer); err != nil {
				return err
			}
		}
		insert := tx.stmt(ctx, st.insert)
		for _, e := range events {
			seq++
			e.Writer, e.Seq, e.PrevHash = writer, seq, prev
			if !st.postgres {
				e.ID, id = id, id+1
			}
			e.Hash = e.chainHash()
			prev = e.Hash
			if err := st.insertEvent(ctx, insert, e); err != nil {
				return fmt.Errorf("insert event %d of the chain: %w", e.Seq, s.translate(err))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.auditHeads.set(writer, auditHeadEntry{seq: seq, hash: prev})
	return nil
}

// auditHeadCache remembers the head of each chain this process appended
// to, so that a batch need not read it back first. A process writes its
// own chain, so the cache is right unless another process writes under the
// same name; then the unique (writer, seq) index refuses the batch, and
// the head is read again.
type auditHeadCache struct {
	mu sync.Mutex
	m  map[string]auditHeadEntry
}

type auditHeadEntry struct {
	seq  uint64
	hash string
}

func (c *auditHeadCache) get(writer string) (uint64, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.m[writer]
	return h.seq, h.hash, ok
}

func (c *auditHeadCache) set(writer string, h auditHeadEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]auditHeadEntry{}
	}
	c.m[writer] = h
}

func (c *auditHeadCache) forget(writer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, writer)
}

// auditHead returns the seq and hash of writer's newest event (on SQLite,
// journaled or settled), or, when it has none, of its checkpoint
// (retention deleted every event), or 0 and "": where its chain
// continues.
func auditHead(ctx context.Context, tx *auditTx, writer string) (uint64, string, error) {
	var (
		seq  uint64
		hash string
	)
	err := tx.stmt(ctx, tx.st.head).QueryRowContext(ctx, writer, writer, writer).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read the head of the chain: %w", err)
	}
	return seq, hash, nil
}

// AuditOutcome is what became of an audited request, added after the
// answer.
type AuditOutcome struct {
	ID            uint64 // the event's
	Status        int    // HTTP status
	RPCErrorCode  *int   // the JSON-RPC error's code, if the answer was one
	IsError       *bool  // a tools/call result's isError, if it was one
	Duration      time.Duration
	ResponseBytes int64
	At            time.Time // when the answer ended; zero means now
}

// RecordAuditOutcomes fills the outcome columns of the events outcomes
// name, in one transaction. An outcome is written once: one for an event
// that already has an outcome, or that does not exist, is skipped.
//
// The outcome is not covered by the events' hashes. It arrives later, in
// another transaction, and may never arrive (the process stopped, or its
// queue was full). The chain vouches for what was decided and let
// through, which is fixed before the request is forwarded; verify checks
// those decision records.
func (s *Store) RecordAuditOutcomes(ctx context.Context, outcomes []AuditOutcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	err := s.recordAuditOutcomes(ctx, outcomes)
	if err != nil {
		return fmt.Errorf("models: record %d audit outcomes: %w", len(outcomes), err)
	}
	return nil
}

func (s *Store) recordAuditOutcomes(ctx context.Context, outcomes []AuditOutcome) error {
	// In id order, as every batch is, so that databases that lock rows
	// one by one cannot deadlock two batches; of two outcomes for one
	// event, the first given is written.
	outcomes = slices.Clone(outcomes)
	slices.SortStableFunc(outcomes, func(a, b AuditOutcome) int { return cmp.Compare(a.ID, b.ID) })
	return s.inAuditTx(ctx, func(ctx context.Context, tx *auditTx) error {
		write := tx.stmt(ctx, tx.st.outcome)
		for _, o := range outcomes {
			if _, err := write.ExecContext(ctx, o.Status, o.RPCErrorCode, o.IsError, o.Duration.Microseconds(),
				o.ResponseBytes, o.at(), o.ID); err != nil {
				return fmt.Errorf("event %d: %w", o.ID, err)
			}
		}
		// On SQLite the outcomes went into the audit connection's batch,
		// and the settle writes them, with the journaled events (see
		// audit_journal.go).
		return settleAuditJournalTx(ctx, tx)
	})
}

// at is when the answer ended, as the database stores it.
func (o *AuditOutcome) at() time.Time {
	if o.At.IsZero() {
		return now()
	}
	return dbTime(o.At)
}
