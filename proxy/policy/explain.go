package policy

import "sort"

// Explanation is a decision together with the trace of every rule, for the
// console's policy simulator.
type Explanation struct {
	// Decision is what Evaluate returns for the same input.
	Decision Decision
	// Steps lists every operator and criterion of the policy in source
	// order, each evaluated (no short-circuit), parents before children.
	Steps []Step
}

// Step is one rule of a policy, evaluated against an input.
type Step struct {
	// Block is "allow" or "deny".
	Block string
	// Path is the rule's path, as in Reason.Rule.
	Path string
	// Depth is 0 for an operator directly under a block, 1 for its rules…
	Depth int
	// Operator is true for and/or/not/nor, false for a criterion.
	Operator bool
	// Name is the operator or the criterion as written.
	Name string
	// Line and Column locate the rule in the policy's source.
	Line, Column int
	// Matched says whether the rule matched the input.
	Matched bool
	// Value is, for a criterion, the input value it looked at (the value
	// that matched, when it matched), or "(missing)".
	Value string
}

// Explain evaluates the policy against the input, visiting every rule, and
// returns the decision with the trace.
func (p *Policy) Explain(in *Input) Explanation {
	tops := make([]*node, 0, len(p.allow)+len(p.deny))
	for i := range p.allow {
		tops = append(tops, &p.allow[i])
	}
	for i := range p.deny {
		tops = append(tops, &p.deny[i])
	}
	sort.SliceStable(tops, func(i, j int) bool {
		if tops[i].line != tops[j].line {
			return tops[i].line < tops[j].line
		}
		return tops[i].col < tops[j].col
	})
	var steps []Step
	for _, n := range tops {
		n.explain(in, 0, &steps)
	}
	return Explanation{Decision: p.Evaluate(in), Steps: steps}
}

// explain appends the node's step, then its kids', and returns whether it
// matched.
func (n *node) explain(in *Input, depth int, steps *[]Step) bool {
	i := len(*steps)
	*steps = append(*steps, Step{Block: n.block, Path: n.path, Depth: depth, Operator: n.op != opCriterion,
		Name: n.name, Line: n.line, Column: n.col})
	var matched bool
	if n.op == opCriterion {
		matched, (*steps)[i].Value = n.crit.eval(in, true)
	} else {
		count := 0
		for k := range n.kids {
			if n.kids[k].explain(in, depth+1, steps) {
				count++
			}
		}
		switch n.op {
		case opAnd:
			matched = count == len(n.kids)
		case opOr:
			matched = count > 0
		case opNot:
			matched = count == 0
		default: // opNor
			matched = count < len(n.kids)
		}
	}
	(*steps)[i].Matched = matched
	return matched
}
