package models

import (
	"errors"
	"fmt"
	"strings"
)

// duplicate reports, as a problem, an object the bundle names twice.
func (a *applier) duplicate(resource string, index int, name string) bool {
	key := resource + "/" + strings.ToLower(name)
	if a.seen[key] {
		a.fail(resource, index, name, &ConflictError{Field: "name", Message: "is defined twice"})
		return true
	}
	a.seen[key] = true
	return false
}

func (a *applier) app(index int, app UpstreamApp) {
	w := a.w
	app.Name = strings.TrimSpace(app.Name)
	if a.duplicate(ResourceUpstreamApp, index, app.Name) {
		return
	}
	action, err := a.upsert(
		func() (uint, error) {
			old, err := findUpstreamApp(w.db, "name = ?", app.Name)
			if err != nil {
				return 0, err
			}
			return old.ID, nil
		},
		func() error { return w.createUpstreamApp(&app) },
		func(id uint) error { app.ID = id; return w.updateUpstreamApp(&app) })
	if err != nil {
		a.fail(ResourceUpstreamApp, index, app.Name, err)
		return
	}
	a.appIDs[app.Name] = app.ID
	a.add(ResourceUpstreamApp, app.Name, action)
}

func (a *applier) policy(index int, p Policy) {
	w := a.w
	p.Name = strings.TrimSpace(p.Name)
	if a.duplicate(ResourcePolicy, index, p.Name) {
		return
	}
	action, err := a.upsert(
		func() (uint, error) {
			old, err := findPolicy(w.db, "name = ?", p.Name)
			if err != nil {
				return 0, err
			}
			return old.ID, nil
		},
		func() error { return w.createPolicy(&p) },
		func(id uint) error { p.ID = id; return w.updatePolicy(&p) })
	if err != nil {
		a.fail(ResourcePolicy, index, p.Name, err)
		return
	}
	a.policyIDs[p.Name] = p.ID
	a.add(ResourcePolicy, p.Name, action)
}

func (a *applier) route(index int, br BundleRoute) {
	w := a.w
	r := br.Route
	r.ID, r.UpstreamAppID, r.UpstreamApp, r.Policies = 0, nil, nil, nil
	r.Name = strings.TrimSpace(r.Name)
	if a.duplicate(ResourceRoute, index, r.Name) {
		return
	}
	var refs ValidationError
	if name := strings.TrimSpace(br.App); name != "" {
		id, msg := a.resolve(ResourceUpstreamApp, name, a.appIDs, func() (uint, error) {
			app, err := findUpstreamApp(w.db, "name = ?", name)
			if err != nil {
				return 0, err
			}
			return app.ID, nil
		})
		switch {
		case msg != "":
			refs.Add("upstream_app", msg)
		case id != 0:
			r.UpstreamAppID = &id
		}
	}
	var policyIDs []uint
	for _, name := range br.PolicyNames {
		name = strings.TrimSpace(name)
		id, msg := a.resolve(ResourcePolicy, name, a.policyIDs, func() (uint, error) {
			p, err := findPolicy(w.db, "name = ?", name)
			if err != nil {
				return 0, err
			}
			return p.ID, nil
		})
		switch {
		case msg != "":
			refs.Add("policies", msg)
		case id != 0:
			policyIDs = append(policyIDs, id)
		}
	}
	if refs.Err() != nil {
		// Report the route's other problems with the references' ones.
		var v *ValidationError
		if _, err := w.checkRoute(&r, policyIDs); errors.As(err, &v) {
			refs.Fields = append(refs.Fields, v.Fields...)
		}
		a.fail(ResourceRoute, index, r.Name, &refs)
		return
	}
	action, err := a.upsert(
		func() (uint, error) {
			var ids []uint
			err := w.db.Model(&Route{}).Where("lower(name) = ?", strings.ToLower(r.Name)).Pluck("id", &ids).Error
			if err != nil {
				return 0, err
			}
			if len(ids) == 0 {
				return 0, ErrNotFound
			}
			return ids[0], nil
		},
		func() error { return w.createRoute(&r, policyIDs) },
		func(id uint) error { r.ID = id; return w.updateRoute(&r, policyIDs) })
	if err != nil {
		a.fail(ResourceRoute, index, r.Name, err)
		return
	}
	a.add(ResourceRoute, r.Name, action)
}

// resolve finds the ID of the app or policy a route names: one the bundle
// wrote, else (unless pruning) one in the database. It returns a message
// for the route's field when there is none, and neither an ID nor a
// message when the bundle's own object failed, which is reported already.
func (a *applier) resolve(resource, name string, written map[string]uint, lookup func() (uint, error)) (uint, string) {
	what := map[string]string{ResourceUpstreamApp: "upstream app", ResourcePolicy: "policy"}[resource]
	if id, ok := written[name]; ok {
		return id, ""
	}
	if a.hasFailed(resource, name) {
		return 0, ""
	}
	if a.opts.Prune {
		return 0, fmt.Sprintf("names %s %q, which the file does not define (pruning would delete it)", what, name)
	}
	id, err := lookup()
	switch {
	case errors.Is(err, ErrNotFound):
		return 0, fmt.Sprintf("names %s %q, which neither the file nor the database has", what, name)
	case err != nil:
		return 0, fmt.Sprintf("cannot look %s %q up: %v", what, name, err)
	}
	return id, ""
}

// pruneRoutes deletes the routes that routes does not name.
func (a *applier) pruneRoutes(routes []BundleRoute) error {
	keep := map[string]bool{}
	for _, r := range routes {
		keep[strings.ToLower(strings.TrimSpace(r.Name))] = true
	}
	var all []Route
	if err := a.w.db.Select("id", "name").Order("lower(name), id").Find(&all).Error; err != nil {
		return err
	}
	for _, r := range all {
		if keep[strings.ToLower(r.Name)] {
			continue
		}
		if err := a.try(func() error { return a.w.deleteRoute(r.ID) }); err != nil {
			a.fail(ResourceRoute, -1, r.Name, err)
			continue
		}
		a.add(ResourceRoute, r.Name, ActionDelete)
	}
	return nil
}

// prunePolicies deletes the policies that policies does not name.
func (a *applier) prunePolicies(policies []Policy) error {
	keep := map[string]bool{}
	for _, p := range policies {
		keep[strings.TrimSpace(p.Name)] = true
	}
	var all []Policy
	if err := a.w.db.Select("id", "name").Order("name").Find(&all).Error; err != nil {
		return err
	}
	for _, p := range all {
		if keep[p.Name] {
			continue
		}
		if err := a.try(func() error { return a.w.deletePolicy(p.ID) }); err != nil {
			a.fail(ResourcePolicy, -1, p.Name, err)
			continue
		}
		a.add(ResourcePolicy, p.Name, ActionDelete)
	}
	return nil
}

// pruneApps deletes the upstream apps that apps does not name.
func (a *applier) pruneApps(apps []UpstreamApp) error {
	keep := map[string]bool{}
	for _, app := range apps {
		keep[strings.TrimSpace(app.Name)] = true
	}
	var all []UpstreamApp
	if err := a.w.db.Select("id", "name").Order("name").Find(&all).Error; err != nil {
		return err
	}
	for _, app := range all {
		if keep[app.Name] {
			continue
		}
		if err := a.try(func() error { return a.w.deleteUpstreamApp(app.ID) }); err != nil {
			a.fail(ResourceUpstreamApp, -1, app.Name, err)
			continue
		}
		a.add(ResourceUpstreamApp, app.Name, ActionDelete)
	}
	return nil
}
