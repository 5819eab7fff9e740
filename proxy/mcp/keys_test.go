package mcp

import (
	"fmt"
	"strings"
	"testing"
)

// readBoth reads body as a value nothing is given meaning to (the loop of
// skipNestedAt), and member by member (memberAt), and requires the two to
// agree.
func readBoth(t *testing.T, body string) error {
	t.Helper()
	p := getScanner([]byte(body))
	_, _, skipErr := p.value()
	putScanner(p)

	p = getScanner([]byte(body))
	defer putScanner(p)
	f, err := p.openObject()
	for err == nil {
		var done bool
		if _, _, done, err = p.next(&f); done {
			break
		}
		if err == nil {
			_, _, err = p.value()
		}
	}
	if (skipErr == nil) != (err == nil) {
		t.Fatalf("%.60q: skipped, %v; member by member, %v", body, skipErr, err)
	}
	return err
}

// keys returns n distinct members "k<i>", with the values of value.
func keys(n int, value string) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%s`, i, value)
	}
	return b.String()
}

// Keys are compared by slot (length and first letter) before anything
// else, and by a set of folded keys from manyKeys on: each way must still
// refuse keys equal under case folding, and only those.
func TestObjectKeys(t *testing.T) {
	accept := []string{
		`{"ab":1,"ac":2,"ad":{"ab":1}}`, // one slot, other keys
		`{"":1,"a":2}`,
		`{"k":1,"k0":2,"s":3,"t":4}`,
		`{` + keys(40, "1") + `}`,
		`{` + keys(20, `{`+keys(20, "1")+`}`) + `}`, // nested sets of folded keys
		`{"a":{` + keys(20, "1") + `},"b":{` + keys(20, "1") + `},"k0":1}`,
		`{"é":1,"e":2}`,
	}
	for _, body := range accept {
		if err := readBoth(t, body); err != nil {
			t.Errorf("%.60q refused: %v", body, err)
		}
	}
	refuse := []string{
		`{"ab":1,"AB":2}`,
		`{"ab":1,"ac":2,"aB":3}`,
		`{"":1,"":2}`,
		`{"s":1,"ſ":2}`,
		`{"ſ":1,"S":2}`,
		`{"k":1,"K":2}`, // the Kelvin sign
		`{"é":1,"É":2}`,
		`{"a":1,"\u0061":2}`,
		`{"\u0041":1,"a":2}`,
		`{"a\u0000":1}`,
		`{` + keys(40, "1") + `,"K7":2}`,
		`{` + keys(15, "1") + `,"K3":2}`, // the key that makes the set
		`{` + keys(20, `{`+keys(20, "1")+`}`) + `,"k19":1}`,
		`{"a":{` + keys(20, "1") + `},"b":{` + keys(20, "1") + `,"K1":1}}`,
		`{"x":[{"k":1,"K":2}]}`,
	}
	for _, body := range refuse {
		wantRefused(t, readBoth(t, body), 400, CodeInvalidRequest)
	}
}
