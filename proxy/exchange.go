package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/mcp"
	"github.com/drawbridge/drawbridge/proxy/policy"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// AuditSink records what the gateway decides. proxy/audit's Writer is
// one: RecordAll returns once the events are durable.
type AuditSink interface {
	RecordAll(ctx context.Context, evs []*models.AuditEvent) ([]uint64, error)
	Outcome(o models.AuditOutcome)
	// Expect counts n more requests in flight (n < 0: fewer), which may
	// call RecordAll soon: a group commit may wait for them.
	Expect(n int)
}

// exchange is one authenticated request on its way through the gateway.
type exchange struct {
	e         *Engine
	w         http.ResponseWriter
	r         *http.Request
	snap      *Snapshot
	route     *Route
	id        *Identity
	in        policy.Input
	start     time.Time
	requestID string
	toolsList []json.RawMessage // ids of tools/list requests, whose answers are filtered
	callIDs   []json.RawMessage // ids of tools/call requests, whose outcomes are recorded
	batch     bool              // the POST body was a JSON-RPC batch
	events    []uint64          // audit events awaiting their outcome
}

// decide reads the request, decides it message by message, and records
// the decisions before anything goes upstream. It reports whether the
// request may be forwarded; if not, it has answered.
func (x *exchange) decide() bool {
	if x.r.Method != http.MethodPost {
		// A GET stream or a DELETE of a session: no message to read, the
		// policies decide on the HTTP method and path. So no body may
		// come with it: unread, it would go upstream undecided, to a
		// server (or a method-override layer) that might run it.
		if carriesBody(x.w, x.r) {
			x.e.refuseUnreadable(x.w, x.route, &mcp.Error{Status: http.StatusBadRequest, Code: mcp.CodeInvalidRequest,
				Message: "only a POST may carry a body"})
			return false
		}
		d := policy.Evaluate(x.route.Policies, &x.in)
		return x.record([]mcp.Message{{}}, []policy.Decision{d}, d.Allow)
	}
	req, err := readBody(x.w, x.r, x.route.MaxRequestBytes)
	if err != nil {
		x.e.refuseUnreadable(x.w, x.route, err)
		return false
	}
	x.batch = req.Batch
	var msgs []mcp.Message
	var decisions []policy.Decision
	allow := true
	for _, m := range req.Messages {
		if m.IsResponse {
			continue // an answer to the server's own request: nothing to decide
		}
		x.in.MCPMethod, x.in.MCPTool, x.in.Arguments = m.Method, m.Tool, m.Arguments
		d := policy.Evaluate(x.route.Policies, &x.in)
		msgs, decisions = append(msgs, m), append(decisions, d)
		allow = allow && d.Allow
		switch {
		case m.ID == nil:
		case m.Method == "tools/list":
			x.toolsList = append(x.toolsList, m.ID)
		case m.Method == "tools/call":
			x.callIDs = append(x.callIDs, m.ID)
		}
	}
	return x.record(msgs, decisions, allow)
}

// record writes one audit event per message, and answers a denial. When
// allow, the events must be durable before the request goes on: if they
// cannot be written, the request is refused (fail closed).
func (x *exchange) record(msgs []mcp.Message, decisions []policy.Decision, allow bool) bool {
	var evs []*models.AuditEvent
	if x.e.audit != nil {
		evs = make([]*models.AuditEvent, len(msgs))
		for i, m := range msgs {
			evs[i] = x.event(m, decisions[i], allow)
		}
	}
	if !allow {
		var ids []uint64
		if len(evs) > 0 {
			var err error
			if ids, err = x.e.audit.RecordAll(x.r.Context(), evs); err != nil {
				x.e.log.Error("proxy: audit a denial", "route", x.route.Name, "error", err)
			}
		}
		status := x.deny(msgs, decisions)
		// A denial is answered here: its outcome is known at once.
		code := codeForbidden
		for _, id := range ids {
			x.e.audit.Outcome(models.AuditOutcome{
				ID: id, Status: status, RPCErrorCode: &code, Duration: time.Since(x.start), At: time.Now(),
			})
		}
		return false
	}
	if len(evs) > 0 {
		ids, err := x.e.audit.RecordAll(x.r.Context(), evs)
		if err != nil && x.snap.auditFailOpen {
			// The admin chose availability over the record: the call goes
			// on unaudited, counted, and the console says so.
			x.e.metrics.unaudited.Inc()
			x.e.log.Error("proxy: audit log unavailable; request let through (audit fail-open is on)", "route", x.route.Name, "error", err)
			return true
		}
		if err != nil {
			x.e.log.Error("proxy: audit log unavailable; request refused", "route", x.route.Name, "error", err)
			x.e.count(x.route, "error", http.StatusServiceUnavailable)
			writeRPCError(x.w, http.StatusServiceUnavailable, errorBody(codeAuditDown,
				"Drawbridge could not record this request in its audit log, so it was not sent."))
			return false
		}
		x.events = ids
	}
	return true
}

