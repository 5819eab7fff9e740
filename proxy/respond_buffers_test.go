package proxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAnswerBufferHeldUntilSent: an answer read whole keeps its pooled
// buffer until the reverse proxy closes the body it was handed; one the
// pool could hand out meanwhile would be overwritten by the next answer
// read. (The pool gives a goroutine back what it last put, so a buffer
// released too early is the one taken here.)
func TestAnswerBufferHeldUntilSent(t *testing.T) {
	answer := `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"` + strings.Repeat("a", 5000) + `"}]}}`
	for _, known := range []bool{true, false} {
		st := &forwardState{callIDs: []json.RawMessage{json.RawMessage("7")}}
		resp := &http.Response{Header: http.Header{}, Body: io.NopCloser(strings.NewReader(answer)), ContentLength: -1}
		if known {
			resp.ContentLength = int64(len(answer))
		}
		if err := st.readJSONAnswer(resp); err != nil {
			t.Fatal(err)
		}
		other := answerBuffers.get()
		other.WriteString(strings.Repeat("z", len(answer)))
		got, _ := io.ReadAll(resp.Body)
		answerBuffers.put(other)
		if !bytes.Equal(got, []byte(answer)) {
			t.Fatalf("length known %v: the answer sent was overwritten: %.60s…", known, got)
		}
		if err := resp.Body.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
