package models

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ResourceSettings is the resource of a Change to Settings. There is one
// set of settings, so its changes have ResourceID 0.
const ResourceSettings = "settings"

// settingsResourceName is the ResourceName of a change to Settings: what
// they are about, as the console's section calls it.
const settingsResourceName = "Settings"

// maxMetadataDocumentHosts caps Settings.MetadataDocumentHosts.
const maxMetadataDocumentHosts = 100

// MaxAuditRetentionDays caps Settings.AuditRetentionDays: ten years.
const MaxAuditRetentionDays = 3650

// Settings are what admins change at run time from the console, beyond
// routes, policies and apps.
type Settings struct {
	// RegistrationEnabled lets MCP clients register themselves (RFC 7591).
	// Default true.
	RegistrationEnabled bool
	// MetadataDocumentsEnabled accepts clients known by a client ID
	// metadata document URL. Default true.
	MetadataDocumentsEnabled bool
	// MetadataDocumentHosts, when not empty, are the only hosts whose
	// metadata documents are accepted; an entry is a hostname
	// ("app.example.com") or "*.example.com" for its subdomains (not
	// example.com itself). Lowercase, no ports, no schemes, no IP
	// addresses: UpdateSettings trims and lowercases each entry, so
	// Validate accepts any case. GetSettings returns nil for none.
	MetadataDocumentHosts []string
	// AuditFailOpen lets MCP calls through when the audit log cannot be
	// written, instead of refusing them. Default false (fail closed).
	AuditFailOpen bool
	// AuditRetentionDays is how long audit events are kept: a background
	// job deletes older ones (see DeleteAuditEventsBefore). 0, the
	// default, keeps them forever; otherwise 1 to MaxAuditRetentionDays.
	AuditRetentionDays int
	// UserServiceAccounts lets every signed-in user create service
	// accounts acting as themselves, from the portal. Default false.
	UserServiceAccounts bool
}

// DefaultSettings are the settings of a fresh database: clients may
// register and present metadata documents from any host.
func DefaultSettings() Settings {
	return Settings{RegistrationEnabled: true, MetadataDocumentsEnabled: true}
}

// setting is one row of the settings table: a name and its value as JSON.
type setting struct {
	Name      string `gorm:"primaryKey"`
	Value     string
	UpdatedAt time.Time
}

func (setting) TableName() string { return "settings" }

// Names of the settings rows.
const (
	settingRegistrationEnabled      = "registration_enabled"
	settingMetadataDocumentsEnabled = "metadata_documents_enabled"
	settingMetadataDocumentHosts    = "metadata_document_hosts"
	settingAuditFailOpen            = "audit_fail_open"
	settingAuditRetentionDays       = "audit_retention_days"
	settingUserServiceAccounts      = "user_service_accounts"
)

// fields maps each row name to the field it holds, for reading and
// writing alike.
func (st *Settings) fields() map[string]any {
	return map[string]any{
		settingRegistrationEnabled:      &st.RegistrationEnabled,
		settingMetadataDocumentsEnabled: &st.MetadataDocumentsEnabled,
		settingMetadataDocumentHosts:    &st.MetadataDocumentHosts,
		settingAuditFailOpen:            &st.AuditFailOpen,
		settingAuditRetentionDays:       &st.AuditRetentionDays,
		settingUserServiceAccounts:      &st.UserServiceAccounts,
	}
}

// GetSettings returns the settings; those never written read as
// DefaultSettings has them.
func (s *Store) GetSettings(ctx context.Context) (Settings, error) {
	st, err := readSettings(s.db.WithContext(ctx))
	if err != nil {
		return Settings{}, fmt.Errorf("models: get settings: %w", err)
	}
	return st, nil
}

func readSettings(db *gorm.DB) (Settings, error) {
	var rows []setting
	if err := db.Find(&rows).Error; err != nil {
		return Settings{}, err
	}
	st := DefaultSettings()
	fields := st.fields()
	for _, r := range rows {
		dst, ok := fields[r.Name]
		if !ok {
			continue // written by a newer build
		}
		if err := json.Unmarshal([]byte(r.Value), dst); err != nil {
			return Settings{}, fmt.Errorf("setting %s: %w", r.Name, err)
		}
	}
	if len(st.MetadataDocumentHosts) == 0 {
		st.MetadataDocumentHosts = nil
	}
	return st, nil
}

// UpdateSettings validates next and stores it, recording the change in
// the history and bumping the configuration version. Invalid input is a
// *ValidationError; settings equal to those stored write nothing.
func (s *Store) UpdateSettings(ctx context.Context, next Settings) error {
	if err := s.configWrite(ctx, func(w *configTx) error { return w.updateSettings(next) }); err != nil {
		return fmt.Errorf("models: update settings: %w", err)
	}
	return nil
}

// settingsSnapshot is Settings as the history shows them.
type settingsSnapshot struct {
	RegistrationEnabled      bool     `yaml:"registration_enabled"`
	MetadataDocumentsEnabled bool     `yaml:"metadata_documents_enabled"`
	MetadataDocumentHosts    []string `yaml:"metadata_document_hosts"`
	AuditFailOpen            bool     `yaml:"audit_fail_open"`
	AuditRetentionDays       int      `yaml:"audit_retention_days"`
	UserServiceAccounts      bool     `yaml:"user_service_accounts"`
}

