package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// argumentCrit matches the tools/call argument an RFC 6901 pointer names.
type argumentCrit struct {
	ptr []ptrToken
	m   *valueMatcher
}

// ptrToken is one reference token of a JSON pointer, unescaped.
type ptrToken struct {
	key   string
	index int // the token as an array index, or -1 if it cannot be one
}

func (c *compiler) argumentCrit(key *yaml.Node, pointer string, v *yaml.Node) criterion {
	c.usesArgs = true
	ptr, err := parsePointer("/" + pointer)
	if err != nil {
		c.fail(key, "in a JSON pointer write `~` as `~0` and `/` inside a name as `~1`",
			"invalid JSON pointer in `%s`: %v", key.Value, err)
	}
	return argumentCrit{ptr: ptr, m: c.valueMatcher(key, v, valueMatcherNames)}
}

// parsePointer splits and unescapes an RFC 6901 pointer ("/a/b~1c").
func parsePointer(p string) ([]ptrToken, error) {
	parts := strings.Split(p, "/")[1:]
	out := make([]ptrToken, len(parts))
	for i, part := range parts {
		for j := 0; j < len(part); j++ {
			if part[j] == '~' && (j+1 == len(part) || part[j+1] != '0' && part[j+1] != '1') {
				return nil, fmt.Errorf("`~` must be followed by 0 or 1 in %q", part)
			}
		}
		// ~1 first, then ~0, so that "~01" becomes "~1" (RFC 6901 §4).
		key := strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		out[i] = ptrToken{key: key, index: arrayIndex(key)}
	}
	return out, nil
}

// arrayIndex parses "0" or a number without leading zeros; -1 otherwise.
func arrayIndex(s string) int {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return -1
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return -1
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func (a argumentCrit) eval(in *Input, detail bool) (bool, string) {
	if in.MCPTool == "" { // not a tool call: no argument can match
		return false, describe(values{}, detail)
	}
	root, present, err := in.arguments()
	if err != nil {
		return false, describe(values{}, detail)
	}
	if !present {
		return a.m.match(values{}, detail)
	}
	x := root
	for _, t := range a.ptr {
		switch cur := x.(type) {
		case map[string]any:
			x, present = lookupKey(cur, t.key)
		case []any:
			present = t.index >= 0 && t.index < len(cur)
			if present {
				x = cur[t.index]
			}
		default:
			present = false
		}
		if !present {
			return a.m.match(values{}, detail)
		}
	}
	return a.m.match(valuesOf(x), detail)
}

// lookupKey finds key in m, or else the one key equal to it ignoring
// case: an upstream written in Go reads {"PATH": …} into its Path field,
// so a rule on /path must see it too. decodeArguments refused objects
// with two such keys, so there is at most one.
func lookupKey(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// maxArgumentDepth bounds the nesting of tool arguments we decode.
const maxArgumentDepth = 100

// errArguments says the tool arguments cannot be read for sure.
var errArguments = errors.New("tool arguments are not a readable JSON value")

// decodeArguments decodes tools/call arguments, keeping numbers as their
// JSON text. Keys given twice, even differing only in case, are refused:
// the upstream might read the other one than we checked.
func decodeArguments(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errArguments
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxArgumentDepth {
		return nil, errArguments
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, errArguments
	}
	switch tok {
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err = dec.Token()
		return arr, err
	case json.Delim('{'):
		obj := map[string]any{}
		folded := map[string]struct{}{}
		for dec.More() {
			tok, err := dec.Token()
			key, ok := tok.(string)
			if err != nil || !ok {
				return nil, errArguments
			}
			lower := strings.ToLower(key)
			if _, dup := folded[lower]; dup {
				return nil, errArguments
			}
			folded[lower] = struct{}{}
			if obj[key], err = decodeValue(dec, depth+1); err != nil {
				return nil, err
			}
		}
		_, err = dec.Token()
		return obj, err
	}
	return tok, nil
}
