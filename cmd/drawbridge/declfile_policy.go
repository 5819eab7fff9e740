package main

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/drawbridge/drawbridge/proxy/policy"
)

// policySource is a policy's text as the store will keep it, and the way
// back from a position in that text to one in the file, so that the
// policy language's errors name the file's lines.
type policySource struct {
	text string
	// toFile maps each node of the text, for a policy written inline as
	// YAML, to the node of the file it was written from.
	toFile map[pos]pos
	// lineOffset and colOffset place a `source: |` block: line n of the
	// text is line n+lineOffset of the file, indented by colOffset.
	lineOffset, colOffset int
	// whole is where the policy is, when nothing closer is known.
	whole pos
}

// place returns the file position of the text's line and column.
func (s *policySource) place(line, col int) pos {
	switch {
	case line <= 0:
		return s.whole
	case s.toFile != nil:
		if p, ok := s.toFile[pos{line, col}]; ok {
			return p
		}
		// The nearest node before it on the same line, else the policy.
		for c := col; c > 0; c-- {
			if p, ok := s.toFile[pos{line, c}]; ok {
				return p
			}
		}
		return s.whole
	case s.lineOffset > 0:
		if col > 0 {
			col += s.colOffset
		}
		return pos{line + s.lineOffset, col}
	}
	return s.whole
}

// inlinePolicy makes the text of a policy written as YAML inside the file
// (the allow and deny keys of a policies entry, or a Pomerium route's
// policy): the nodes re-encoded, keeping their comments and flow style.
func inlinePolicy(body *yaml.Node) (*policySource, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(body); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	s := &policySource{text: buf.String(), toFile: map[pos]pos{}, whole: at(body)}
	var again yaml.Node
	if err := yaml.Unmarshal(buf.Bytes(), &again); err != nil {
		return nil, err
	}
	root := &again
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	pairNodes(root, body, s.toFile)
	return s, nil
}

// pairNodes maps each node of text (parsed back) to its original, which
// has the same shape.
func pairNodes(text, file *yaml.Node, m map[pos]pos) {
	if text == nil || file == nil {
		return
	}
	m[at(text)] = at(file)
	if len(text.Content) != len(file.Content) {
		return
	}
	for i := range text.Content {
		pairNodes(text.Content[i], file.Content[i], m)
	}
}

// sourcePolicy makes the policySource of a `source:` value, placing a
// literal block (`source: |`) line for line in the file.
func (d *declFile) sourcePolicy(n *yaml.Node) *policySource {
	s := &policySource{text: n.Value, whole: at(n)}
	if n.Style&yaml.LiteralStyle == 0 {
		return s
	}
	// The block starts on the line after the `|`, indented as its first
	// line that is not blank.
	s.lineOffset = n.Line
	for i := n.Line; i < len(d.lines); i++ { // d.lines[i] is line i+1
		if l := d.lines[i]; strings.TrimSpace(l) != "" {
			s.colOffset = len(l) - len(strings.TrimLeft(l, " "))
			break
		}
	}
	return s
}

// checkPolicy compiles a policy as the gateway will, and reports each
// error at its place in the file.
func (d *declFile) checkPolicy(obj *objectPos, name string) {
	s := obj.source
	if s == nil || strings.TrimSpace(s.text) == "" {
		return
	}
	_, err := policy.Parse(name, []byte(s.text))
	if err == nil {
		return
	}
	var errs policy.Errors
	if !errors.As(err, &errs) {
		d.fieldProblem(obj, "source", s.whole, "%v", err)
		return
	}
	for _, e := range errs {
		msg := e.Message
		if e.Hint != "" {
			msg += "; " + e.Hint
		}
		p := s.place(e.Line, e.Column)
		if p == s.whole && e.Line > 0 {
			msg += " (line " + strconv.Itoa(e.Line) + " of its source)"
		}
		d.fieldProblem(obj, "source", p, "%s", msg)
	}
}
