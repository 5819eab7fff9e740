package models

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Bundle is a whole configuration written at once, as a declarative file
// holds it: upstream apps, policies and routes, each upserted by name.
// Routes refer to apps and policies by name, found in the bundle or, when
// the bundle does not define them, in the database.
type Bundle struct {
	// Apps carry their ClientSecret: required for an app the database
	// lacks; for one it has, "" keeps the stored secret.
	Apps     []UpstreamApp
	Policies []Policy
	Routes   []BundleRoute
}

// BundleRoute is a route of a Bundle. Its Route's ID, UpstreamAppID,
// UpstreamApp and Policies are ignored: App and PolicyNames say what it
// refers to.
type BundleRoute struct {
	Route
	// App names the route's upstream app, or is "" for none.
	App string
	// PolicyNames name the route's policies.
	PolicyNames []string
}

// ApplyOptions change what Apply does.
type ApplyOptions struct {
	// Prune deletes the routes, policies and upstream apps the bundle does
	// not name (never users). Routes must then find their apps and
	// policies in the bundle, since any other would be deleted.
	Prune bool
	// DryRun works out the plan in a transaction that is rolled back:
	// every check runs, nothing is written, the version stays.
	DryRun bool
}

// ActionUnchanged is a PlanItem's Action for an object Apply found
// already as the bundle describes it. (The other actions are those of the
// history: ActionCreate, ActionUpdate, ActionDelete.)
const ActionUnchanged = "unchanged"

// PlanItem is what Apply did, or would do, to one object.
type PlanItem struct {
	Resource string // ResourceUpstreamApp, ResourcePolicy or ResourceRoute
	Name     string
	Action   string // ActionCreate, ActionUpdate, ActionDelete or ActionUnchanged
}

// Plan lists what Apply did, or would do, object by object, in the order
// it happens: pruned routes, then apps, policies and routes, then pruned
// policies and apps.
type Plan struct {
	Items []PlanItem
}

// Count returns how many items of the plan have action.
func (p Plan) Count(action string) int {
	n := 0
	for _, it := range p.Items {
		if it.Action == action {
			n++
		}
	}
	return n
}

// Changed reports whether the plan creates, updates or deletes anything.
func (p Plan) Changed() bool { return p.Count(ActionUnchanged) < len(p.Items) }

// ApplyProblem is one object of a Bundle that could not be written.
type ApplyProblem struct {
	Resource string // ResourceUpstreamApp, ResourcePolicy or ResourceRoute
	// Index is the object's place in the Bundle's slice for Resource, or
	// -1 for an object only the database has (one Prune would delete).
	Index int
	Name  string
	// Err is what the object's write returned: a *ValidationError naming
	// the bad fields, a *ConflictError, the ValidatePolicy hook's error, …
	Err error
}

// ApplyError lists every object Apply could not write, so that a whole
// file's problems are reported at once. Nothing was written.
type ApplyError struct {
	Problems []ApplyProblem
}

// Error lists the problems one per line.
func (e *ApplyError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = fmt.Sprintf("%s %q: %v", p.Resource, p.Name, p.Err)
	}
	return fmt.Sprintf("%d problem(s):\n  %s", len(lines), strings.Join(lines, "\n  "))
}

// Unwrap gives errors.Is and errors.As every problem's error.
func (e *ApplyError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p.Err
	}
	return errs
}

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("dry run")

// Apply writes the bundle in one transaction, upserting by name: apps
// first, then policies, then routes, so each finds what it refers to;
// with opts.Prune, the routes, policies and apps the bundle does not name
// are deleted. Every object is tried, and if any fails the error is an
// *ApplyError listing them all and nothing is written. The history
// records each change under ctx's actor, and the config version goes up
// once, if anything changed. The returned Plan says what was done.
func (s *Store) Apply(ctx context.Context, b Bundle, opts ApplyOptions) (Plan, error) {
	var plan Plan
	err := s.configWrite(ctx, func(w *configTx) error {
		a := newApplier(w, opts)
		err := a.apply(b)
		plan = a.plan
		if err == nil && opts.DryRun {
			return errDryRun
		}
		return err
	})
	if errors.Is(err, errDryRun) {
		return plan, nil
	}
	if err != nil {
		return Plan{}, fmt.Errorf("models: apply: %w", err)
	}
	return plan, nil
}

// applier is one Apply in progress.
type applier struct {
	w        *configTx
	opts     ApplyOptions
	plan     Plan
	problems []ApplyProblem
	// IDs of the apps and policies the bundle defines, by name, once
	// written; failed names the ones whose write failed, so that routes
	// referring to them are not blamed for it too.
	appIDs, policyIDs map[string]uint
	failed            map[string]bool // resource + "/" + lowercase name
	seen              map[string]bool // likewise, every object the bundle names so far
}

func newApplier(w *configTx, opts ApplyOptions) *applier {
	return &applier{w: w, opts: opts, appIDs: map[string]uint{}, policyIDs: map[string]uint{},
		failed: map[string]bool{}, seen: map[string]bool{}}
}

func (a *applier) apply(b Bundle) error {
	if a.opts.Prune {
		// Stale routes go first, freeing their from for a renamed route.
		if err := a.pruneRoutes(b.Routes); err != nil {
			return err
		}
	}
	for i := range b.Apps {
		a.app(i, b.Apps[i])
	}
	for i := range b.Policies {
		a.policy(i, b.Policies[i])
	}
	for i := range b.Routes {
		a.route(i, b.Routes[i])
	}
	if a.opts.Prune && len(a.problems) == 0 {
		if err := a.prunePolicies(b.Policies); err != nil {
			return err
		}
		if err := a.pruneApps(b.Apps); err != nil {
			return err
		}
	}
	if len(a.problems) > 0 {
		return &ApplyError{Problems: a.problems}
	}
	return nil
}

func (a *applier) add(resource, name, action string) {
	a.plan.Items = append(a.plan.Items, PlanItem{Resource: resource, Name: name, Action: action})
}

func (a *applier) fail(resource string, index int, name string, err error) {
	a.failed[resource+"/"+strings.ToLower(name)] = true
	a.problems = append(a.problems, ApplyProblem{Resource: resource, Index: index, Name: name, Err: err})
}

func (a *applier) hasFailed(resource, name string) bool {
	return a.failed[resource+"/"+strings.ToLower(name)]
}

// upsert runs create when lookup finds nothing and update when it finds
// an ID, and returns the action it took: an update that recorded no
// change left the object unchanged.
func (a *applier) upsert(lookup func() (uint, error), create func() error, update func(id uint) error) (string, error) {
	var action string
	err := a.try(func() error {
		id, err := lookup()
		switch {
		case errors.Is(err, ErrNotFound):
			action = ActionCreate
			return create()
		case err != nil:
			return err
		}
		before := a.w.changes
		if err := update(id); err != nil {
			return err
		}
		action = ActionUpdate
		if a.w.changes == before {
			action = ActionUnchanged
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return action, nil
}

// try runs one object's write in a savepoint, rolled back to when the
// write fails. Apply carries on with the other objects, to report every
// problem at once, and PostgreSQL refuses each statement of a
// transaction after one that failed, unless it rolls back to a
// savepoint first.
func (a *applier) try(write func() error) error {
	return a.w.db.Transaction(func(*gorm.DB) error { return write() })
}
