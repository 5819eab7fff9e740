package proxy

import (
	"bytes"

	"github.com/drawbridge/drawbridge/proxy/mcp"
)

// watchOutcome notes, from the events of a stream, the outcome of the
// answer to one of ids, leaving the events as they are.
func (st *forwardState) watchOutcome(data []byte) {
	o, ok := mcp.ReadOutcome(data)
	if !ok || o.ID == nil {
		return
	}
	for _, want := range st.callIDs {
		if bytes.Equal(o.ID, want) {
			st.outcome = o
			return
		}
	}
}
