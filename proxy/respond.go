package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/drawbridge/drawbridge/proxy/mcp"
	"github.com/drawbridge/drawbridge/proxy/policy"
)

// maxFilteredBody caps a JSON tools/list answer read whole for filtering.
const maxFilteredBody = 16 << 20

// smallAnswer is the size up to which any JSON answer is read for a
// JSON-RPC error code: an error is small, a list of tools is not.
const smallAnswer = 4 << 10

// maxInspectedAnswer is the largest JSON answer of known length read whole
// for its outcome; larger ones stream through unread.
const maxInspectedAnswer = 1 << 20

// forwardState is what the answer's handling needs to know of the request.
type forwardState struct {
	route *Route
	input policy.Input
	// toolsList are the ids of tools/list requests, whose answers are
	// filtered to the tools this caller may call.
	toolsList []json.RawMessage
	// callIDs are the ids of tools/call requests, whose outcome a stream
	// of events is watched for.
	callIDs []json.RawMessage
	// assertion is the signed X-Drawbridge-Assertion to send upstream.
	assertion string
	// bearer is the Authorization the upstream gets: the user's upstream
	// token on an MCP route with an app, the user's Drawbridge token on an
	// mcp_client route, or "" for none.
	bearer string
	// outcome is what the answer said, when it was read.
	outcome mcp.Outcome
}

type forwardKey struct{}

func withForwardState(ctx context.Context, s *forwardState) context.Context {
	return context.WithValue(ctx, forwardKey{}, s)
}

func forwardStateOf(ctx context.Context) *forwardState {
	s, _ := ctx.Value(forwardKey{}).(*forwardState)
	return s
}

// modifyAnswer is the reverse proxy's ModifyResponse. tools/list answers,
// JSON or a stream of events, lose the tools the caller may not call; a
// small JSON answer is read for its JSON-RPC error code or isError, for
// the audit log.
func modifyAnswer(resp *http.Response) error {
	dropOurCookies(resp.Header)
	st := forwardStateOf(resp.Request.Context())
	if st == nil {
		return nil
	}
	if resp.StatusCode == http.StatusUnauthorized && st.route.App != nil {
		// The upstream refused the user's token there: its challenge
		// would send the client to the upstream's own sign-in, which the
		// client has no business with.
		resp.Header.Del("WWW-Authenticate")
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case mt == "application/json" && (len(st.toolsList) > 0 || (resp.ContentLength >= 0 && resp.ContentLength <= maxInspectedAnswer)):
		return st.readJSONAnswer(resp)
	case mt == "text/event-stream" && (len(st.toolsList) > 0 || len(st.callIDs) > 0):
		filter := st.streamFilter()
		pr, pw := io.Pipe()
		src := resp.Body
		go func() {
			err := mcp.FilterSSE(pw, src, filter)
			src.Close()
			pw.CloseWithError(err)
		}()
		resp.Body = pr
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
	case len(st.toolsList) > 0 && resp.StatusCode < 300 && mt != "text/event-stream":
		return fmt.Errorf("tools/list answered with content type %q", mt)
	}
	return nil
}

// dropOurCookies removes the cookies an upstream tries to set under
// Drawbridge's names: an app on a route host could otherwise plant a
// session of its choosing.
func dropOurCookies(h http.Header) {
	cookies := h.Values("Set-Cookie")
	if len(cookies) == 0 {
		return
	}
	h.Del("Set-Cookie")
	for _, c := range cookies {
		name, _, _ := strings.Cut(strings.TrimSpace(c), "=")
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(name)), "drawbridge") {
			h.Add("Set-Cookie", c)
		}
	}
}