// deny answers the first denied message, naming its id, and returns the
// HTTP status it answered with.
//
// A POST of one request (a message with an id) is answered 200 with its
// JSON-RPC error response: the gateway read the request and decided it,
// and that answer is an ordinary JSON-RPC response. A 403 would reach
// clients as a transport failure instead: the Go SDK takes it for an
// OAuth step-up and sends the request again, the TypeScript SDK raises
// a transport error in place of the error code. Where there is no one
// response to give, it stays 403: a notification (no id to answer), a
// batch refused whole because one of its messages is denied, and a GET
// stream or DELETE denied on its HTTP method or path.
func (x *exchange) deny(msgs []mcp.Message, decisions []policy.Decision) int {
	status := http.StatusForbidden
	if x.r.Method == http.MethodPost && !x.batch && len(msgs) == 1 && msgs[0].ID != nil {
		status = http.StatusOK
	}
	x.e.count(x.route, "deny", status)
	for i, d := range decisions {
		if d.Allow {
			continue
		}
		m := msgs[i]
		x.e.log.Info("proxy: denied", "route", x.route.Name, "user", x.in.Email, "method", m.Method, "tool", m.Tool, "reason", d.String())
		writeRPCError(x.w, status, mcp.ErrorResponse(m.ID, codeForbidden, "Drawbridge policy denies "+describeCall(m), nil))
		break
	}
	return status
}

// event is the audit record of one message.
func (x *exchange) event(m mcp.Message, d policy.Decision, allow bool) *models.AuditEvent {
	ev := &models.AuditEvent{
		At: x.start, Kind: models.AuditKindMCP, RequestID: x.requestID,
		UserEmail: x.id.Email, ServiceAccount: x.id.ServiceAccount, ClientID: x.id.ClientID,
		RouteID: &x.route.ID, RouteName: x.route.Name, HTTPMethod: x.r.Method, MCPMethod: m.Method, Tool: m.Tool,
		Arguments: string(m.Arguments), Decision: models.AuditAllow, Reasons: reasonsJSON(d.Reasons),
		ConfigVersion: x.snap.Version, SourceIP: x.in.SourceIP.String(),
	}
	if uid, err := strconv.ParseUint(x.id.UserID, 10, 64); err == nil {
		u := uint(uid)
		ev.UserID = &u
	}
	if !allow {
		ev.Decision = models.AuditDeny
	}
	return ev
}

// forward sends the request upstream, streams the answer back, and
// completes the audit events with the outcome.
func (x *exchange) forward() {
	x.e.metrics.overhead.WithLabelValues(x.route.Name).Observe(time.Since(x.start).Seconds())
	st := &forwardState{route: x.route, input: x.in, toolsList: x.toolsList, callIDs: x.callIDs}
	if x.e.asserter != nil {
		var err error
		st.assertion, err = x.e.asserter.Sign(token.Assertion{
			Subject: x.id.UserID, Email: x.id.Email, Groups: x.id.Groups, Audience: x.route.From,
			ServiceAccount: x.id.ServiceAccount, ClientID: x.id.ClientID,
		})
		if err != nil {
			x.e.log.Error("proxy: sign assertion", "error", err)
			writeRPCError(x.w, http.StatusInternalServerError, errorBody(codeUpstream, "Drawbridge could not sign the request."))
			return
		}
	}
	rec := &statusRecorder{ResponseWriter: x.w}
	if x.route.App != nil {
		var ok bool
		if st.bearer, ok = x.upstreamToken(rec); !ok {
			x.complete(rec, st)
			return
		}
	}
	x.route.forward.proxy.ServeHTTP(rec, x.r.WithContext(withForwardState(x.r.Context(), st)))
	x.complete(rec, st)
}

// complete counts the request and adds its outcome to its audit events.
func (x *exchange) complete(rec *statusRecorder, st *forwardState) {
	x.e.count(x.route, "allow", rec.status())
	for _, id := range x.events {
		x.e.audit.Outcome(models.AuditOutcome{
			ID: id, Status: rec.status(), RPCErrorCode: st.outcome.ErrorCode, IsError: st.outcome.IsError,
			Duration: time.Since(x.start), ResponseBytes: rec.bytes, At: time.Now(),
		})
	}
}

// reasonsJSON encodes the reasons of a decision for the audit log: an
// array of objects with policy, block, rule, criterion and matched, each
// but block left out when empty. The value an mcp_argument rule matched
// is left out too: it is an argument, and arguments are stored redacted.
//
// Written by hand: every audited message needs it, and encoding/json's
// reflection cost a tenth of the audit writer's time (cmd/drawbench
// -profile).
func reasonsJSON(reasons []policy.Reason) string {
	b := make([]byte, 0, 2+96*len(reasons))
	b = append(b, '[')
	for i, r := range reasons {
		if i > 0 {
			b = append(b, ',')
		}
		matched := r.Matched
		if strings.HasPrefix(r.Criterion, "mcp_argument/") {
			matched = ""
		}
		b = append(b, '{')
		if r.Policy != "" {
			b = append(appendJSONMember(b, "policy", r.Policy), ',')
		}
		b = appendJSONMember(b, "block", r.Block)
		for _, m := range [...][2]string{{"rule", r.Rule}, {"criterion", r.Criterion}, {"matched", matched}} {
			if m[1] != "" {
				b = appendJSONMember(append(b, ','), m[0], m[1])
			}
		}
		b = append(b, '}')
	}
	return string(append(b, ']'))
}

// appendJSONMember appends "key":value, value quoted as a JSON string
// (invalid UTF-8 becomes U+FFFD). key is a plain ASCII name.
func appendJSONMember(b []byte, key, value string) []byte {
	b = append(append(append(b, '"'), key...), `":`...)
	b, _ = jsontext.AppendQuote(b, value) // the error only reports U+FFFD's use
	return b
}

func describeCall(m mcp.Message) string {
	if m.Tool != "" {
		return "calling the tool " + m.Tool + "."
	}
	if m.Method == "" {
		return "this request."
	}
	return m.Method + "."
}

// codeAuditDown is the JSON-RPC error code of a request refused because
// it could not be audited.
const codeAuditDown = -32004
