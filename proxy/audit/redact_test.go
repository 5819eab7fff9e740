package audit_test

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/proxy/audit"
)

func TestRedact(t *testing.T) {
	keys := audit.DefaultRedactKeys
	tests := []struct {
		name, in, want string
	}{
		{"none", ``, ``},
		{"blank", " \n", ``},
		{"empty object", `{}`, `{}`},
		{"nothing sensitive, order and numbers kept", `{"z": 1, "a": [1.50, -2e3], "m": null}`, `{"z":1,"a":[1.50,-2e3],"m":null}`},
		{"flat", `{"user":"bob","password":"hunter2"}`, `{"user":"bob","password":"[redacted]"}`},
		{"case variants", `{"Password":"a","PASSWD":"b","Api_Key":"c"}`, `{"Password":"[redacted]","PASSWD":"[redacted]","Api_Key":"[redacted]"}`},
		{"separators", `{"x-api-key":"a","apiKey":"b","private.key":"c","client secret":"d"}`,
			`{"x-api-key":"[redacted]","apiKey":"[redacted]","private.key":"[redacted]","client secret":"[redacted]"}`},
		{"substring", `{"github_token":"a","refresh_token_id":"b","cookies":["c"]}`,
			`{"github_token":"[redacted]","refresh_token_id":"[redacted]","cookies":"[redacted]"}`},
		{"nested objects", `{"conn":{"host":"db","auth":{"password":"p","user":"u"}}}`,
			`{"conn":{"host":"db","auth":{"password":"[redacted]","user":"u"}}}`},
		{"whole subtree under a key", `{"credentials":{"user":"u","x":[1,{"y":2}]},"ok":true}`,
			`{"credentials":"[redacted]","ok":true}`},
		{"arrays of objects", `{"headers":[{"name":"a","Authorization":"Bearer x"},{"Cookie":"s=1"}]}`,
			`{"headers":[{"name":"a","Authorization":"[redacted]"},{"Cookie":"[redacted]"}]}`},
		{"non-ASCII key", `{"Ünï-TOKEN":"x","ÄÖ":"y"}`, `{"Ünï-TOKEN":"[redacted]","ÄÖ":"y"}`},
		{"escaped key", `{"pass\u0077ord":"p","\"token\"":"t"}`, `{"pass\u0077ord":"[redacted]","\"token\"":"[redacted]"}`},
		{"strings that look like keys are values", `{"note":"password: x","list":["token"]}`, `{"note":"password: x","list":["token"]}`},
		{"duplicate keys each redacted", `{"token":"a","token":"b"}`, `{"token":"[redacted]","token":"[redacted]"}`},
		{"top-level array", `[{"secret":1},2]`, `[{"secret":"[redacted]"},2]`},
		{"top-level string", `"password"`, `"password"`},
		{"top-level number", ` 42 `, `42`},
		{"escapes in values kept", `{"q":"a\"b\\c\u00e9"}`, `{"q":"a\"b\\c\u00e9"}`},
		{"invalid JSON", `{"password":"hunter2"`, `{"_drawbridge":"unreadable","bytes":21}`},
		{"trailing garbage", `{"a":1} {"b":2}`, `{"_drawbridge":"unreadable","bytes":15}`},
		{"not JSON at all", `password=hunter2`, `{"_drawbridge":"unreadable","bytes":16}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := audit.Redact(json.RawMessage(tt.in), keys, 1024)
			if got != tt.want {
				t.Errorf("Redact(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if got != "" && !json.Valid([]byte(got)) {
				t.Errorf("Redact(%s) = %s, not JSON", tt.in, got)
			}
			if strings.Contains(got, "hunter2") {
				t.Errorf("Redact(%s) = %s: the secret survived", tt.in, got)
			}
		})
	}
}

func TestRedactCap(t *testing.T) {
	keys := audit.DefaultRedactKeys
	big := `{"text":"` + strings.Repeat("a", 100) + `"}` // 111 bytes
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"under", big, 111, big},
		{"over", big, 110, `{"_drawbridge":"cut","bytes":111}`},
		{"redaction brings it under", `{"token":"` + strings.Repeat("s", 200) + `"}`, 30, `{"token":"[redacted]"}`},
		{"whitespace does not count", "{\n  \"a\": 1\n}", 7, `{"a":1}`},
		{"no cap", big, 0, big},
		{"cut deep in nesting", `[[[[` + big + `]]]]`, 50, `{"_drawbridge":"cut","bytes":119}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := audit.Redact(json.RawMessage(tt.in), keys, tt.max); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRedactOwnKeys(t *testing.T) {
	got := audit.Redact(json.RawMessage(`{"ssn":"1","password":"2","SSN_last4":"3"}`), []string{"SSN", "", "-"}, 0)
	if want := `{"ssn":"[redacted]","password":"2","SSN_last4":"[redacted]"}`; got != want {
		t.Errorf("got %s, want %s (blank keys must not match everything)", got, want)
	}
}

// FuzzRedact: whatever the bytes, Redact returns "" or JSON within the
// cap (a note at worst), and no value under a sensitive key survives.
func FuzzRedact(f *testing.F) {
	for _, seed := range []string{
		`{"password":"x"}`, `[{"a":{"Token":[1,2]}}]`, `{"pass\u0077ord":"x"}`, `"s"`, `1e5`, `{"a":`,
		`{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `{"":{"":[]}}`, ` [ ] `, `{"x-api-key" : { } , "b" : [ null , true ] }`,
	} {
		f.Add([]byte(seed), 64)
	}
	keys := audit.DefaultRedactKeys
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		max = max % 4096
		if max < 0 {
			max = -max
		}
		out := audit.Redact(in, keys, max)
		if out == "" {
			if strings.Trim(string(in), " \t\r\n") != "" {
				t.Fatalf("Redact(%q) = \"\"", in)
			}
			return
		}
		// Numbers stay text: JSON has no range, so 1e700 is one.
		d := json.NewDecoder(strings.NewReader(out))
		d.UseNumber()
		var v any
		err := d.Decode(&v)
		if err == nil {
			if _, end := d.Token(); end != io.EOF {
				err = errors.New("data after the value")
			}
		}
		if err != nil {
			t.Fatalf("Redact(%q) = %q: %v", in, out, err)
		}
		if strings.HasPrefix(out, `{"_drawbridge":`) {
			return
		}
		if max > 0 && len(out) > max {
			t.Fatalf("Redact(%q, %d) = %d bytes", in, max, len(out))
		}
		checkRedacted(t, v, string(in))
	})
}

// checkRedacted fails if any value under a sensitive key is not the
// redaction marker.
func checkRedacted(t *testing.T, v any, in string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if sensitiveKey(k) {
				if x != "[redacted]" {
					t.Fatalf("in %q, %q kept %v", in, k, x)
				}
				continue
			}
			checkRedacted(t, x, in)
		}
	case []any:
		for _, x := range v {
			checkRedacted(t, x, in)
		}
	}
}

func sensitiveKey(k string) bool {
	k = strings.NewReplacer("-", "", "_", "", ".", "", " ", "").Replace(strings.ToLower(k))
	for _, p := range audit.DefaultRedactKeys {
		if strings.Contains(k, strings.ReplaceAll(p, "_", "")) {
			return true
		}
	}
	return false
}
