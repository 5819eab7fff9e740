package models

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func getSettings(t *testing.T, s *Store) Settings {
	t.Helper()
	st, err := s.GetSettings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSettingsDefaults(t *testing.T) {
	s := newTestStore(t)
	want := Settings{RegistrationEnabled: true, MetadataDocumentsEnabled: true}
	if got := DefaultSettings(); !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultSettings() = %+v, want %+v", got, want)
	}
	if got := getSettings(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("GetSettings on a fresh database = %+v, want %+v", got, want)
	}
	if n := rowCount(t, s, "settings"); n != 0 {
		t.Errorf("a fresh database has %d settings rows, want none", n)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	steps := []Settings{
		{RegistrationEnabled: false, MetadataDocumentsEnabled: true, MetadataDocumentHosts: []string{"app.example.com", "*.corp.example"}},
		{RegistrationEnabled: true, MetadataDocumentsEnabled: false},
		{RegistrationEnabled: false, MetadataDocumentsEnabled: false, MetadataDocumentHosts: []string{"x.example"}},
		DefaultSettings(),
	}
	for i, next := range steps {
		if err := s.UpdateSettings(ctx, next); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := getSettings(t, s); !reflect.DeepEqual(got, next) {
			t.Errorf("step %d: GetSettings = %+v, want %+v", i, got, next)
		}
	}
}

// TestSettingsMissingRows checks that a row a database lacks reads as its
// default, and that a row this build does not know is left alone.
func TestSettingsMissingRows(t *testing.T) {
	s := newTestStore(t)
	rows := []setting{
		{Name: settingMetadataDocumentsEnabled, Value: "false", UpdatedAt: now()},
		{Name: "from_a_newer_build", Value: `{"x":1}`, UpdatedAt: now()},
	}
	if err := s.db.Create(&rows).Error; err != nil {
		t.Fatal(err)
	}
	want := Settings{RegistrationEnabled: true, MetadataDocumentsEnabled: false}
	if got := getSettings(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("GetSettings = %+v, want %+v", got, want)
	}
	if err := s.UpdateSettings(context.Background(), DefaultSettings()); err != nil {
		t.Fatal(err)
	}
	var unknown setting
	if err := s.db.Take(&unknown, "name = ?", "from_a_newer_build").Error; err != nil || unknown.Value != `{"x":1}` {
		t.Errorf("unknown row after an update = %+v, %v", unknown, err)
	}

	if err := s.db.Model(&setting{}).Where("name = ?", settingMetadataDocumentHosts).Update("value", "not json").Error; err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSettings(context.Background()); err == nil || !strings.Contains(err.Error(), settingMetadataDocumentHosts) {
		t.Errorf("GetSettings of a corrupt row = %v, want an error naming it", err)
	}
}

func TestSettingsValidate(t *testing.T) {
	hosts := func(h ...string) Settings {
		st := DefaultSettings()
		st.MetadataDocumentHosts = h
		return st
	}
	good := []Settings{
		DefaultSettings(),
		{},
		hosts("app.example.com"),
		hosts("localhost", "under_score.example", "*.example.com", "*.co.uk", "xn--bcher-kva.example"),
		hosts("App.Example.COM", " *.Example.com "), // normalized on write
	}
	for _, st := range good {
		if err := st.Validate(); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", st.MetadataDocumentHosts, err)
		}
	}

	tests := []struct {
		host string
		want string // in the message
	}{
		{"", "is empty"},
		{"   ", "is empty"},
		{"https://x.example", "without a scheme"},
		{"x.example/path", "without a path"},
		{"user@x.example", "without a path"},
		{"x.example:80", "without a port"},
		{"x.example:", "without a port"},
		{"127.0.0.1", "not an IP address"},
		{"[::1]", "not an IP address"},
		{"::1", "not an IP address"},
		{"*.10.0.0.1", "not an IP address"},
		{"*", "may hold one wildcard"},
		{"*.", "a wildcard must stand for"},
		{"*.com", "a wildcard must stand for"},
		{"*..example.com", "a wildcard must stand for"},
		{"*.*.example.com", "may hold one wildcard"},
		{"a.*.example.com", "may hold one wildcard"},
		{"*example.com", "may hold one wildcard"},
		{"**.example.com", "may hold one wildcard"},
		{"example.com.", "dot-separated labels"},
		{"-bad.example", "dot-separated labels"},
		{"a..b", "dot-separated labels"},
		{"x.123", "dot-separated labels"},
		{"bücher.example", "xn-- form"},
		{"sp ace.example", "dot-separated labels"},
		{strings.Repeat("a", 254), "dot-separated labels"},
	}
	for _, tt := range tests {
		st := hosts("ok.example", tt.host)
		var v *ValidationError
		if err := st.Validate(); !errors.As(err, &v) {
			t.Errorf("Validate(%q) = %v, want a *ValidationError", tt.host, err)
			continue
		}
		if len(v.Fields) != 1 || !strings.Contains(v.For("metadata_document_hosts[1]"), tt.want) {
			t.Errorf("Validate(%q) = %v, want metadata_document_hosts[1] to say %q", tt.host, v, tt.want)
		}
	}

	// Every problem at once, each by its index; repeats compared after
	// normalization.
	err := hosts("a.example", "https://b", "A.Example", "ok.example", "x:1").Validate()
	var v *ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("Validate = %v", err)
	}
	want := map[string]string{
		"metadata_document_hosts[1]": "without a scheme",
		"metadata_document_hosts[2]": "repeats metadata_document_hosts[0]",
		"metadata_document_hosts[4]": "without a port",
	}
	if got := v.Map(); len(got) != len(want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
	for field, msg := range want {
		if !strings.Contains(v.For(field), msg) {
			t.Errorf("%s = %q, want it to say %q", field, v.For(field), msg)
		}
	}

	tooMany := make([]string, maxMetadataDocumentHosts+1)
	for i := range tooMany {
		tooMany[i] = strings.Repeat("a", i+1) + ".example"
	}
	if err := hosts(tooMany...).Validate(); !errors.As(err, &v) || v.For("metadata_document_hosts") == "" {
		t.Errorf("Validate(%d hosts) = %v, want a metadata_document_hosts error", len(tooMany), err)
	}
}

