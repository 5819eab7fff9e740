package main

import (
	"sort"
	"strings"
)

// environment is the process environment as run receives it: os.Environ()
// in main, a literal list in tests. It is a list rather than a getenv
// function because an unknown DRAWBRIDGE_* variable must be reported, and
// only a list can be searched for names nobody asked about.
type environment []string

func (e environment) get(name string) string {
	// The last assignment wins, as in a shell.
	for i := len(e) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(e[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

func (e environment) names() []string {
	seen := map[string]bool{}
	var out []string
	for _, kv := range e {
		if k, _, ok := strings.Cut(kv, "="); ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
