package policy

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// stringMatcherNames are the string matchers, in the order errors list them.
var stringMatcherNames = []string{"is", "not", "starts_with", "ends_with", "contains", "in", "not_in", "matches"}

// foldMode says which comparisons a criterion needs: exact, case-insensitive
// (email, domain), or both (user: its id exactly, its email without case).
type foldMode uint8

const (
	foldNone foldMode = iota
	foldAll
	foldSome
)

type checkKind uint8

const (
	ckIs checkKind = iota
	ckPrefix
	ckSuffix
	ckContains
	ckIn
	ckMatches
)

// longList is the length from which `in` looks values up in a map rather
// than scanning the list.
const longList = 8

// strCheck is one string matcher. not and not_in are is and in with neg set.
type strCheck struct {
	kind   checkKind
	neg    bool
	s      string
	list   []string
	set    map[string]struct{} // list, when long
	folded map[string]struct{} // list lowercased, when long and folding
	re     *regexp.Regexp      // ^(?:expr)$
	reFold *regexp.Regexp      // (?i)^(?:expr)$
}

// test reports whether the positive form of the check holds for v.
func (k *strCheck) test(v string, fold bool) bool {
	switch k.kind {
	case ckIs:
		if fold {
			return strings.EqualFold(v, k.s)
		}
		return v == k.s
	case ckPrefix:
		if fold {
			return len(v) >= len(k.s) && strings.EqualFold(v[:len(k.s)], k.s)
		}
		return strings.HasPrefix(v, k.s)
	case ckSuffix:
		if fold {
			return len(v) >= len(k.s) && strings.EqualFold(v[len(v)-len(k.s):], k.s)
		}
		return strings.HasSuffix(v, k.s)
	case ckContains:
		if fold {
			for i := 0; i+len(k.s) <= len(v); i++ {
				if strings.EqualFold(v[i:i+len(k.s)], k.s) {
					return true
				}
			}
			return false
		}
		return strings.Contains(v, k.s)
	case ckIn:
		return k.inList(v, fold)
	default: // ckMatches
		if fold {
			return k.reFold.MatchString(v)
		}
		return k.re.MatchString(v)
	}
}