func snapshotSettings(st Settings) settingsSnapshot {
	hosts := st.MetadataDocumentHosts
	if hosts == nil {
		hosts = []string{} // "[]", as a stored empty list reads
	}
	return settingsSnapshot{
		RegistrationEnabled:      st.RegistrationEnabled,
		MetadataDocumentsEnabled: st.MetadataDocumentsEnabled,
		MetadataDocumentHosts:    hosts,
		AuditFailOpen:            st.AuditFailOpen,
		AuditRetentionDays:       st.AuditRetentionDays,
		UserServiceAccounts:      st.UserServiceAccounts,
	}
}

func (w *configTx) updateSettings(next Settings) error {
	next = next.normalized()
	if err := next.Validate(); err != nil {
		return err
	}
	old, err := readSettings(w.db)
	if err != nil {
		return err
	}
	before, after, differ, err := snapshotPair(snapshotSettings(old), snapshotSettings(next))
	if err != nil || !differ {
		return err
	}
	t := now()
	var rows []setting
	for name, v := range next.fields() {
		value, err := json.Marshal(v)
		if err != nil {
			return err
		}
		rows = append(rows, setting{Name: name, Value: string(value), UpdatedAt: t})
	}
	slices.SortFunc(rows, func(a, b setting) int { return strings.Compare(a.Name, b.Name) })
	err = w.db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
	}).Create(&rows).Error
	if err != nil {
		return dbError(err)
	}
	return w.record(ResourceSettings, 0, settingsResourceName, ActionUpdate, before, after)
}

// normalized returns a copy of st in the form it is stored in: hosts
// trimmed and lowercased, an empty list as []. The caller's slice is left
// as it was.
func (st Settings) normalized() Settings {
	hosts := make([]string, len(st.MetadataDocumentHosts))
	for i, h := range st.MetadataDocumentHosts {
		hosts[i] = normalizeHostPattern(h)
	}
	st.MetadataDocumentHosts = hosts
	return st
}

func normalizeHostPattern(h string) string { return strings.ToLower(strings.TrimSpace(h)) }

// Validate reports every problem with st as a *ValidationError, naming
// each bad host by its index: "metadata_document_hosts[2]", and a
// retention out of range: "audit_retention_days". Hosts are
// checked as UpdateSettings would store them, trimmed and lowercased.
func (st Settings) Validate() error {
	var v ValidationError
	if n := len(st.MetadataDocumentHosts); n > maxMetadataDocumentHosts {
		v.Add("metadata_document_hosts", fmt.Sprintf("must list at most %d hosts", maxMetadataDocumentHosts))
	}
	if st.AuditRetentionDays < 0 || st.AuditRetentionDays > MaxAuditRetentionDays {
		v.Add("audit_retention_days", fmt.Sprintf("must be 0 (keep forever) or 1 to %d", MaxAuditRetentionDays))
	}
	seen := map[string]int{}
	for i, h := range st.MetadataDocumentHosts {
		field := fmt.Sprintf("metadata_document_hosts[%d]", i)
		h = normalizeHostPattern(h)
		if msg := checkHostPattern(h); msg != "" {
			v.Add(field, msg)
			continue
		}
		if j, ok := seen[h]; ok {
			v.Add(field, fmt.Sprintf("repeats metadata_document_hosts[%d]", j))
			continue
		}
		seen[h] = i
	}
	return v.Err()
}

// checkHostPattern returns what is wrong with h, a normalized
// MetadataDocumentHosts entry, or "".
func checkHostPattern(h string) string {
	const example = "must be a host name such as app.example.com, or *.example.com for its subdomains"
	if h == "" {
		return "is empty"
	}
	if strings.Contains(h, "://") {
		return example + ", without a scheme"
	}
	if strings.ContainsAny(h, "/?#@") {
		return example + ", without a path"
	}
	if isIPLiteral(h) {
		return "must be a host name, not an IP address"
	}
	if strings.Contains(h, ":") {
		return example + ", without a port"
	}
	name := h
	if rest, ok := strings.CutPrefix(h, "*."); ok {
		if isIPLiteral(rest) {
			return "must be a host name, not an IP address"
		}
		if !strings.Contains(rest, ".") || strings.HasPrefix(rest, ".") {
			return "a wildcard must stand for the subdomains of a domain with a dot in it, as in *.example.com"
		}
		name = rest
	}
	if strings.Contains(name, "*") {
		return "may hold one wildcard only, as in *.example.com"
	}
	for _, r := range name {
		if r > 0x7f {
			return example + "; write an internationalized name in its xn-- form"
		}
	}
	if _, ok := CanonicalHost(name); !ok {
		return example + " (dot-separated labels of letters, digits, - and _)"
	}
	return ""
}

func isIPLiteral(h string) bool {
	_, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
	return err == nil
}