// readJSONAnswer reads a JSON answer whole, filters it if it answers a
// tools/list, notes its outcome, and puts it back.
func (st *forwardState) readJSONAnswer(resp *http.Response) error {
	buf, err := readAnswer(resp)
	resp.Body.Close()
	if err != nil {
		answerBuffers.put(buf)
		return err
	}
	body := buf.Bytes()
	if len(body) > maxFilteredBody {
		answerBuffers.put(buf)
		return errors.New("JSON answer larger than 16 MiB")
	}
	if len(st.toolsList) > 0 {
		filtered, err := st.toolsListFilter()(body)
		if err != nil {
			answerBuffers.put(buf)
			return fmt.Errorf("tools/list answer could not be filtered: %w", err)
		}
		// FilterAnswer returns body itself when it removes nothing, and a
		// new, shorter slice when it does: then the buffer is free now.
		if len(filtered) != len(body) {
			answerBuffers.put(buf)
			buf = nil
		}
		body = filtered
	}
	// A call's outcome is worth a read of the whole answer; for anything
	// else only a small answer is read, where a JSON-RPC error would be.
	if len(st.callIDs) > 0 || len(body) <= smallAnswer {
		st.outcome, _ = mcp.ReadOutcome(body)
	}
	resp.Body = &answerBody{Reader: bytes.NewReader(body), buf: buf}
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// streamFilter is applied to the data of each event of a streamed answer:
// tools/list answers are filtered, and the outcome of a call is noted.
func (st *forwardState) streamFilter() func([]byte) ([]byte, error) {
	list := st.toolsListFilter()
	return func(data []byte) ([]byte, error) {
		if len(st.callIDs) > 0 {
			st.watchOutcome(data)
		}
		if len(st.toolsList) == 0 {
			return data, nil
		}
		return list(data)
	}
}

// readAnswer reads an answer's body into a buffer from answerBuffers,
// sized at once when its length is known (the transport holds the
// upstream to it).
func readAnswer(resp *http.Response) (*bytes.Buffer, error) {
	buf := answerBuffers.get()
	if n := resp.ContentLength; n >= 0 && n <= maxFilteredBody {
		buf.Grow(int(n))
		_, err := io.CopyN(buf, resp.Body, n)
		return buf, err
	}
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxFilteredBody+1))
	return buf, err
}

// answerBuffers keeps the buffers JSON answers are read into: a list of
// tools is a few hundred kilobytes, read whole for every tools/list, and
// growing a fresh buffer each time was most of what the gateway
// allocated for one.
var answerBuffers = bufferCache{max: 1 << 20}

// bufferCache is a pool of byte buffers; one that grew past max is left
// to the collector rather than kept.
type bufferCache struct {
	pool sync.Pool
	max  int
}

func (c *bufferCache) get() *bytes.Buffer {
	if b, ok := c.pool.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func (c *bufferCache) put(b *bytes.Buffer) {
	if b == nil || b.Cap() > c.max {
		return
	}
	b.Reset()
	c.pool.Put(b)
}

// answerBody is an answer read whole, handed back to the reverse proxy
// to copy to the client; Close returns its buffer (nil when the answer
// is a filtered copy) to answerBuffers.
type answerBody struct {
	*bytes.Reader
	buf *bytes.Buffer
}

func (b *answerBody) Close() error {
	answerBuffers.put(b.buf)
	b.buf = nil
	return nil
}

// toolsListFilter filters the tools/list answers among a JSON answer or
// the data of one event.
func (st *forwardState) toolsListFilter() func([]byte) ([]byte, error) {
	allow := st.toolAllowed()
	return func(data []byte) ([]byte, error) {
		out, _, err := mcp.FilterAnswer(data, st.toolsList, allow)
		return out, err
	}
}

// toolAllowed decides, for each tool a list names, whether this caller
// could call it; a tool only a call with particular arguments could use
// is listed, since the call itself is decided again.
func (st *forwardState) toolAllowed() func(string) bool {
	in := st.input
	in.MCPMethod, in.Arguments = "tools/call", nil
	return func(tool string) bool {
		in.MCPTool = tool
		return policy.Allowed(st.route.Policies, &in)
	}
}

// upstreamError answers when the upstream cannot be reached, or its answer
// cannot be passed on safely: 502 with a JSON-RPC error naming the route,
// never the Go error.
func (e *Engine) upstreamError(r *Route) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, req *http.Request, err error) {
		if errors.Is(err, context.Canceled) && req.Context().Err() != nil {
			return // the client went away
		}
		e.log.Warn("proxy: upstream failed", "route", r.Name, "error", err)
		status := http.StatusBadGateway
		if errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		writeRPCError(w, status, errorBody(codeUpstream, "The MCP server behind route "+r.Name+" did not answer properly."))
	}
}

// codeUpstream is the JSON-RPC error code of an upstream failure.
const codeUpstream = -32003

// statusRecorder remembers the status written, and passes Flush on so
// that streams are not buffered.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

func statusText(code int) string { return strconv.Itoa(code) }