func (k *strCheck) inList(v string, fold bool) bool {
	switch {
	case fold && k.folded != nil:
		_, ok := k.folded[strings.ToLower(v)] // allocates only if v has upper case
		return ok
	case !fold && k.set != nil:
		_, ok := k.set[v]
		return ok
	}
	for _, s := range k.list {
		if s == v || fold && strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// strMatcher is a matcher object: every check must hold.
type strMatcher struct{ checks []strCheck }

// match applies the matcher to the candidate values of a criterion (user
// has two: its id and its email). Positive checks must all hold for one
// candidate; negative ones (not, not_in) for every candidate. No candidate
// at all — a missing value — never matches. It returns the index of the
// candidate that matched.
func (m *strMatcher) match(cs *cands) (bool, int) {
	if cs.n == 0 {
		return false, -1
	}
	for i := range m.checks {
		if k := &m.checks[i]; k.neg {
			for j := 0; j < cs.n; j++ {
				if k.test(cs.v[j], cs.fold[j]) {
					return false, -1
				}
			}
		}
	}
next:
	for j := 0; j < cs.n; j++ {
		for i := range m.checks {
			if k := &m.checks[i]; !k.neg && !k.test(cs.v[j], cs.fold[j]) {
				continue next
			}
		}
		return true, j
	}
	return false, -1
}

// stringMatcher compiles a string matcher: a bare value (is), a bare list
// (in), or a mapping of matchers.
func (c *compiler) stringMatcher(key, v *yaml.Node, mode foldMode) *strMatcher {
	m := &strMatcher{}
	crit := key.Value
	switch v.Kind {
	case yaml.ScalarNode:
		if s, ok := c.text("`"+crit+"`", v); ok {
			m.checks = append(m.checks, strCheck{kind: ckIs, s: s})
		}
	case yaml.SequenceNode:
		if k, ok := c.inCheck(v, mode, "`"+crit+"`"); ok {
			m.checks = append(m.checks, k)
		}
	default:
		if len(v.Content) == 0 {
			c.fail(v, "expected one of "+strings.Join(stringMatcherNames, ", "), "`%s` needs a matcher", crit)
		}
		for _, kv := range c.pairs(v) {
			if !contains(stringMatcherNames, kv[0].Value) {
				c.fail(kv[0], expected(kv[0].Value, stringMatcherNames), "unknown matcher `%s` for `%s`", kv[0].Value, crit)
				continue
			}
			if k, ok := c.stringCheck(crit, kv[0], kv[1], mode); ok {
				m.checks = append(m.checks, k)
			}
		}
	}
	return m
}

// stringCheck compiles one string matcher `name: value` of criterion crit.
func (c *compiler) stringCheck(crit string, k, v *yaml.Node, mode foldMode) (strCheck, bool) {
	label := "`" + k.Value + "` for `" + crit + "`"
	if v = c.deref(v); v == nil {
		return strCheck{}, false
	}
	switch k.Value {
	case "in", "not_in":
		ch, ok := c.inCheck(v, mode, label)
		ch.neg = k.Value == "not_in"
		return ch, ok
	case "matches":
		expr, ok := c.text(label, v)
		if !ok {
			return strCheck{}, false
		}
		if _, err := regexp.Compile(expr); err != nil {
			c.fail(v, "the syntax is RE2's: https://github.com/google/re2/wiki/Syntax",
				"invalid regular expression for `%s`: %s", crit, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			return strCheck{}, false
		}
		// Full-string match: an unanchored `admin` would also match `not_admin_at_all`.
		ch := strCheck{kind: ckMatches, s: expr}
		if mode != foldAll {
			ch.re = regexp.MustCompile(`^(?:` + expr + `)$`)
		}
		if mode != foldNone {
			ch.reFold = regexp.MustCompile(`(?i)^(?:` + expr + `)$`)
		}
		return ch, true
	}
	s, ok := c.text(label, v)
	kind := ckIs
	switch k.Value {
	case "starts_with":
		kind = ckPrefix
	case "ends_with":
		kind = ckSuffix
	case "contains":
		kind = ckContains
	}
	return strCheck{kind: kind, neg: k.Value == "not", s: s}, ok
}

// inCheck compiles the list of `in` / `not_in`.
func (c *compiler) inCheck(v *yaml.Node, mode foldMode, label string) (strCheck, bool) {
	list, ok := c.list(label, v)
	if !ok {
		return strCheck{}, false
	}
	ch := strCheck{kind: ckIn, list: list}
	if len(list) >= longList {
		if mode != foldAll {
			ch.set = make(map[string]struct{}, len(list))
		}
		if mode != foldNone {
			ch.folded = make(map[string]struct{}, len(list))
		}
		for _, s := range list {
			if ch.set != nil {
				ch.set[s] = struct{}{}
			}
			if ch.folded != nil {
				ch.folded[strings.ToLower(s)] = struct{}{}
			}
		}
	}
	return ch, true
}

// text reads one non-empty scalar. Numbers and booleans count, as written.
func (c *compiler) text(label string, v *yaml.Node) (string, bool) {
	if v = c.deref(v); v == nil {
		return "", false
	}
	if v.Kind != yaml.ScalarNode || isNull(v) {
		c.fail(v, "expected a single value", "%s needs a value, not %s", label, kindName(v))
		return "", false
	}
	if v.Value == "" {
		c.fail(v, "an empty value never matches", "%s needs a non-empty value", label)
		return "", false
	}
	return v.Value, true
}

// list reads a non-empty list of scalars.
func (c *compiler) list(label string, v *yaml.Node) ([]string, bool) {
	if v = c.deref(v); v == nil {
		return nil, false
	}
	if v.Kind != yaml.SequenceNode {
		c.fail(v, "write a list: `[a, b]`", "%s needs a list, not %s", label, kindName(v))
		return nil, false
	}
	if len(v.Content) == 0 {
		c.fail(v, "add at least one value", "%s has an empty list", label)
		return nil, false
	}
	out := make([]string, 0, len(v.Content))
	ok := true
	for _, item := range v.Content {
		s, good := c.text("each item of "+label, item)
		out = append(out, s)
		ok = ok && good
	}
	return out, ok
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
