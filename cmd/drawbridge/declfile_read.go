package main

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// mapping is a YAML mapping read for its keys: each key once, in order.
type mapping struct {
	keys []*yaml.Node
	vals map[string]*yaml.Node
}

// readMapping reads n as a mapping, reporting (against obj) anything
// else and repeated keys; nil if n is not a mapping.
func (d *declFile) readMapping(n *yaml.Node, what string, obj *objectPos) *mapping {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.fieldProblem(obj, what, at(n), "%s must be a mapping of keys to values, not %s", what, kindName(n))
		return nil
	}
	m := &mapping{vals: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.problem(obj, at(k), "%s has a key that is not a plain name", what)
			continue
		}
		if _, dup := m.vals[k.Value]; dup {
			d.fieldProblem(obj, k.Value, at(k), "`%s` is given twice", k.Value)
			continue
		}
		m.keys = append(m.keys, k)
		m.vals[k.Value] = v
	}
	return m
}

// readList reads n as a sequence; a null is an empty one.
func (d *declFile) readList(n *yaml.Node, what string, obj *objectPos) []*yaml.Node {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.fieldProblem(obj, what, at(n), "%s must be a list (items starting with `- `), not %s", what, kindName(n))
		return nil
	}
	return n.Content
}

// str reads a scalar as text; null is "".
func (d *declFile) str(n *yaml.Node, key string, obj *objectPos) string {
	n = deref(n)
	d.envProblem(n, key, obj)
	switch {
	case isNull(n):
		return ""
	case n.Kind != yaml.ScalarNode:
		d.fieldProblem(obj, key, at(n), "%s must be text, not %s", key, kindName(n))
		return ""
	}
	return n.Value
}

// boolean reads true or false.
func (d *declFile) boolean(n *yaml.Node, key string, obj *objectPos) (bool, bool) {
	n = deref(n)
	d.envProblem(n, key, obj)
	if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err == nil {
			return b, true
		}
		// YAML 1.1 spellings yaml.v3 still resolves as booleans.
		switch strings.ToLower(n.Value) {
		case "yes", "on":
			return true, true
		case "no", "off":
			return false, true
		}
	}
	d.fieldProblem(obj, key, at(n), "%s must be true or false, not %s", key, describe(n))
	return false, false
}

// integer reads a whole number.
func (d *declFile) integer(n *yaml.Node, key string, obj *objectPos) (int64, bool) {
	n = deref(n)
	d.envProblem(n, key, obj)
	if n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		if v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return v, true
		}
	}
	d.fieldProblem(obj, key, at(n), "%s must be a whole number, not %s", key, describe(n))
	return 0, false
}

// strList reads a list of texts.
func (d *declFile) strList(n *yaml.Node, key string, obj *objectPos) []string {
	var out []string
	for _, item := range d.readList(n, key, obj) {
		out = append(out, d.str(item, key+" items", obj))
	}
	return out
}

// strMap reads a mapping of texts to texts.
func (d *declFile) strMap(n *yaml.Node, key string, obj *objectPos) map[string]string {
	if isNull(n) {
		return nil
	}
	m := d.readMapping(n, key, obj)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m.keys))
	for _, k := range m.keys {
		out[k.Value] = d.str(m.vals[k.Value], key+"."+k.Value, obj)
	}
	return out
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 10; i++ {
		n = n.Alias
	}
	return n
}

// kindName names what n is, for messages.
func kindName(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "empty"
	}
	return describe(n)
}

// describe quotes a scalar for a message, or names what n is instead.
func describe(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return kindName(n)
	}
	return strconv.Quote(n.Value)
}

// unknownKey reports a key this place does not take.
func (d *declFile) unknownKey(obj *objectPos, k *yaml.Node, where string, known []string) {
	d.problem(obj, at(k), "unknown key `%s` in %s (known: %s)", k.Value, where, strings.Join(known, ", "))
}

// needKeys reports the required keys m lacks, at its owner's position.
func (d *declFile) needKeys(obj *objectPos, m *mapping, p pos, keys ...string) {
	for _, k := range keys {
		if _, ok := m.vals[k]; !ok {
			d.fieldProblem(obj, k, p, "`%s` is required", k)
		}
	}
}
