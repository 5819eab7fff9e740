package models

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// snapshotText renders a snapshot for the history as YAML that reads like
// the config file: keys in struct order (maps sorted), two-space indent,
// and a multi-line string such as a policy's source as a literal block
// ("source: |"), so two snapshots of the same object diff line by line.
// The text ends with a newline, like a file; a nil v is "".
//
// Snapshot types hold what an admin would want to see change, by name
// rather than ID, and never a secret (see secretMarker); they leave out
// timestamps, which would make every update look different.
func snapshotText(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Struct {
		return "", fmt.Errorf("snapshot: %T is not a struct", v)
	}
	// yaml.v3 writes a literal block only when its conservative check
	// passes (a line with trailing spaces, or an emoji, turns the whole
	// source into one double-quoted line of escapes), and loses a leading
	// blank line when it does. So the fields are written one by one, and
	// a multi-line string is written here when a literal block can hold
	// it verbatim.
	var out strings.Builder
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if s, ok := rv.Field(i).Interface().(string); ok && name != "-" && literalSafe(s) {
			if name == "" {
				name = strings.ToLower(f.Name) // as yaml.v3 names it
			}
			out.WriteString(name + ": " + literalBlock(s))
			continue
		}
		// Anything else goes to yaml.v3 as a struct of this one field, so
		// its tag (name, omitempty, flow) means what it means there.
		one := reflect.New(reflect.StructOf([]reflect.StructField{f})).Elem()
		one.Field(0).Set(rv.Field(i))
		text, err := encodeYAML(one.Interface())
		if err != nil {
			return "", err
		}
		if text != "{}\n" { // the field was omitted
			out.WriteString(text)
		}
	}
	return out.String(), nil
}

func encodeYAML(v any) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	return buf.String(), nil
}

// literalSafe reports whether s is a multi-line string that a literal
// block holds verbatim: every character is printable YAML other than a
// line break a parser would read as "\n" (CR, NEL, U+2028, U+2029).
// Anything else is left to yaml.v3, which escapes it in a quoted string.
func literalSafe(s string) bool {
	if !strings.Contains(s, "\n") || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return false
		case r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff:
			return false
		}
	}
	return true
}

// literalIndent is how far a literal block's lines sit under their key.
const literalIndent = "  "

// literalBlock renders s, which literalSafe accepts, as a literal block
// scalar for a key at the margin: the header, then each line indented
// (an empty line left empty), ending with a newline. The header states the
// indentation when the text starts with white space or a blank line,
// either of which would otherwise be taken for indentation, and the
// chomping that keeps the final newlines: "-" for none, "+" for more than
// one (or for text that is only newlines).
func literalBlock(s string) string {
	body := strings.TrimRight(s, "\n")
	finals := len(s) - len(body)
	var b strings.Builder
	b.WriteString("|")
	if body != "" && strings.ContainsRune(" \t\n", rune(body[0])) {
		fmt.Fprint(&b, len(literalIndent))
	}
	switch {
	case finals == 0:
		b.WriteString("-")
	case finals > 1 || body == "":
		b.WriteString("+")
	}
	b.WriteString("\n")
	for _, line := range strings.Split(body, "\n") {
		if line != "" {
			b.WriteString(literalIndent + line)
		}
		b.WriteString("\n")
	}
	for range finals - 1 {
		b.WriteString("\n")
	}
	return b.String()
}

// snapshotPair renders before and after (nil for none), and reports
// whether they differ: an update whose snapshots are equal changes
// nothing, and so is neither written nor recorded.
func snapshotPair(before, after any) (b, a string, differ bool, err error) {
	if b, err = snapshotText(before); err != nil {
		return "", "", false, err
	}
	if a, err = snapshotText(after); err != nil {
		return "", "", false, err
	}
	return b, a, b != a, nil
}

// Markers that stand in for a secret in a snapshot.
const (
	secretUnset   = "(unset)"
	secretSet     = "(set)"
	secretChanged = "(changed)"
)

// secretMarker describes a secret without showing it: whether one is set
// and, on the after side of an update, whether it was replaced.
func secretMarker(set, replaced bool) string {
	switch {
	case !set:
		return secretUnset
	case replaced:
		return secretChanged
	default:
		return secretSet
	}
}
