package views

import "testing"

func TestConsentPage(t *testing.T) {
	props := ConsentProps{
		Page: page("", userViewer()), ClientName: "Claude Code", ClientID: "mcp_abc", Source: "dcr",
		RedirectHost: "localhost:33418", RouteName: "GitHub", RouteURL: "http://github.localhost:8080",
		UserEmail: "ada@example.com",
		Fields:    []HiddenField{{Name: "client_id", Value: "mcp_abc"}, {Name: "state", Value: "xyz"}},
	}
	doc, _ := render(t, ConsentPage(props))
	for id, want := range map[string]string{
		"consent-client": "Claude Code", "consent-route": "GitHub", "consent-user": "ada@example.com",
		"consent-redirect": "localhost:33418", "consent-route-url": "http://github.localhost:8080",
	} {
		if got := text(mustOne(t, doc, testid(id))); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	mustOne(t, doc, testid("consent-unverified"))
	form := mustOne(t, doc, testid("consent-form"))
	if method, _ := form.Attr("method"); method != "post" {
		t.Errorf("consent form method %q", method)
	}
	if v, _ := form.Find(`input[name="state"]`).Attr("value"); v != "xyz" {
		t.Errorf("state carried as %q", v)
	}
	for _, id := range []string{"consent-allow", "consent-deny"} {
		b := mustOne(t, doc, testid(id))
		if name, _ := b.Attr("name"); name != "decision" {
			t.Errorf("%s submits %q, want decision", id, name)
		}
	}

	// An unnamed client is shown by its ID; an admin-made one is not
	// flagged.
	props.ClientName, props.Source = "", "console"
	doc, _ = render(t, ConsentPage(props))
	if got := text(mustOne(t, doc, testid("consent-client"))); got != "mcp_abc" {
		t.Errorf("unnamed client shown as %q", got)
	}
	if doc.Find(testid("consent-unverified")).Length() != 0 {
		t.Error("an admin-registered client is flagged as unverified")
	}
}
