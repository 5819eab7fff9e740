package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Each writer (one gateway process, say) keeps its own hash chain over
// the events it appends: its events are numbered 1, 2, 3… by Seq, and
// each carries PrevHash, the Hash of the one before it ("" for the
// first), and Hash, computed over its own content and PrevHash. Editing
// an event, or deleting one that a later one follows, breaks the chain
// where it happened, and VerifyAuditChains names that event. Several
// processes writing one database each keep a chain, so none waits for
// another's hash.
//
// The hash is the hex SHA-256 of this canonical encoding, version 1:
//
//	"drawbridge-audit-v1\n"
//	then, for each field in the order below:
//	  <name> " " <length of the value in bytes, decimal> "\n" <value> "\n"
//
// Fields: writer, seq, prev_hash, at, kind, request_id, user_id,
// user_email, service_account, client_id, route_id, route_name,
// http_method, mcp_method, tool, arguments, decision, reasons,
// config_version, source_ip. Values are the column values as stored:
// integers in decimal, a NULL user_id or route_id as the empty string,
// at in UTC as 2006-01-02T15:04:05.000000Z. The length prefix makes the
// encoding unambiguous whatever the values hold.
//
// Not covered: the id, which the database assigns as it inserts (the
// chain's order is seq; VerifyAuditChains checks that ids rise with it),
// and the outcome, which arrives later (see RecordAuditOutcomes).
//
// Retention deletes a prefix of each chain and leaves a checkpoint, the
// seq and hash of the newest event it deleted, which the chain then
// starts from (see DeleteAuditEventsBefore).
//
// What the chain does not do: a writer's newest events can be deleted
// without a trace in the chain itself (nothing follows them yet), and
// someone who can write the database can also recompute every hash after
// an edit, or delete the oldest events and write the checkpoint
// retention would have. All need an anchor kept elsewhere: a writer's
// head (seq and hash) logged or exported as it goes, or a key the
// database never sees.
const auditHashHeader = "drawbridge-audit-v1\n"

// auditTimeFormat is at's form in the hash: fixed width, microseconds.
const auditTimeFormat = "2006-01-02T15:04:05.000000Z"

// chainHash computes e's hash from its fields and PrevHash. The encoding
// is built in one buffer and hashed at once: one call into SHA-256, not
// three per field.
func (e *AuditEvent) chainHash() string {
	var stack [1024]byte
	b := append(stack[:0], auditHashHeader...)
	var num [24]byte
	optional := func(p *uint) []byte {
		if p == nil {
			return nil
		}
		return strconv.AppendUint(num[:0], uint64(*p), 10)
	}
	b = hashField(b, "writer", e.Writer)
	b = hashField(b, "seq", strconv.AppendUint(num[:0], e.Seq, 10))
	b = hashField(b, "prev_hash", e.PrevHash)
	b = hashField(b, "at", e.At.UTC().AppendFormat(num[:0], auditTimeFormat))
	b = hashField(b, "kind", e.Kind)
	b = hashField(b, "request_id", e.RequestID)
	b = hashField(b, "user_id", optional(e.UserID))
	b = hashField(b, "user_email", e.UserEmail)
	b = hashField(b, "service_account", e.ServiceAccount)
	b = hashField(b, "client_id", e.ClientID)
	b = hashField(b, "route_id", optional(e.RouteID))
	b = hashField(b, "route_name", e.RouteName)
	b = hashField(b, "http_method", e.HTTPMethod)
	b = hashField(b, "mcp_method", e.MCPMethod)
	b = hashField(b, "tool", e.Tool)
	b = hashField(b, "arguments", e.Arguments)
	b = hashField(b, "decision", e.Decision)
	b = hashField(b, "reasons", e.Reasons)
	b = hashField(b, "config_version", strconv.AppendInt(num[:0], e.ConfigVersion, 10))
	b = hashField(b, "source_ip", e.SourceIP)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// hashField appends one field of the canonical encoding to b.
func hashField[V string | []byte](b []byte, name string, value V) []byte {
	b = append(b, name...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(value)), 10)
	b = append(b, '\n')
	b = append(b, value...)
	return append(b, '\n')
}

// AuditChainStatus is what VerifyAuditChains found in one writer's chain.
type AuditChainStatus struct {
	Writer string `json:"writer"`
	// Events is how many events were checked: all of the chain's when it
	// is intact, those before the break otherwise.
	Events int64 `json:"events"`
	// FirstSeq is the seq of the chain's oldest event: 1, or the one
	// after CheckpointSeq; 0 when no event is left.
	FirstSeq uint64 `json:"first_seq"`
	// LastSeq and LastHash are the last intact event's: the head, when
	// nothing is broken (the checkpoint's, when retention deleted every
	// event). Compare them with an anchor kept elsewhere to learn whether
	// the newest events were deleted.
	LastSeq  uint64 `json:"last_seq"`
	LastHash string `json:"last_hash"`
	// CheckpointSeq is the seq of the newest event retention deleted,
	// which the chain continues from; 0 when it deleted none.
	// CheckpointAt is that event's time.
	CheckpointSeq uint64     `json:"checkpoint_seq,omitempty"`
	CheckpointAt  *time.Time `json:"checkpoint_at,omitempty"`
	// OK says the chain verifies: Break is nil.
	OK bool `json:"ok"`
	// Break is the first broken link, or nil when the chain verifies.
	Break *AuditChainBreak `json:"break,omitempty"`
}

