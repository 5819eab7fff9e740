package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/policy"
)

const applyUsage = `Usage: drawbridge apply -f FILE [--dry-run] [--prune] [--config FILE | --data-dir DIR]

Creates or updates, by name, the upstream_oauth_apps, policies and routes
FILE defines (Drawbridge's format, or Pomerium's routes), all in one
transaction: if anything is wrong, nothing is written. ${VAR} in a value is
read from the environment.

The database is the one --config FILE (or FILE itself, when it has server
settings), --data-dir or DRAWBRIDGE_* name.

Flags:
`

// applyCommand is `drawbridge apply`.
func applyCommand(ctx context.Context, args []string, env environment, sio stdio) error {
	var f configFlags
	fs := newFlagSet("apply", sio.err)
	fs.Usage = func() { fmt.Fprint(fs.Output(), applyUsage); fs.PrintDefaults() }
	f.register(fs)
	var file string
	fs.StringVar(&file, "f", "", "the declarative `file` to apply")
	fs.StringVar(&file, "file", "", "the same as -f `file`")
	dryRun := fs.Bool("dry-run", false, "check the file and print the plan, writing nothing")
	prune := fs.Bool("prune", false, "also delete the routes, policies and apps the file does not name (never users)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if file == "" {
		fs.Usage()
		return errors.New("apply: -f FILE is required")
	}
	d, err := readDeclFile(file, env)
	if err != nil {
		return err
	}
	if f.file == "" && d.hasServer {
		f.file = file
	}
	b, err := openBackend(ctx, f, env, sio.err)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx = models.WithActor(ctx, "apply -f "+file)
	plan, err := d.apply(ctx, b.store, models.ApplyOptions{Prune: *prune, DryRun: *dryRun})
	printWarnings(sio.err, d)
	if err != nil {
		return err
	}
	printPlan(sio.out, plan, *dryRun, true)
	return nil
}

// applyAtStart is serve --config's: it applies the file's objects, if it
// has any, before the gateway starts, printing what changed (nothing if
// nothing did). A file that does not apply stops the start.
func applyAtStart(ctx context.Context, store *models.Store, file string, env environment, sio stdio) error {
	d, err := readDeclFile(file, env)
	if err != nil {
		return err
	}
	if !d.hasObjects && len(d.problems) == 0 {
		return nil
	}
	ctx = models.WithActor(ctx, "serve --config "+file)
	plan, err := d.apply(ctx, store, models.ApplyOptions{})
	if err != nil {
		printWarnings(sio.err, d)
		return fmt.Errorf("serve --config: %w", err)
	}
	if !plan.Changed() {
		return nil
	}
	printWarnings(sio.err, d)
	fmt.Fprintf(sio.out, "Applied the routes, policies and apps of %s:\n", file)
	printPlan(sio.out, plan, false, false)
	return nil
}

// apply writes the file's bundle to store, or with a problem anywhere,
// writes nothing and returns every problem: the file's own, and the
// store's, each at the line of the object (or field) it is about.
func (d *declFile) apply(ctx context.Context, store *models.Store, opts models.ApplyOptions) (models.Plan, error) {
	if len(d.problems) > 0 {
		// Still ask the store, to report its problems as well in one go.
		opts.DryRun = true
	}
	plan, err := store.Apply(ctx, d.bundle, opts)
	var ae *models.ApplyError
	switch {
	case errors.As(err, &ae):
		for _, p := range ae.Problems {
			d.storeProblem(p)
		}
	case err != nil:
		return models.Plan{}, err
	}
	if len(d.problems) > 0 {
		lines := d.render(d.problems)
		return models.Plan{}, fmt.Errorf("%s: %d problem(s); nothing was applied:\n  %s", d.path, len(lines), strings.Join(lines, "\n  "))
	}
	return plan, nil
}

// storeProblem records what the store refused, at its object's place.
func (d *declFile) storeProblem(p models.ApplyProblem) {
	list := map[string][]*objectPos{
		models.ResourceUpstreamApp: d.apps, models.ResourcePolicy: d.policies, models.ResourceRoute: d.routes,
	}[p.Resource]
	if p.Index < 0 || p.Index >= len(list) {
		// One the file does not name: pruning it failed.
		d.problem(nil, pos{}, "%s %q (in the database, not the file): %v", resourceLabel(p.Resource), p.Name, p.Err)
		return
	}
	obj := list[p.Index]
	// What the file's own checks reported is not repeated in the store's
	// words ("to: is required" after "to lists 2 upstream URLs").
	spoiled := func(field string) bool { return obj.spoiled[field] }
	for _, err := range flatten(p.Err) {
		var (
			ve   *models.ValidationError
			ce   *models.ConflictError
			errs policy.Errors
		)
		switch {
		case errors.As(err, &ve):
			for _, f := range ve.Fields {
				if !spoiled(f.Field) {
					d.problem(obj, obj.field(f.Field), "%s: %s", f.Field, f.Message)
				}
			}
		case errors.As(err, &ce):
			if !spoiled(ce.Field) {
				d.problem(obj, obj.field(ce.Field), "%s: %s", ce.Field, ce.Message)
			}
		case errors.As(err, &errs) && obj.source != nil:
			if spoiled("source") {
				continue
			}
			for _, e := range errs {
				d.problem(obj, obj.source.place(e.Line, e.Column), "%s", e.Message)
			}
		default:
			d.problem(obj, obj.at, "%v", err)
		}
	}
}

// flatten splits a joined error into its parts.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// printWarnings lists what the file holds that Drawbridge ignored.
func printWarnings(w io.Writer, d *declFile) {
	for _, line := range d.render(d.warnings) {
		fmt.Fprintln(w, "warning: "+line)
	}
}

// printPlan shows a plan, one object a line, then the counts (or, for a
// dry run, what they would be):
//
//   - route GitHub
//     ~ policy company-only
//   - app old
//     = route Chat (unchanged)
//     Applied: 1 created, 1 updated, 1 deleted.
//
// withUnchanged false leaves the unchanged objects out.
func printPlan(w io.Writer, plan models.Plan, dryRun, withUnchanged bool) {
	if dryRun {
		fmt.Fprintln(w, "Dry run: nothing is written.")
	}
	marks := map[string]string{
		models.ActionCreate: "+", models.ActionUpdate: "~", models.ActionDelete: "-", models.ActionUnchanged: "=",
	}
	for _, it := range plan.Items {
		if it.Action == models.ActionUnchanged && !withUnchanged {
			continue
		}
		line := fmt.Sprintf("%s %s %s", marks[it.Action], resourceLabel(it.Resource), it.Name)
		if it.Action == models.ActionUnchanged {
			line += " (unchanged)"
		}
		fmt.Fprintln(w, line)
	}
	create, update, del := plan.Count(models.ActionCreate), plan.Count(models.ActionUpdate), plan.Count(models.ActionDelete)
	if dryRun {
		fmt.Fprintf(w, "%d to create, %d to update, %d to delete\n", create, update, del)
		return
	}
	fmt.Fprintf(w, "Applied: %d created, %d updated, %d deleted.\n", create, update, del)
}

// resourceLabel is the short word for a resource in a plan.
func resourceLabel(resource string) string {
	if resource == models.ResourceUpstreamApp {
		return "app"
	}
	return resource
}
