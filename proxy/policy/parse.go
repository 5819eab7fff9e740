package policy

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	blockNames    = []string{"allow", "deny"}
	operatorNames = []string{"and", "or", "not", "nor"}
)

// policy compiles the document root: one rule object, or (as in PPL) a
// list of them.
func (c *compiler) policy(root *yaml.Node, p *Policy) {
	root = c.deref(root)
	if root == nil {
		return
	}
	switch {
	case root.Kind == yaml.MappingNode:
		c.ruleObject(root, "", p)
	case root.Kind == yaml.SequenceNode && len(root.Content) > 0:
		for i, item := range root.Content {
			if item = c.deref(item); item == nil {
				continue
			}
			if item.Kind != yaml.MappingNode {
				c.fail(item, "e.g. `- allow: {and: […]}`", "expected a rule with `allow` or `deny`")
				continue
			}
			c.ruleObject(item, "["+strconv.Itoa(i)+"].", p)
		}
	case isNull(root):
		c.fail(root, "expected an `allow` or a `deny` block", "empty policy")
		return
	default:
		c.fail(root, "expected a mapping with `allow` and/or `deny`", "a policy cannot be %s", kindName(root))
		return
	}
	if len(c.errs) == 0 && len(p.allow)+len(p.deny) == 0 {
		c.fail(root, "expected an `allow` or a `deny` block", "a policy needs at least one block")
	}
}

// ruleObject compiles {allow: …, deny: …}.
func (c *compiler) ruleObject(m *yaml.Node, prefix string, p *Policy) {
	for _, kv := range c.pairs(m) {
		switch name := kv[0].Value; name {
		case "allow":
			p.allow = append(p.allow, c.block(kv[0], kv[1], prefix+name, name)...)
		case "deny":
			p.deny = append(p.deny, c.block(kv[0], kv[1], prefix+name, name)...)
		default:
			c.fail(kv[0], expected(name, blockNames), "unknown key `%s`", name)
		}
	}
}

// block compiles the value of allow or deny: a mapping of operators. As in
// PPL, several operators in one block are alternatives (any may fire).
func (c *compiler) block(key, v *yaml.Node, path, block string) []node {
	v = c.deref(v)
	if v == nil {
		return nil
	}
	if v.Kind == yaml.SequenceNode {
		c.fail(v, "put `and:` (every rule must match) or `or:` (any rule may match) above the list",
			"`%s` holds a bare list of rules", block)
		return nil
	}
	if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
		c.fail(key, "expected one of and, or, not, nor", "`%s` needs an operator", block)
		return nil
	}
	var out []node
	for _, kv := range c.pairs(v) {
		name := kv[0].Value
		switch {
		case isOperator(name):
			out = append(out, c.operator(kv[0], kv[1], path+"."+name, block, 1))
		case isCriterion(name):
			c.fail(kv[0], "put it in a list under `and:` or `or:`", "criterion `%s` directly under `%s`", name, block)
		default:
			c.fail(kv[0], expected(name, operatorNames), "unknown operator `%s`", name)
		}
	}
	return out
}

// operator compiles `and: [rules…]` (or or/not/nor).
func (c *compiler) operator(key, v *yaml.Node, path, block string, depth int) node {
	n := node{op: operatorKind(key.Value), name: key.Value, block: block, path: path, line: key.Line, col: key.Column}
	if depth > maxDepth {
		c.fail(key, "", "rules nested too deeply (more than %d levels)", maxDepth)
		return n
	}
	v = c.deref(v)
	switch {
	case v == nil:
		return n
	case v.Kind != yaml.SequenceNode:
		c.fail(v, "write a `- ` list, or `[…]`", "`%s` needs a list of rules, not %s", key.Value, kindName(v))
		return n
	case len(v.Content) == 0:
		c.fail(key, "add at least one rule", "`%s` has an empty list", key.Value)
		return n
	}
	n.kids = make([]node, 0, len(v.Content))
	for i, item := range v.Content {
		if kid, ok := c.rule(item, path+"["+strconv.Itoa(i)+"]", block, depth+1); ok {
			n.kids = append(n.kids, kid)
		}
	}
	return n
}

// rule compiles one list item: a criterion {name: matcher} or a nested
// operator {and: […]}.
func (c *compiler) rule(item *yaml.Node, path, block string, depth int) (node, bool) {
	item = c.deref(item)
	if item == nil {
		return node{}, false
	}
	if item.Kind != yaml.MappingNode {
		c.fail(item, "e.g. `- email: {is: alice@example.com}`", "expected a criterion or an operator, not %s", kindName(item))
		return node{}, false
	}
	if len(item.Content) == 0 {
		c.fail(item, "e.g. `- email: {is: alice@example.com}`", "empty rule")
		return node{}, false
	}
	kvs := c.pairs(item)
	if len(kvs) > 1 {
		names := make([]string, len(kvs))
		for i, kv := range kvs {
			names[i] = "`" + kv[0].Value + "`"
		}
		c.fail(item, "give each its own `- ` item", "a rule holds exactly one criterion or operator; found %d: %s",
			len(kvs), strings.Join(names, ", "))
	}
	var out node
	for i, kv := range kvs {
		var n node
		if name := kv[0].Value; isOperator(name) {
			n = c.operator(kv[0], kv[1], path+"."+name, block, depth)
		} else {
			n = node{op: opCriterion, name: name, block: block, path: path + "." + name,
				line: kv[0].Line, col: kv[0].Column, crit: c.criterion(kv[0], kv[1])}
		}
		if i == 0 {
			out = n // the others were compiled only to report their errors too
		}
	}
	return out, len(kvs) == 1
}

// pairs returns a mapping's key/value pairs, reporting keys that are not
// plain names and keys given twice (which YAML would silently collapse).
func (c *compiler) pairs(m *yaml.Node) [][2]*yaml.Node {
	out := make([][2]*yaml.Node, 0, len(m.Content)/2)
	seen := make(map[string]int, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := c.deref(m.Content[i]), m.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode || isNull(k) {
			c.fail(k, "", "expected a name, not %s", kindName(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			c.fail(k, "first given at line "+strconv.Itoa(line), "duplicate key `%s`", k.Value)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

// deref refuses YAML aliases: expanding them could make a small document
// compile into an enormous policy, and no policy needs them.
func (c *compiler) deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		c.fail(n, "repeat the value instead", "YAML aliases (`*%s`) are not supported", n.Value)
		return nil
	}
	return n
}

func isOperator(name string) bool {
	return name == "and" || name == "or" || name == "not" || name == "nor"
}

func operatorKind(name string) opKind {
	switch name {
	case "and":
		return opAnd
	case "or":
		return opOr
	case "not":
		return opNot
	default:
		return opNor
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindName names a node's kind for messages.
func kindName(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "null"
	case n.Kind == yaml.ScalarNode:
		return "a single value"
	default:
		return "a document"
	}
}