// AuditChainBreak is the first place a chain does not hold.
type AuditChainBreak struct {
	// ID and Seq are the event at the break: the altered one, or the
	// first one after a gap.
	ID      uint64 `json:"id"`
	Seq     uint64 `json:"seq"`
	Problem string `json:"problem"`
}

// VerifyAuditChains walks every writer's chain in seq order and returns,
// per writer in name order, how far it holds: it recomputes each event's
// hash, checks that PrevHash is the previous event's hash, that seqs run
// 1, 2, 3… without a gap, and that ids rise with seq. It reads rows as a
// stream, so a chain of millions costs time, not memory.
//
// A chain whose oldest events retention deleted starts from the
// writer's checkpoint instead of from nothing: its oldest remaining
// event must have the seq after the checkpoint's and the checkpoint's
// hash as PrevHash. Events missing at the start of a chain without a
// checkpoint are a break like any other gap.
func (s *Store) VerifyAuditChains(ctx context.Context) ([]AuditChainStatus, error) {
	if err := s.settleAuditJournal(ctx); err != nil {
		return nil, fmt.Errorf("models: verify audit chains: %w", err)
	}
	writers, err := auditWriters(s.db.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("models: verify audit chains: %w", err)
	}
	out := make([]AuditChainStatus, 0, len(writers))
	for _, w := range writers {
		st, err := s.verifyAuditChain(ctx, w)
		if err != nil {
			return nil, fmt.Errorf("models: verify the audit chain of %s: %w", w, err)
		}
		out = append(out, st)
	}
	return out, nil
}

// verifyAuditChain checks one writer's chain up to its first break.
func (s *Store) verifyAuditChain(ctx context.Context, writer string) (AuditChainStatus, error) {
	db := s.db.WithContext(ctx)
	st := AuditChainStatus{Writer: writer}
	cp, err := getAuditCheckpoint(db, writer)
	if err != nil {
		return st, err
	}
	if cp.Seq != 0 {
		at := cp.DeletedThroughAt
		st.CheckpointSeq, st.CheckpointAt = cp.Seq, &at
	}
	st.LastSeq, st.LastHash = cp.Seq, cp.Hash
	rows, err := db.Raw("SELECT "+auditSelectColumns+" FROM audit_events WHERE writer = ? ORDER BY seq", writer).Rows()
	if err != nil {
		return st, err
	}
	defer rows.Close()
	var prevID uint64
	for rows.Next() {
		var e AuditEvent
		if err := scanAuditEvent(rows, &e); err != nil {
			// A value no longer of its column's type: written past the
			// store. Scan fills columns in order, so the id, first, is set.
			st.Break = &AuditChainBreak{ID: e.ID, Seq: st.LastSeq + 1, Problem: "the event cannot be read, so it was altered: " + err.Error()}
			break
		}
		if st.FirstSeq == 0 {
			st.FirstSeq = e.Seq
		}
		problem := auditLinkProblem(&e, st.LastSeq, st.LastHash, prevID)
		if problem != "" && st.Events == 0 && cp.Seq != 0 {
			problem = checkpointLinkProblem(&e, cp, problem)
		}
		if problem != "" {
			st.Break = &AuditChainBreak{ID: e.ID, Seq: e.Seq, Problem: problem}
			break
		}
		st.Events++
		st.LastSeq, st.LastHash, prevID = e.Seq, e.Hash, e.ID
	}
	st.OK = st.Break == nil
	return st, rows.Err()
}

// checkpointLinkProblem rewords problem, found with the oldest remaining
// event e as cp's successor, to say what the checkpoint means.
func checkpointLinkProblem(e *AuditEvent, cp auditCheckpoint, problem string) string {
	switch {
	case e.Seq <= cp.Seq:
		return fmt.Sprintf("seq %d is at or before the checkpoint's %d, which retention deleted: the event was put back, or the checkpoint altered", e.Seq, cp.Seq)
	case e.Seq == cp.Seq+1 && e.PrevHash != cp.Hash && e.chainHash() == e.Hash:
		return "prev_hash is not the checkpoint's hash: the checkpoint, or the chain from here, was rewritten"
	}
	return problem
}

// auditLinkProblem says what is wrong with e as the successor of the
// event with prevSeq, prevHash and prevID (0, "", 0: e should be first),
// or "" if nothing is.
func auditLinkProblem(e *AuditEvent, prevSeq uint64, prevHash string, prevID uint64) string {
	switch {
	case e.Seq > prevSeq+1 && prevSeq+1 == e.Seq-1:
		return fmt.Sprintf("event %d of the chain is missing: deleted", prevSeq+1)
	case e.Seq > prevSeq+1:
		return fmt.Sprintf("events %d to %d of the chain are missing: deleted", prevSeq+1, e.Seq-1)
	case e.Seq != prevSeq+1:
		return fmt.Sprintf("seq %d follows seq %d", e.Seq, prevSeq)
	case e.chainHash() != e.Hash:
		return "the event does not match its hash: it was altered after it was written"
	case e.PrevHash != prevHash:
		return "prev_hash is not the previous event's hash: the chain was rewritten here"
	case e.ID <= prevID:
		return fmt.Sprintf("id %d does not follow the previous event's id %d: events were renumbered", e.ID, prevID)
	}
	return ""
}