func TestSettingsAuditRetention(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	for _, days := range []int{-1, MaxAuditRetentionDays + 1} {
		st := DefaultSettings()
		st.AuditRetentionDays = days
		if got := invalidFields(t, s.UpdateSettings(ctx, st)); len(got) != 1 || got[0] != "audit_retention_days" {
			t.Errorf("%d days: fields %v", days, got)
		}
	}
	for _, days := range []int{1, 90, MaxAuditRetentionDays, 0} {
		st := DefaultSettings()
		st.AuditRetentionDays = days
		if err := s.UpdateSettings(ctx, st); err != nil {
			t.Fatalf("%d days: %v", days, err)
		}
		if got := getSettings(t, s); got.AuditRetentionDays != days {
			t.Errorf("stored %d days, read %d", days, got.AuditRetentionDays)
		}
		if days == 90 && !strings.Contains(lastChange(t, s).After, "audit_retention_days: 90\n") {
			t.Errorf("history: %s", lastChange(t, s).After)
		}
	}
}

func TestUpdateSettingsRefusesInvalid(t *testing.T) {
	s := newTestStore(t)
	v0, n0 := configVersionOf(t, s), changeCount(t, s)
	next := Settings{MetadataDocumentHosts: []string{"ok.example", "*"}}
	err := s.UpdateSettings(context.Background(), next)
	var v *ValidationError
	if !errors.As(err, &v) || v.For("metadata_document_hosts[1]") == "" {
		t.Fatalf("UpdateSettings = %v, want a *ValidationError for metadata_document_hosts[1]", err)
	}
	if got := getSettings(t, s); !reflect.DeepEqual(got, DefaultSettings()) {
		t.Errorf("settings after a refused update = %+v", got)
	}
	if configVersionOf(t, s) != v0 || changeCount(t, s) != n0 || rowCount(t, s, "settings") != 0 {
		t.Error("a refused update wrote something")
	}
}

