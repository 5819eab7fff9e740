package policy

import (
	"slices"
	"strconv"
	"strings"
)

// Decision is the outcome of evaluating one or several policies.
type Decision struct {
	// Allow is true when some allow rule matched and no deny rule did.
	Allow bool
	// Reasons say why: the rules that decided, or a default reason.
	Reasons []Reason
}

// Reason is one rule that decided, or why nothing did.
type Reason struct {
	// Policy is the policy's name ("" when there was no policy at all).
	Policy string
	// Block is "allow" or "deny" for a rule, "default" when no rule decided.
	Block string
	// Rule is the rule's path, e.g. "deny.or[1].mcp_tool" or, in a policy
	// that is a list of rules, "[0].allow.and[2].email". For not and nor it
	// is the operator's path.
	Rule string
	// Criterion is the criterion as written, e.g. "mcp_argument/repo";
	// "not" or "nor" for those operators; "" for default reasons.
	Criterion string
	// Matched is the input value that matched, e.g. the tool name.
	Matched string
	// Line and Column locate the rule in the policy's source.
	Line, Column int
	// Note explains a default reason, e.g. "no allow rule matched".
	Note string
}

// Notes of the default reasons.
const (
	NoteNoAllow     = "no allow rule matched"
	NoteNoPolicy    = "no policy allows"
	NoteBadArgument = "tool arguments cannot be read, so mcp_argument rules cannot be checked"
)

// String renders the reason for logs: `policy "eng" deny.or[1].mcp_tool
// (line 7) matched "admin_users"`.
func (r Reason) String() string {
	var b strings.Builder
	if r.Policy != "" {
		b.WriteString("policy " + strconv.Quote(r.Policy) + " ")
	}
	if r.Note != "" {
		b.WriteString(r.Note)
		return b.String()
	}
	b.WriteString(r.Rule + " (line " + strconv.Itoa(r.Line) + ") matched")
	if r.Matched != "" {
		b.WriteString(" " + strconv.Quote(r.Matched))
	}
	return b.String()
}

// String renders the decision and its reasons on one line.
func (d Decision) String() string {
	parts := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		parts[i] = r.String()
	}
	verdict := "deny"
	if d.Allow {
		verdict = "allow"
	}
	return verdict + ": " + strings.Join(parts, "; ")
}

// Evaluate decides on one message. Deny wins: if a deny rule matches, the
// decision is deny; otherwise it is allow if an allow rule matches, and
// deny with a default reason if none does.
func (p *Policy) Evaluate(in *Input) Decision {
	return Evaluate([]*Policy{p}, in)
}

// Evaluate decides on one message under several policies (those attached
// to a route): allow when at least one policy allows and none denies.
// With no policy at all the decision is deny.
func Evaluate(policies []*Policy, in *Input) Decision {
	if len(policies) == 0 {
		return Decision{Reasons: []Reason{{Block: "default", Note: NoteNoPolicy}}}
	}
	var denied []Reason
	for _, p := range policies {
		if p.badArguments(in) {
			denied = append(denied, Reason{Policy: p.name, Block: "default", Criterion: "mcp_argument", Note: NoteBadArgument})
			continue
		}
		for i := range p.deny {
			if n := &p.deny[i]; n.match(in) {
				denied = n.reasons(in, p.name, slices.Grow(denied, n.most))
				break
			}
		}
	}
	if denied != nil {
		return Decision{Reasons: denied}
	}
	var allowed []Reason
	for _, p := range policies {
		for i := range p.allow {
			if n := &p.allow[i]; n.match(in) {
				allowed = n.reasons(in, p.name, slices.Grow(allowed, n.most))
				break
			}
		}
	}
	if allowed != nil {
		return Decision{Allow: true, Reasons: allowed}
	}
	none := make([]Reason, len(policies))
	for i, p := range policies {
		none[i] = Reason{Policy: p.name, Block: "default", Note: NoteNoAllow}
	}
	return Decision{Reasons: none}
}

// Allowed is Evaluate without the reasons; it does not allocate (beyond
// decoding tool arguments once per Input). Use it to filter tools/list.
func (p *Policy) Allowed(in *Input) bool {
	return !p.denies(in) && p.allows(in)
}

// Allowed is Evaluate(policies, in).Allow, without allocating.
func Allowed(policies []*Policy, in *Input) bool {
	allowed := false
	for _, p := range policies {
		if p.denies(in) {
			return false
		}
		allowed = allowed || p.allows(in)
	}
	return allowed
}

func (p *Policy) denies(in *Input) bool {
	if p.badArguments(in) {
		return true
	}
	for i := range p.deny {
		if p.deny[i].match(in) {
			return true
		}
	}
	return false
}

func (p *Policy) allows(in *Input) bool {
	for i := range p.allow {
		if p.allow[i].match(in) {
			return true
		}
	}
	return false
}

// badArguments reports a tool call whose arguments a policy needs but
// cannot read: such a call is refused rather than judged on a guess.
func (p *Policy) badArguments(in *Input) bool {
	if !p.usesArgs || in.MCPTool == "" {
		return false
	}
	_, _, err := in.arguments()
	return err != nil
}

// match evaluates a node without collecting anything.
func (n *node) match(in *Input) bool {
	switch n.op {
	case opCriterion:
		ok, _ := n.crit.eval(in, false)
		return ok
	case opAnd, opNor:
		// and: every kid matches; nor (¬A ∨ ¬B): not every kid matches.
		for i := range n.kids {
			if !n.kids[i].match(in) {
				return n.op == opNor
			}
		}
		return n.op == opAnd
	default:
		// or: some kid matches; not (¬A ∧ ¬B): no kid matches.
		for i := range n.kids {
			if n.kids[i].match(in) {
				return n.op == opOr
			}
		}
		return n.op == opNot
	}
}

// reasons appends why a node that matches does: every criterion of an and,
// the first matching rule of an or, and the operator itself for not and
// nor (which match on what is absent).
func (n *node) reasons(in *Input, policy string, dst []Reason) []Reason {
	switch n.op {
	case opCriterion:
		_, v := n.crit.eval(in, true)
		return append(dst, n.reason(policy, v))
	case opAnd:
		for i := range n.kids {
			dst = n.kids[i].reasons(in, policy, dst)
		}
		return dst
	case opOr:
		for i := range n.kids {
			if k := &n.kids[i]; k.match(in) {
				return k.reasons(in, policy, dst)
			}
		}
	}
	return append(dst, n.reason(policy, ""))
}

func (n *node) reason(policy, matched string) Reason {
	return Reason{Policy: policy, Block: n.block, Rule: n.path, Criterion: n.name,
		Matched: matched, Line: n.line, Column: n.col}
}
