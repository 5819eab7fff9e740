package main

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// ${NAME} in a string value of a declarative file is replaced by the
// environment variable NAME, so secrets stay out of the file; a variable
// that is not set is an error, never an empty secret. $${ writes a
// literal ${.

// expandEnv expands every string value under n in place (mapping keys
// are left alone). Each unset variable is reported by whatever reads its
// value, which knows the object and field it is in (envProblem), or else
// at the end of the file's reading.
func (d *declFile) expandEnv(n *yaml.Node) {
	expandNode(n, d.env, func(v *yaml.Node, msg string) {
		if d.envProblems == nil {
			d.envProblems = map[*yaml.Node][]string{}
		}
		if _, seen := d.envProblems[v]; !seen {
			d.envOrder = append(d.envOrder, v)
		}
		d.envProblems[v] = append(d.envProblems[v], msg)
	})
}

// envProblem reports the expansion problems of value n, read as key of
// obj.
func (d *declFile) envProblem(n *yaml.Node, key string, obj *objectPos) {
	for _, msg := range d.envProblems[n] {
		d.fieldProblem(obj, key, at(n), "%s", msg)
	}
	delete(d.envProblems, n)
}

// flushEnvProblems reports the expansion problems no reader claimed.
func (d *declFile) flushEnvProblems() {
	for _, n := range d.envOrder {
		for _, msg := range d.envProblems[n] {
			d.problem(nil, at(n), "%s", msg)
		}
	}
	d.envProblems, d.envOrder = nil, nil
}

// expandNode is expandEnv for any caller: report receives each problem
// and the node it is in.
func expandNode(n *yaml.Node, env environment, report func(*yaml.Node, string)) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			expandNode(c, env, report)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			expandNode(n.Content[i], env, report)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return
		}
		out, problems := expandString(n.Value, env)
		for _, p := range problems {
			report(n, p)
		}
		if out != n.Value {
			n.Value = out
			if n.Style == 0 {
				// A plain scalar's type follows its new text, so that
				// timeout_seconds: ${TIMEOUT} reads as a number.
				n.Tag = ""
			}
		}
	}
}

// expandString replaces ${NAME} and $${ in s. It returns a message per
// reference that cannot be expanded.
func expandString(s string, env environment) (string, []string) {
	var b strings.Builder
	var problems []string
	for {
		i := strings.Index(s, "$")
		if i < 0 {
			b.WriteString(s)
			return b.String(), problems
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "$${"):
			b.WriteString("${")
			s = s[3:]
		case strings.HasPrefix(s, "${"):
			end := strings.IndexByte(s, '}')
			name := ""
			if end > 0 {
				name = s[2:end]
			}
			if !isEnvName(name) {
				problems = append(problems, fmt.Sprintf("%q is not a ${NAME} reference to an environment variable (write $${ for a literal ${)", firstN(s, 40)))
				b.WriteString("${")
				s = s[2:]
				continue
			}
			v, ok := lookupEnv(env, name)
			if !ok {
				problems = append(problems, fmt.Sprintf("environment variable %s is not set (referenced as ${%s})", name, name))
			}
			b.WriteString(v)
			s = s[end+1:]
		default:
			b.WriteByte('$')
			s = s[1:]
		}
	}
}

// escapeEnv writes s so that expandString gives it back: what export
// writes.
func escapeEnv(s string) string { return strings.ReplaceAll(s, "${", "$${") }

// lookupEnv is environment.get, also telling an unset variable from an
// empty one.
func lookupEnv(env environment, name string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// isEnvName reports whether s is a shell variable name.
func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r != '_' && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func firstN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
