package policy

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

type valKind uint8

const (
	vMissing valKind = iota // no such claim or argument
	vOther                  // null or an object: present, but not comparable
	vScalar                 // a string, number or boolean, as text
	vStrings                // a []string (groups, some claims)
	vAnys                   // a JSON array
)

// values is a claim or an argument seen as a scalar or a list, without
// copying it.
type values struct {
	kind valKind
	one  string
	strs []string
	anys []any
}

// valuesOf classifies a decoded JSON value (or a claim a caller built).
func valuesOf(x any) values {
	switch x := x.(type) {
	case []string:
		return values{kind: vStrings, strs: x}
	case []any:
		return values{kind: vAnys, anys: x}
	}
	if s, ok := scalarText(x); ok {
		return values{kind: vScalar, one: s}
	}
	return values{kind: vOther}
}

// single returns the value when there is exactly one.
func (v values) single() (string, bool) {
	switch {
	case v.kind == vScalar:
		return v.one, true
	case v.kind == vStrings && len(v.strs) == 1:
		return v.strs[0], true
	case v.kind == vAnys && len(v.anys) == 1:
		return scalarText(v.anys[0])
	}
	return "", false
}

// contains reports whether x is the value or one of the list's items.
func (v values) contains(x string) bool {
	switch v.kind {
	case vScalar:
		return v.one == x
	case vStrings:
		for _, s := range v.strs {
			if s == x {
				return true
			}
		}
	case vAnys:
		for _, a := range v.anys {
			if s, ok := scalarText(a); ok && s == x {
				return true
			}
		}
	}
	return false
}

// describe renders the value for explanations, only when detail is set.
func describe(v values, detail bool) string {
	if !detail {
		return ""
	}
	switch v.kind {
	case vMissing:
		return missing
	case vOther:
		return "(null or object)"
	case vScalar:
		return v.one
	case vStrings:
		return "[" + strings.Join(v.strs, ", ") + "]"
	}
	parts := make([]string, len(v.anys))
	for i, a := range v.anys {
		if s, ok := scalarText(a); ok {
			parts[i] = s
		} else {
			parts[i] = "(null or object)"
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// scalarText returns a scalar as the text it is compared by: strings as
// they are, numbers and booleans as JSON writes them. Only numbers that
// are not json.Number allocate.
func scalarText(x any) (string, bool) {
	switch x := x.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case float64:
		return formatFloat(x), true
	case float32:
		return formatFloat(float64(x)), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	}
	return "", false
}

// formatFloat writes f as encoding/json would: 3, 2.5, 1e+21.
func formatFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
