package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// Policy is a compiled policy. It is immutable and safe for concurrent use;
// build one with Parse.
type Policy struct {
	name   string
	source string
	// allow and deny hold one node per operator found under the block, in
	// source order, across every rule of a top-level list. A block fires
	// when any of its nodes matches (PPL's semantics).
	allow, deny []node
	// usesArgs is set when some rule reads mcp_argument/…: such a policy
	// refuses tool calls whose arguments cannot be read.
	usesArgs bool
}

// Name returns the name given to Parse.
func (p *Policy) Name() string { return p.name }

// Source returns the text given to Parse, unchanged, for the console's editor.
func (p *Policy) Source() string { return p.source }

// opKind says what a node is.
type opKind uint8

const (
	opCriterion opKind = iota
	opAnd              // every rule matches
	opOr               // at least one rule matches
	opNot              // no rule matches (PPL: ¬A ∧ ¬B)
	opNor              // not every rule matches (PPL: ¬A ∨ ¬B)
)

// node is one compiled rule: an operator over its kids, or a criterion.
type node struct {
	op    opKind
	name  string // as written: "and", "email", "mcp_argument/repo"
	block string // "allow" or "deny"
	path  string // "deny.or[1].mcp_tool"
	line  int
	col   int
	kids  []node
	crit  criterion
	// most is the most reasons the node can give, so that Evaluate
	// allocates its reasons once.
	most int
}

// count sets most on the node and its kids.
func (n *node) count() int {
	sum, most := 0, 0
	for i := range n.kids {
		k := n.kids[i].count()
		sum, most = sum+k, max(most, k)
	}
	switch n.op {
	case opAnd:
		n.most = sum
	case opOr:
		n.most = most
	default: // a criterion, or not and nor, which give themselves as reason
		n.most = 1
	}
	return n.most
}

// maxDepth bounds operator nesting so that hostile input cannot exhaust
// the stack while compiling or evaluating.
const maxDepth = 32

// Parse compiles the policy in src (YAML, or JSON, which is YAML). name
// identifies the policy in errors and decision reasons. On failure the
// error is an Errors value listing every problem found, each with its line
// and column.
func Parse(name string, src []byte) (*Policy, error) {
	root, errs := decode(name, src)
	if errs != nil {
		return nil, errs
	}
	c := &compiler{name: name}
	p := &Policy{name: name, source: string(src)}
	c.policy(root, p)
	if len(c.errs) > 0 {
		return nil, c.errs.sorted()
	}
	p.usesArgs = c.usesArgs
	for _, block := range [][]node{p.allow, p.deny} {
		for i := range block {
			block[i].count()
		}
	}
	return p, nil
}

// MustParse is like Parse but panics on error; for tests and constants.
func MustParse(name string, src string) *Policy {
	p, err := Parse(name, []byte(src))
	if err != nil {
		panic(err)
	}
	return p
}

// decode reads exactly one YAML document.
func decode(name string, src []byte) (root *yaml.Node, errs Errors) {
	// yaml.v3 is not known to panic on any input, but this reads text an
	// admin pasted: a parser bug must become an error, not a crash.
	defer func() {
		if r := recover(); r != nil {
			root, errs = nil, Errors{{Policy: name, Message: fmt.Sprintf("invalid YAML: %v", r)}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{Policy: name, Message: "empty policy", Hint: "expected an `allow` or a `deny` block"}}
		}
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, Errors{{Policy: name, Line: extra.Line, Column: extra.Column,
			Message: "a second YAML document", Hint: "a policy is one document; remove the `---`"}}
	case !errors.Is(err, io.EOF):
		return nil, yamlError(name, err)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

// compiler collects every error while turning YAML nodes into nodes.
type compiler struct {
	name     string
	errs     Errors
	usesArgs bool
}
