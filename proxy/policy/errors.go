package policy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one problem found in a policy's source.
type Error struct {
	// Policy is the name given to Parse.
	Policy string
	// Line and Column locate the problem, both 1-based; Column is 0 when
	// only the line is known (YAML syntax errors), Line is 0 when neither is.
	Line, Column int
	// Message says what is wrong, e.g. "unknown matcher `frobnicate` for `mcp_tool`".
	Message string
	// Hint says what was expected or what was probably meant, e.g.
	// "expected one of is, not, …" or "did you mean `email`?". It may be empty.
	Hint string
}

// Error renders the problem on one line:
//
//	policy "eng": unknown matcher `frobnicate` for `mcp_tool` at line 4, column 9; expected one of is, not, …
func (e Error) Error() string {
	var b strings.Builder
	if e.Policy != "" {
		b.WriteString("policy ")
		b.WriteString(strconv.Quote(e.Policy))
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	switch {
	case e.Line > 0 && e.Column > 0:
		fmt.Fprintf(&b, " at line %d, column %d", e.Line, e.Column)
	case e.Line > 0:
		fmt.Fprintf(&b, " at line %d", e.Line)
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Errors is every problem found in a policy, in source order. Parse returns
// all of them at once so that an editor can mark each one.
type Errors []Error

// Error renders one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted orders the errors by position, keeping the discovery order for ties.
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Column < es[j].Column
	})
	return es
}

// fail records a problem at node n; hint may be empty.
func (c *compiler) fail(n *yaml.Node, hint, format string, args ...any) {
	e := Error{Policy: c.name, Message: fmt.Sprintf(format, args...), Hint: hint}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	c.errs = append(c.errs, e)
}

// expected builds the hint for an unknown name: a suggestion when one of
// the known names is close, the whole list otherwise.
func expected(got string, known []string) string {
	if s := closest(got, known); s != "" {
		return "did you mean `" + s + "`?"
	}
	return "expected one of " + strings.Join(known, ", ")
}

// closest returns the known name nearest to got, if it is near enough to be
// a plausible typo (edit distance at most 2, and less than half its length).
func closest(got string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		d := editDistance(strings.ToLower(got), k)
		if d < bestDist && d*2 < len(k) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// yamlError turns a yaml.v3 syntax error into Errors, keeping the line
// number yaml.v3 embeds in its messages ("yaml: line 3: …").
func yamlError(name string, err error) Errors {
	var out Errors
	msgs := []string{err.Error()}
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		e := Error{Policy: name, Message: "invalid YAML: " + m}
		if rest, ok := strings.CutPrefix(m, "line "); ok {
			if num, msg, ok := strings.Cut(rest, ": "); ok {
				if n, err := strconv.Atoi(num); err == nil {
					e.Line, e.Message = n, "invalid YAML: "+msg
				}
			}
		}
		out = append(out, e)
	}
	return out
}
