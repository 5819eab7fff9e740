package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/drawbridge/drawbridge/models"
)

// The declarative file (DESIGN.md, "Declarative file"): one YAML file that
// may hold the server's settings, which loadConfig reads, and the objects
// below, which apply, serve --config and export deal in. Routes may also
// be written in Pomerium's format (pomerium.go).

// Top-level keys of a declarative file.
var (
	// serverKeys are the web.Config settings; the objects' reader skips them.
	serverKeys = []string{"server", "database", "identity", "admins", "oauth", "log"}
	// objectKeys hold the objects. "policy" is Pomerium's older name for
	// its list of routes.
	objectKeys = []string{"upstream_oauth_apps", "policies", "routes", "policy"}
)

// pos is a place in the file: line and column, 1-based (0: unknown).
type pos struct{ line, col int }

func at(n *yaml.Node) pos {
	if n == nil {
		return pos{}
	}
	return pos{n.Line, n.Column}
}

// fileProblem is one thing wrong with the file, or, as a warning, one
// thing in it that Drawbridge does not do.
type fileProblem struct {
	at  pos
	msg string
}

// objectPos locates one object of the bundle in the file, so that an
// error about it, or about one of its fields, names the line to fix.
type objectPos struct {
	at    pos
	label string // `route "GitHub"`, `policy "company-only"`, …
	// fields holds where each field was set, by the store's field names
	// (as in models.ValidationError).
	fields map[string]pos
	// bad is set once a problem with the object is reported; spoiled
	// holds the fields (store names) a problem was reported about, so that
	// the store's complaints about the same fields are not repeated.
	bad     bool
	spoiled map[string]bool
	// source maps a policy's positions to the file's (policies only).
	source *policySource
}

func (o *objectPos) field(name string) pos {
	if p, ok := o.fields[name]; ok {
		return p
	}
	return o.at
}

// declFile is a declarative file, read and checked: the bundle it
// defines, where each object came from, and what is wrong with it.
type declFile struct {
	path  string
	lines []string // the file's text, for columns inside block scalars
	env   environment

	bundle                 models.Bundle
	apps, policies, routes []*objectPos // parallel to bundle's slices

	problems, warnings []fileProblem
	// envProblems are the unset ${VAR}s, by the value they are in, until
	// a reader reports them with its object (declfile_env.go).
	envProblems map[*yaml.Node][]string
	envOrder    []*yaml.Node
	// hasServer and hasObjects say which kinds of keys the file has.
	hasServer, hasObjects bool
}

// readDeclFile reads path and checks everything that can be checked
// without the database: the structure, ${VAR} references, and every
// policy's source. Problems are collected in the result; the error is for
// a file that cannot be read or is not YAML at all.
func readDeclFile(path string, env environment) (*declFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	d := &declFile{path: path, env: env, lines: strings.Split(string(data), "\n")}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return d, nil
		}
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		d.problem(nil, at(&extra), "a declarative file holds one YAML document; remove the `---` and what follows")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	d.readTop(root)
	d.flushEnvProblems()
	return d, nil
}

// readTop reads the top-level mapping.
func (d *declFile) readTop(root *yaml.Node) {
	if isNull(root) {
		return
	}
	m := d.readMapping(root, "the file", nil)
	if m == nil {
		return
	}
	for _, k := range m.keys {
		v := m.vals[k.Value]
		switch k.Value {
		case "server", "database", "identity", "admins", "log":
			d.hasServer = true
		case "upstream_oauth_apps":
			d.hasObjects = true
			d.expandEnv(v)
			for _, item := range d.readList(v, "upstream_oauth_apps", nil) {
				d.readApp(item)
			}
		case "policies":
			d.hasObjects = true
			d.expandEnv(v)
			for _, item := range d.readList(v, "policies", nil) {
				d.readPolicy(item)
			}
		case "routes", "policy":
			d.hasObjects = true
			d.expandEnv(v)
			for _, item := range d.readList(v, k.Value, nil) {
				d.readRoute(item)
			}
		default:
			d.pomeriumGlobal(k)
		}
	}
}

// problem records an error, against obj (which may be nil) at p.
func (d *declFile) problem(obj *objectPos, p pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if obj != nil {
		obj.bad = true
		msg = obj.label + ": " + msg
	}
	d.problems = append(d.problems, fileProblem{at: p, msg: msg})
}

// fieldProblem is problem, about the field that key (a file key or a
// store field name) sets.
func (d *declFile) fieldProblem(obj *objectPos, key string, p pos, format string, args ...any) {
	if obj != nil {
		if obj.spoiled == nil {
			obj.spoiled = map[string]bool{}
		}
		obj.spoiled[storeField(key)] = true
	}
	d.problem(obj, p, format, args...)
}

// storeField names the store's field that a file key sets: the key's
// first part ("scopes items" and "extra_params.x" are about scopes and
// extra_params), translated where the two differ.
func storeField(key string) string {
	if i := strings.IndexAny(key, " ."); i > 0 {
		key = key[:i]
	}
	switch key {
	case "pass_upstream_access_token":
		return "pass_upstream_token"
	case "timeout":
		return "timeout_seconds"
	case "upstream_oauth_app", "upstream_oauth2":
		return "upstream_app"
	case "mcp":
		return "kind"
	}
	return key
}

// warn records something in the file that is ignored.
func (d *declFile) warn(obj *objectPos, p pos, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if obj != nil {
		msg = obj.label + ": " + msg
	}
	d.warnings = append(d.warnings, fileProblem{at: p, msg: msg})
}

// render formats problems one per line, in file order, each prefixed
// with file:line:column.
func (d *declFile) render(ps []fileProblem) []string {
	ps = slices.Clone(ps)
	slices.SortStableFunc(ps, func(a, b fileProblem) int {
		if a.at.line != b.at.line {
			return a.at.line - b.at.line
		}
		return a.at.col - b.at.col
	})
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		loc := d.path
		switch {
		case p.at.line > 0 && p.at.col > 0:
			loc = fmt.Sprintf("%s:%d:%d", d.path, p.at.line, p.at.col)
		case p.at.line > 0:
			loc = fmt.Sprintf("%s:%d", d.path, p.at.line)
		}
		line := loc + ": " + p.msg
		if !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	return out
}

// isNull reports whether n is absent or an explicit null.
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}
