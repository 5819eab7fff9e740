package policy

import (
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	// groupMatcherNames are the matchers of `groups`, a list.
	groupMatcherNames = []string{"has", "has_any", "has_all", "exclude", "is"}
	// valueMatcherNames are the matchers of claims and tool arguments,
	// which may hold one value or a list.
	valueMatcherNames = []string{"is", "not", "starts_with", "ends_with", "contains", "in", "not_in",
		"matches", "has", "has_any", "has_all", "exclude", "exists"}
)

// valueMatcher matches a value that may be single or a list: groups,
// claims and tool arguments. Every part given must hold.
type valueMatcher struct {
	str     *strMatcher // string matchers, for a single value
	has     []string    // has, has_all: each must be present
	hasAny  []string    // at least one must be present
	exclude []string    // none may be present
	exists  int8        // 1: exists: true, -1: exists: false, 0: not given
}

// valueMatcher compiles a bare value (has) or a mapping of matchers among
// allowed. A bare list is refused: it could mean has_any or has_all.
func (c *compiler) valueMatcher(key, v *yaml.Node, allowed []string) *valueMatcher {
	m := &valueMatcher{}
	crit := key.Value
	switch v.Kind {
	case yaml.ScalarNode:
		if s, ok := c.text("`"+crit+"`", v); ok {
			m.has = []string{s}
		}
		return m
	case yaml.SequenceNode:
		c.fail(v, "write `has_any: […]` (any of them) or `has_all: […]` (all of them)", "`%s` takes a matcher, not a bare list", crit)
		return m
	}
	if len(v.Content) == 0 {
		c.fail(v, "expected one of "+strings.Join(allowed, ", "), "`%s` needs a matcher", crit)
	}
	for _, kv := range c.pairs(v) {
		k, val := kv[0], c.deref(kv[1])
		label := "`" + k.Value + "` for `" + crit + "`"
		switch {
		case val == nil:
		case !contains(allowed, k.Value):
			c.fail(k, expected(k.Value, allowed), "unknown matcher `%s` for `%s`", k.Value, crit)
		case contains(stringMatcherNames, k.Value):
			if ch, ok := c.stringCheck(crit, k, val, foldNone); ok {
				if m.str == nil {
					m.str = &strMatcher{}
				}
				m.str.checks = append(m.str.checks, ch)
			}
		case k.Value == "has":
			if s, ok := c.text(label, val); ok {
				m.has = append(m.has, s)
			}
		case k.Value == "has_all":
			list, _ := c.list(label, val)
			m.has = append(m.has, list...)
		case k.Value == "has_any":
			m.hasAny, _ = c.list(label, val)
		case k.Value == "exclude":
			if val.Kind == yaml.SequenceNode {
				m.exclude, _ = c.list(label, val)
			} else if s, ok := c.text(label, val); ok {
				m.exclude = []string{s}
			}
		default: // exists
			if b, ok := c.boolean(k, val); ok && b {
				m.exists = 1
			} else if ok {
				m.exists = -1
			}
		}
	}
	if m.exists < 0 && (m.str != nil || len(m.has)+len(m.hasAny)+len(m.exclude) > 0) {
		c.fail(v, "", "`exists: false` cannot be combined with other matchers for `%s`", crit)
	}
	return m
}

// match applies the matcher. A missing value matches only `exists: false`;
// null and objects match only `exists: true`. String matchers need a
// single value (a scalar, or a list of exactly one); list matchers treat a
// scalar as a list of one.
func (m *valueMatcher) match(v values, detail bool) (bool, string) {
	switch {
	case v.kind == vMissing:
		return m.exists < 0, describe(v, detail)
	case m.exists < 0:
		return false, describe(v, detail)
	case v.kind == vOther:
		return m.str == nil && len(m.has)+len(m.hasAny)+len(m.exclude) == 0, describe(v, detail)
	}
	matched := ""
	if m.str != nil {
		var cs cands
		if s, ok := v.single(); ok {
			cs.add(s, false)
		}
		if ok, _ := m.str.match(&cs); !ok {
			return false, describe(v, detail)
		}
		matched = cs.v[0]
	}
	for _, x := range m.has {
		if !v.contains(x) {
			return false, describe(v, detail)
		}
		if matched == "" {
			matched = x
		}
	}
	if len(m.hasAny) > 0 {
		i := 0
		for i < len(m.hasAny) && !v.contains(m.hasAny[i]) {
			i++
		}
		if i == len(m.hasAny) {
			return false, describe(v, detail)
		}
		if matched == "" {
			matched = m.hasAny[i]
		}
	}
	for _, x := range m.exclude {
		if v.contains(x) {
			return false, describe(v, detail)
		}
	}
	if !detail {
		return true, ""
	}
	if matched == "" {
		matched = describe(v, detail)
	}
	return true, matched
}

// groupsCrit matches the caller's groups; never an anonymous caller.
type groupsCrit struct{ m *valueMatcher }

func (g groupsCrit) eval(in *Input, detail bool) (bool, string) {
	if !in.Authenticated {
		return false, describe(values{}, detail)
	}
	return g.m.match(values{kind: vStrings, strs: in.Groups}, detail)
}

// claimCrit matches one claim of the identity; never an anonymous caller.
type claimCrit struct {
	name string
	m    *valueMatcher
}

func (cl claimCrit) eval(in *Input, detail bool) (bool, string) {
	if !in.Authenticated {
		return false, describe(values{}, detail)
	}
	x, ok := in.Claims[cl.name]
	if !ok {
		return cl.m.match(values{}, detail)
	}
	return cl.m.match(valuesOf(x), detail)
}
