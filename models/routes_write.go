package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// routeColumns are the columns an update of a route writes: all but the
// key and the creation time. Listing them makes zero values (a disabled
// route, a cleared app) be written too.
var routeColumns = []string{
	"name", "description", "from_url", "to_url", "kind", "upstream_app_id",
	"timeout_seconds", "max_request_bytes", "pass_upstream_token", "enabled", "updated_at",
}

// routePolicy is one row of the route_policies join table.
type routePolicy struct {
	RouteID  uint
	PolicyID uint
}

func (routePolicy) TableName() string { return "route_policies" }

// routeSnapshot is a route as the history shows it: references by name.
type routeSnapshot struct {
	Name              string   `yaml:"name"`
	Description       string   `yaml:"description"`
	From              string   `yaml:"from"`
	To                string   `yaml:"to"`
	Kind              string   `yaml:"kind"`
	UpstreamApp       string   `yaml:"upstream_app"`
	Policies          []string `yaml:"policies"`
	TimeoutSeconds    int      `yaml:"timeout_seconds"`
	MaxRequestBytes   int64    `yaml:"max_request_bytes"`
	PassUpstreamToken bool     `yaml:"pass_upstream_token"`
	Enabled           bool     `yaml:"enabled"`
}

// snapshotRoute needs r's UpstreamApp and Policies loaded.
func snapshotRoute(r *Route) routeSnapshot {
	s := routeSnapshot{
		Name: r.Name, Description: r.Description, From: r.From, To: r.To, Kind: r.Kind,
		Policies:       make([]string, len(r.Policies)),
		TimeoutSeconds: r.TimeoutSeconds, MaxRequestBytes: r.MaxRequestBytes,
		PassUpstreamToken: r.PassUpstreamToken, Enabled: r.Enabled,
	}
	if r.UpstreamApp != nil {
		s.UpstreamApp = r.UpstreamApp.Name
	}
	for i, p := range r.Policies {
		s.Policies[i] = p.Name
	}
	return s
}

// CreateRoute validates r, inserts it with the policies policyIDs, and
// fills in its ID, timestamps and references; r.From is stored
// normalized. Invalid input is a *ValidationError naming every bad field;
// a name or from already in use is a *ConflictError (ErrConflict).
func (s *Store) CreateRoute(ctx context.Context, r *Route, policyIDs []uint) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.createRoute(r, policyIDs) }); err != nil {
		return fmt.Errorf("models: create route %q: %w", r.Name, err)
	}
	return nil
}

// UpdateRoute replaces route r.ID with r and its policies with policyIDs,
// under the rules of CreateRoute, and loads the result into r. The route
// missing is ErrNotFound. An update that changes nothing writes nothing.
func (s *Store) UpdateRoute(ctx context.Context, r *Route, policyIDs []uint) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.updateRoute(r, policyIDs) }); err != nil {
		return fmt.Errorf("models: update route %d: %w", r.ID, err)
	}
	return nil
}

// DeleteRoute deletes the route with id, or returns ErrNotFound.
func (s *Store) DeleteRoute(ctx context.Context, id uint) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.deleteRoute(id) }); err != nil {
		return fmt.Errorf("models: delete route %d: %w", id, err)
	}
	return nil
}

func (w *configTx) createRoute(r *Route, policyIDs []uint) error {
	r.ID = 0
	refs, err := w.checkRoute(r, policyIDs)
	if err != nil {
		return err
	}
	if err := routeTaken(w.db, r); err != nil {
		return err
	}
	r.CreatedAt, r.UpdatedAt = now(), now()
	if err := w.db.Omit(clause.Associations).Create(r).Error; err != nil {
		return dbError(err)
	}
	if err := setRoutePolicies(w.db, r.ID, refs.policies); err != nil {
		return err
	}
	r.UpstreamApp, r.Policies = refs.app, refs.policies
	after, err := snapshotText(snapshotRoute(r))
	if err != nil {
		return err
	}
	return w.record(ResourceRoute, r.ID, r.Name, ActionCreate, "", after)
}

func (w *configTx) updateRoute(r *Route, policyIDs []uint) error {
	old, err := findRoute(w.db, "id = ?", r.ID)
	if err != nil {
		return err
	}
	refs, err := w.checkRoute(r, policyIDs)
	if err != nil {
		return err
	}
	if err := routeTaken(w.db, r); err != nil {
		return err
	}
	r.UpstreamApp, r.Policies = refs.app, refs.policies
	before, after, differ, err := snapshotPair(snapshotRoute(old), snapshotRoute(r))
	if err != nil || !differ {
		*r = *old
		return err
	}
	r.CreatedAt, r.UpdatedAt = old.CreatedAt, now()
	res := w.db.Model(r).Omit(clause.Associations).Select(routeColumns).Updates(r)
	if res.Error != nil {
		return dbError(res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrNotFound
	}
	if err := setRoutePolicies(w.db, r.ID, refs.policies); err != nil {
		return err
	}
	return w.record(ResourceRoute, r.ID, r.Name, ActionUpdate, before, after)
}

func (w *configTx) deleteRoute(id uint) error {
	old, err := findRoute(w.db, "id = ?", id)
	if err != nil {
		return err
	}
	before, err := snapshotText(snapshotRoute(old))
	if err != nil {
		return err
	}
	// The foreign key would cascade; deleting the links first does not
	// depend on it.
	if err := w.db.Where("route_id = ?", id).Delete(&routePolicy{}).Error; err != nil {
		return err
	}
	if err := w.db.Delete(&Route{}, id).Error; err != nil {
		return err
	}
	return w.record(ResourceRoute, id, old.Name, ActionDelete, before, "")
}

// setRoutePolicies makes policies the route's whole set of policies.
func setRoutePolicies(tx *gorm.DB, routeID uint, policies []Policy) error {
	if err := tx.Where("route_id = ?", routeID).Delete(&routePolicy{}).Error; err != nil {
		return fmt.Errorf("clear policies: %w", err)
	}
	if len(policies) == 0 {
		return nil
	}
	links := make([]routePolicy, len(policies))
	for i, p := range policies {
		links[i] = routePolicy{RouteID: routeID, PolicyID: p.ID}
	}
	if err := tx.Create(&links).Error; err != nil {
		return fmt.Errorf("link policies: %w", err)
	}
	return nil
}
