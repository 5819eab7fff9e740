package proxy

import (
	"bytes"
	"encoding/json"
)

// rpcOutcome is what a JSON-RPC answer says of the call, for the audit
// log: a 200 can carry a failed call, and a failed tool is not a failed
// request. Both stay nil when the answer was not read.
type rpcOutcome struct {
	code    *int  // the error's code, when the answer is a JSON-RPC error
	isError *bool // result.isError, when the answer is a tool result
}

// answerOutcome reads the outcome of one JSON-RPC response. A batch, or
// anything else, says nothing.
func answerOutcome(body []byte) rpcOutcome {
	o, _ := responseOutcome(body)
	return o
}

// responseOutcome reads one JSON-RPC response: its outcome and its id.
func responseOutcome(body []byte) (rpcOutcome, json.RawMessage) {
	var answer struct {
		ID    json.RawMessage `json:"id"`
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
		Result *struct {
			IsError *bool `json:"isError"`
		} `json:"result"`
	}
	if body = bytes.TrimLeft(body, " \t\r\n"); len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &answer) != nil {
		return rpcOutcome{}, nil
	}
	var o rpcOutcome
	if answer.Error != nil {
		o.code = &answer.Error.Code
	}
	if answer.Result != nil {
		o.isError = answer.Result.IsError
	}
	return o, answer.ID
}

// watchOutcome notes, from the events of a stream, the outcome of the
// answer to one of ids, leaving the events as they are.
func (st *forwardState) watchOutcome(data []byte) {
	o, id := responseOutcome(data)
	if id == nil {
		return
	}
	for _, want := range st.callIDs {
		if bytes.Equal(bytes.TrimSpace(id), want) {
			st.outcome = o
			return
		}
	}
}
