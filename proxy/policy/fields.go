package policy

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// field is an Input string that a string criterion reads.
type field uint8

const (
	fEmail field = iota
	fDomain
	fUser
	fServiceAccount
	fClient
	fMCPMethod
	fMCPTool
	fHTTPMethod
	fHTTPPath
)

// fold says how the field compares: emails and domains ignore case.
func (f field) fold() foldMode {
	switch f {
	case fEmail, fDomain:
		return foldAll
	case fUser:
		return foldSome
	}
	return foldNone
}

// cands holds the values a criterion compares, at most two (user: id and
// email; client: id and name). Empty values are left out, so a criterion
// whose value is missing has none.
type cands struct {
	v    [2]string
	fold [2]bool
	n    int
}

func (c *cands) add(s string, fold bool) {
	if s != "" && c.n < len(c.v) {
		c.v[c.n], c.fold[c.n] = s, fold
		c.n++
	}
}

// candidates returns the values of f in the input. Identity fields are
// missing for anonymous callers, whatever the input says.
func (f field) candidates(in *Input) cands {
	var cs cands
	switch f {
	case fEmail:
		if in.Authenticated {
			cs.add(in.Email, true)
		}
	case fDomain:
		if i := strings.LastIndexByte(in.Email, '@'); in.Authenticated && i >= 0 {
			cs.add(in.Email[i+1:], true)
		}
	case fUser:
		if in.Authenticated {
			cs.add(in.UserID, false)
			cs.add(in.Email, true)
		}
	case fServiceAccount:
		if in.Authenticated {
			cs.add(in.ServiceAccount, false)
		}
	case fClient:
		cs.add(in.ClientID, false)
		cs.add(in.ClientName, false)
	case fMCPMethod:
		cs.add(in.MCPMethod, false)
	case fMCPTool:
		cs.add(in.MCPTool, false)
	case fHTTPMethod:
		cs.add(in.HTTPMethod, false)
	case fHTTPPath:
		cs.add(in.HTTPPath, false)
	}
	return cs
}

// stringCrit applies a string matcher to one field.
type stringCrit struct {
	f field
	m *strMatcher
}

func (c *compiler) stringCrit(f field, key, v *yaml.Node) criterion {
	return stringCrit{f: f, m: c.stringMatcher(key, v, f.fold())}
}

func (s stringCrit) eval(in *Input, detail bool) (bool, string) {
	cs := s.f.candidates(in)
	ok, i := s.m.match(&cs)
	switch {
	case !detail:
		return ok, ""
	case ok:
		return true, cs.v[i]
	case cs.n == 2:
		return false, cs.v[0] + ", " + cs.v[1]
	case cs.n == 1:
		return false, cs.v[0]
	}
	return false, missing
}

// missing is what explanations show for a value the input does not have.
const missing = "(missing)"
