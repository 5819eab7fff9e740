package policy

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// criterion is one compiled test against an Input. eval reports whether it
// matches; when detail is set it also returns the value it looked at (the
// value that matched, when it matched), for reasons and explanations. With
// detail unset it must not allocate.
type criterion interface {
	eval(in *Input, detail bool) (bool, string)
}

// criterionNames are the criteria, as listed in errors. The two with a
// suffix are looked up by what precedes the slash.
var criterionNames = []string{
	"accept", "authenticated_user", "email", "domain", "user", "groups", "claim",
	"service_account", "client", "mcp_method", "mcp_tool", "mcp_argument",
	"http_method", "http_path", "source_ip", "time_of_day", "day_of_week",
}

func isCriterion(name string) bool {
	base, _, _ := strings.Cut(name, "/")
	for _, n := range criterionNames {
		if n == base {
			return true
		}
	}
	return false
}

// criterion compiles `name: value`. It returns nil after reporting an error.
func (c *compiler) criterion(key, v *yaml.Node) criterion {
	name := key.Value
	base, sub, hasSub := strings.Cut(name, "/")
	if !isCriterion(name) {
		hint := "expected one of accept, authenticated_user, email, domain, user, groups, claim/<name>, " +
			"service_account, client, mcp_method, mcp_tool, mcp_argument/<json-pointer>, " +
			"http_method, http_path, source_ip, time_of_day, day_of_week"
		if s := closest(base, criterionNames); s != "" {
			if hasSub {
				s += "/" + sub
			}
			hint = "did you mean `" + s + "`?"
		}
		c.fail(key, hint, "unknown criterion `%s`", name)
		return nil
	}
	switch base {
	case "claim", "mcp_argument":
		if sub == "" {
			what := "mcp_argument/<json-pointer>"
			if base == "claim" {
				what = "claim/<name>"
			}
			c.fail(key, "write `"+what+"`", "`%s` needs a name after the slash", base)
			return nil
		}
	default:
		if hasSub {
			c.fail(key, "", "`%s` takes no `/…` suffix", base)
			return nil
		}
	}
	if v = c.deref(v); v == nil {
		return nil
	}
	switch base {
	case "accept":
		if b, ok := c.boolean(key, v); ok && !b {
			c.fail(v, "remove the rule, or use `not:`", "`accept` only takes `true`")
		}
		return acceptCrit{}
	case "authenticated_user":
		b, _ := c.boolean(key, v)
		return authCrit{want: b}
	case "service_account":
		if isBool(v) {
			b, _ := c.boolean(key, v)
			return serviceAccountCrit{want: b}
		}
		return c.stringCrit(fServiceAccount, key, v)
	case "email":
		return c.stringCrit(fEmail, key, v)
	case "domain":
		return c.stringCrit(fDomain, key, v)
	case "user":
		return c.stringCrit(fUser, key, v)
	case "client":
		return c.stringCrit(fClient, key, v)
	case "mcp_method":
		return c.stringCrit(fMCPMethod, key, v)
	case "mcp_tool":
		return c.stringCrit(fMCPTool, key, v)
	case "http_method":
		return c.stringCrit(fHTTPMethod, key, v)
	case "http_path":
		return c.stringCrit(fHTTPPath, key, v)
	case "groups":
		return groupsCrit{m: c.valueMatcher(key, v, groupMatcherNames)}
	case "claim":
		return claimCrit{name: sub, m: c.valueMatcher(key, v, valueMatcherNames)}
	case "mcp_argument":
		return c.argumentCrit(key, sub, v)
	case "source_ip":
		return c.sourceIP(key, v)
	case "time_of_day":
		return c.timeOfDay(key, v)
	default: // "day_of_week"
		return c.dayOfWeek(key, v)
	}
}

// boolean reads a YAML true or false.
func (c *compiler) boolean(key, v *yaml.Node) (bool, bool) {
	if v = c.deref(v); v == nil {
		return false, false
	}
	if !isBool(v) {
		c.fail(v, "expected true or false", "`%s` takes a boolean, not %s", key.Value, kindName(v))
		return false, false
	}
	return strings.EqualFold(v.Value, "true"), true
}

func isBool(v *yaml.Node) bool { return v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" }

// acceptCrit always matches.
type acceptCrit struct{}

func (acceptCrit) eval(*Input, bool) (bool, string) { return true, "" }

// authCrit matches signed-in callers (people, and service accounts acting
// for one), or with want=false the anonymous ones.
type authCrit struct{ want bool }

func (a authCrit) eval(in *Input, detail bool) (bool, string) {
	v := ""
	if detail && in.Authenticated {
		v = firstNonEmpty(in.Email, in.UserID)
	}
	return in.Authenticated == a.want, v
}

// serviceAccountCrit matches (want) or excludes (!want) service accounts;
// it never matches an anonymous caller.
type serviceAccountCrit struct{ want bool }

func (s serviceAccountCrit) eval(in *Input, detail bool) (bool, string) {
	if !in.Authenticated {
		return false, ""
	}
	return (in.ServiceAccount != "") == s.want, in.ServiceAccount
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
