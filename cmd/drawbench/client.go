package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// requestTimeout bounds every request the benchmark sends.
const requestTimeout = 10 * time.Second

// protocolVersion is the MCP revision the load speaks: the one most
// deployed clients negotiate, whose POSTs need no session when the server
// is stateless.
const protocolVersion = "2025-06-18"

// echoText is what every tools/call asks echo to return.
const echoText = "hello through the gateway"

// Request bodies.
var (
	callBody = []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + echoText + `"}}}`)
	listBody = []byte(`{"jsonrpc":"2.0","id":8,"method":"tools/list"}`)
)

// newClient reaches addr whatever host a URL names, as a client of the
// route host bench.localhost:PORT would through DNS, keeping up to conns
// connections alive.
func newClient(addr string, conns int) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, addr)
			},
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

// newRPC is a JSON-RPC POST to ep, with the headers an MCP client sends.
func newRPC(ctx context.Context, ep routeInfo, body []byte) *http.Request {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		panic(err) // ep.URL was checked when the target was made
	}
	h := req.Header
	h["Content-Type"] = []string{"application/json"}
	h["Accept"] = []string{"application/json, text/event-stream"}
	h["Mcp-Protocol-Version"] = []string{protocolVersion}
	if ep.Bearer != "" {
		h["Authorization"] = []string{"Bearer " + ep.Bearer}
	}
	return req
}

// rpcAnswer is a JSON-RPC response, as much of it as the checks read.
type rpcAnswer struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// readAnswer decodes body as the JSON-RPC answer to request id, with a
// result rather than an error.
func readAnswer(status int, body []byte, id string) (json.RawMessage, error) {
	if status != http.StatusOK {
		return nil, fmt.Errorf("status %d: %.200s", status, body)
	}
	var a rpcAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("not one JSON-RPC answer: %v: %.200s", err, body)
	}
	switch {
	case a.Error != nil:
		return nil, fmt.Errorf("JSON-RPC error %d: %s", a.Error.Code, a.Error.Message)
	case a.JSONRPC != "2.0" || string(a.ID) != id || len(a.Result) == 0:
		return nil, fmt.Errorf("not the answer to request %s: %.200s", id, body)
	}
	return a.Result, nil
}

// checkCall checks a tools/call answer: echo's result, not an error.
func checkCall(status int, body []byte, _ bool) error {
	raw, err := readAnswer(status, body, "7")
	if err != nil {
		return err
	}
	var res struct {
		IsError    bool `json:"isError"`
		Structured struct {
			Text string `json:"text"`
		} `json:"structuredContent"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	if res.IsError || res.Structured.Text != echoText {
		return fmt.Errorf("echo answered %.200s", raw)
	}
	return nil
}

// listChecker checks a tools/list answer of the many-tools server: every
// tool, or, filtered, exactly those the policy does not deny.
func listChecker(tools int) func(int, []byte, bool) error {
	return func(status int, body []byte, filtered bool) error {
		raw, err := readAnswer(status, body, "8")
		if err != nil {
			return err
		}
		var res struct {
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			return err
		}
		want := tools
		if filtered {
			want = tools / 2
		}
		if len(res.Tools) != want {
			return fmt.Errorf("%d tools listed, want %d", len(res.Tools), want)
		}
		for _, t := range res.Tools {
			if filtered && strings.HasPrefix(t.Name, "admin_") {
				return fmt.Errorf("the policy denies %s, yet it was listed", t.Name)
			}
		}
		return nil
	}
}

// roundTrip sends req and reads the whole answer into buf.
func roundTrip(client *http.Client, req *http.Request, buf *bytes.Buffer) (int, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// newProber returns a function that calls echo through the gateway at
// addr and reports whether the policy let it through: true for echo's
// answer, false for the policy's refusal, an error for anything else.
func newProber(addr string, ep routeInfo) func(context.Context) (bool, error) {
	client := newClient(addr, 1)
	var buf bytes.Buffer
	return func(ctx context.Context) (bool, error) {
		status, err := roundTrip(client, newRPC(ctx, ep, callBody), &buf)
		if err != nil {
			return false, err
		}
		if status == http.StatusOK {
			var a rpcAnswer
			if json.Unmarshal(buf.Bytes(), &a) == nil && a.Error != nil && a.Error.Code == codeForbidden {
				return false, nil
			}
		}
		if err := checkCall(status, buf.Bytes(), false); err != nil {
			return false, fmt.Errorf("probe: %w", err)
		}
		return true, nil
	}
}

// codeForbidden is the JSON-RPC error code of the gateway's policy denial.
const codeForbidden = -32001
