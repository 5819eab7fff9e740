package mcp

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func post(body io.Reader, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/mcp", body)
	r.Header.Set("Content-Type", contentType)
	return r
}

func TestReadAccepts(t *testing.T) {
	req, err := Read(post(strings.NewReader(call), "application/json"), 0)
	if err != nil || req.Messages[0].Tool != "search" {
		t.Fatalf("Read = %+v, %v", req, err)
	}
	// A body that fills the cap exactly is whole.
	r := post(strings.NewReader(call), "application/json")
	if _, err := Read(r, int64(len(call))); err != nil {
		t.Fatalf("body of exactly the cap: %v", err)
	}
	// Without Content-Length (chunked), the body is still read whole.
	r = post(io.MultiReader(strings.NewReader(call[:10]), strings.NewReader(call[10:])), "application/json")
	r.ContentLength = -1
	if _, err := Read(r, 0); err != nil {
		t.Fatalf("chunked: %v", err)
	}
}

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadOversize(t *testing.T) {
	// Content-Length over the cap: refused before reading.
	body := &countingReader{r: strings.NewReader(call)}
	r := post(body, "application/json")
	r.ContentLength = int64(len(call))
	_, err := Read(r, int64(len(call)-1))
	wantRefused(t, err, 413, CodeInvalidRequest)
	if body.n != 0 {
		t.Errorf("read %d bytes of a body refused by its length", body.n)
	}

	// No Content-Length: refused once one byte past the cap is read.
	body = &countingReader{r: strings.NewReader(call + strings.Repeat(" ", 1000))}
	r = post(body, "application/json")
	r.ContentLength = -1
	_, err = Read(r, int64(len(call)))
	wantRefused(t, err, 413, CodeInvalidRequest)
	if body.n > len(call)+1 {
		t.Errorf("read %d bytes, want at most the cap plus one", body.n)
	}

	// 5 MiB of whitespace inside the message: refused by the default cap,
	// never cut short and forwarded.
	padded := `{"jsonrpc":"2.0","id":1,` + strings.Repeat(" ", 5<<20) + `"method":"tools/call","params":{"name":"t"}}`
	r = post(strings.NewReader(padded), "application/json")
	r.ContentLength = -1
	_, err = Read(r, 0)
	wantRefused(t, err, 413, CodeInvalidRequest)
}

func TestReadContentType(t *testing.T) {
	body := &countingReader{r: strings.NewReader(call)}
	_, err := Read(post(body, "text/plain"), 0)
	wantRefused(t, err, 415, CodeInvalidRequest)
	if body.n != 0 {
		t.Errorf("read %d bytes of a body refused by its type", body.n)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestReadBrokenBody(t *testing.T) {
	r := post(failingReader{}, "application/json")
	r.ContentLength = -1
	_, err := Read(r, 0)
	wantRefused(t, err, 400, CodeParseError)
}
