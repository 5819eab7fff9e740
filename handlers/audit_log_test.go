package handlers

import "testing"

func TestAuditBackURL(t *testing.T) {
	const console = "http://console.localhost:8080"
	for referer, want := range map[string]string{
		console + "/admin/audit?tool=admin_&range=7d": "/admin/audit?range=7d&tool=admin_",
		console + "/admin/audit":                      "/admin/audit?",
		console + "/admin/routes":                     "/admin/audit",
		"http://evil.example/admin/audit?tool=x":      "/admin/audit",
		console + ".evil.example/admin/audit?tool=x":  "/admin/audit",
		"": "/admin/audit",
	} {
		if got := auditBackURL(referer, console); got != want {
			t.Errorf("auditBackURL(%q) = %q, want %q", referer, got, want)
		}
	}
}