func TestUpdateSettingsNormalizes(t *testing.T) {
	s := newTestStore(t)
	in := []string{" App.Example.COM ", "*.Corp.Example"}
	next := Settings{RegistrationEnabled: true, MetadataDocumentHosts: in}
	if err := s.UpdateSettings(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	want := []string{"app.example.com", "*.corp.example"}
	if got := getSettings(t, s).MetadataDocumentHosts; !slices.Equal(got, want) {
		t.Errorf("stored hosts = %q, want %q", got, want)
	}
	if in[0] != " App.Example.COM " {
		t.Errorf("UpdateSettings rewrote the caller's slice: %q", in)
	}
}

func TestUpdateSettingsHistory(t *testing.T) {
	s := newTestStore(t)
	ctx := WithActor(context.Background(), "alice@example.com")
	v0, n0 := configVersionOf(t, s), changeCount(t, s)

	next := Settings{RegistrationEnabled: false, MetadataDocumentsEnabled: true, MetadataDocumentHosts: []string{"app.example.com", "*.corp.example"}}
	if err := s.UpdateSettings(ctx, next); err != nil {
		t.Fatal(err)
	}
	if v := configVersionOf(t, s); v != v0+1 {
		t.Errorf("ConfigVersion = %d, want %d", v, v0+1)
	}
	if n := changeCount(t, s); n != n0+1 {
		t.Fatalf("%d changes, want %d", n, n0+1)
	}
	c := lastChange(t, s)
	wantBefore := "registration_enabled: true\nmetadata_documents_enabled: true\nmetadata_document_hosts: []\naudit_fail_open: false\naudit_retention_days: 0\nuser_service_accounts: false\n"
	wantAfter := "registration_enabled: false\nmetadata_documents_enabled: true\nmetadata_document_hosts:\n  - app.example.com\n  - '*.corp.example'\naudit_fail_open: false\naudit_retention_days: 0\nuser_service_accounts: false\n"
	if c.Resource != ResourceSettings || c.ResourceID != 0 || c.ResourceName != "Settings" || c.Action != ActionUpdate ||
		c.Actor != "alice@example.com" || c.Before != wantBefore || c.After != wantAfter {
		t.Errorf("recorded %+v\nbefore:\n%s\nafter:\n%s", c, c.Before, c.After)
	}

	// The same settings again, spelled differently: nothing to record.
	same := next
	same.MetadataDocumentHosts = []string{"App.Example.com", " *.corp.example"}
	if err := s.UpdateSettings(ctx, same); err != nil {
		t.Fatal(err)
	}
	if v, n := configVersionOf(t, s), changeCount(t, s); v != v0+1 || n != n0+1 {
		t.Errorf("a no-op update moved the version to %d and the changes to %d", v, n)
	}

	// Defaults written over missing rows record nothing either.
	fresh := newTestStore(t)
	fv, fn := configVersionOf(t, fresh), changeCount(t, fresh)
	if err := fresh.UpdateSettings(ctx, DefaultSettings()); err != nil {
		t.Fatal(err)
	}
	if configVersionOf(t, fresh) != fv || changeCount(t, fresh) != fn || rowCount(t, fresh, "settings") != 0 {
		t.Error("writing the defaults over a fresh database recorded a change")
	}

	// Without an actor, the system is recorded.
	if err := s.UpdateSettings(context.Background(), DefaultSettings()); err != nil {
		t.Fatal(err)
	}
	if c := lastChange(t, s); c.Actor != ActorSystem || c.Before != wantAfter || c.After != wantBefore {
		t.Errorf("reset recorded as %+v", c)
	}
}
