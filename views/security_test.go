package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// The Content-Security-Policy allows same-origin scripts and styles only, so
// any inline script, event handler or style attribute would be blocked in
// the browser. None may appear on any page.
func TestNoInlineScriptsOrStyles(t *testing.T) {
	for name, c := range allPages() {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, c)
			if n := doc.Find("[style]").Length(); n != 0 {
				t.Errorf("%d elements with a style attribute", n)
			}
			if n := doc.Find("style").Length(); n != 0 {
				t.Errorf("%d <style> elements", n)
			}
			doc.Find("script").Each(func(_ int, s *goquery.Selection) {
				src, ok := s.Attr("src")
				if !ok || !strings.HasPrefix(src, "/static/") {
					t.Errorf("script without a same-origin src: %q", src)
				}
				if strings.TrimSpace(s.Text()) != "" {
					t.Errorf("script with inline content: %q", s.Text())
				}
			})
			doc.Find("*").Each(func(_ int, s *goquery.Selection) {
				for _, a := range s.Nodes[0].Attr {
					if strings.HasPrefix(strings.ToLower(a.Key), "on") {
						t.Errorf("<%s> has an inline event handler %s", goquery.NodeName(s), a.Key)
					}
					if v := strings.ToLower(strings.TrimSpace(a.Val)); strings.HasPrefix(v, "javascript:") {
						t.Errorf("<%s %s> is a script URL", goquery.NodeName(s), a.Key)
					}
				}
			})
			doc.Find(`link[rel="stylesheet"]`).Each(func(_ int, s *goquery.Selection) {
				if href, _ := s.Attr("href"); !strings.HasPrefix(href, "/static/") {
					t.Errorf("stylesheet from elsewhere: %q", href)
				}
			})
		})
	}
}

// Attacker-controlled text (emails, names, queries, messages) comes out
// escaped on every page: the only <script> is ours, and the hostile string
// shows as text.
func TestHostileTextIsEscaped(t *testing.T) {
	escaped := "&lt;script&gt;alert(1)&lt;/script&gt;@x"
	for name, c := range allPages() {
		if name == "login-none" || name == "error-user" {
			continue // these carry no attacker text
		}
		t.Run(name, func(t *testing.T) {
			doc, html := render(t, c)
			if n := doc.Find("script").Length(); n != 1 {
				t.Errorf("%d <script> elements, want only app.js", n)
			}
			if strings.Contains(html, "<script>alert") {
				t.Error("hostile text rendered as markup")
			}
			if !strings.Contains(html, escaped) && !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Error("hostile text not rendered (escaped) at all")
			}
		})
	}
}

func TestHostileEmailInUsersTable(t *testing.T) {
	doc, _ := render(t, allPages()["users"])
	row := rowByID(t, doc, "5")
	if got := text(row.Find(testid("user-email"))); got != hostile {
		t.Errorf("email text = %q, want %q", got, hostile)
	}
	if q, _ := row.Find("details" + testid("confirm-disable")).Attr("data-confirm"); q != "Disable "+hostile+"?" {
		t.Errorf("confirmation question = %q", q)
	}
	if v, _ := mustOne(t, doc, `input[name="q"]`).Attr("value"); v != hostile {
		t.Errorf("search value = %q", v)
	}
}

// Every form that changes something is a POST carrying the CSRF token.
func TestEveryPostFormCarriesCSRF(t *testing.T) {
	for name, c := range allPages() {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, c)
			doc.Find("form").Each(func(_ int, f *goquery.Selection) {
				action, _ := f.Attr("action")
				method, _ := f.Attr("method")
				if method != "post" && method != "get" {
					t.Errorf("form %s: method %q, want post or get", action, method)
				}
				in := f.Find(`input[type="hidden"][name="_csrf"]`)
				if method == "get" {
					if in.Length() != 0 {
						t.Errorf("GET form %s leaks the CSRF token into the URL", action)
					}
					return
				}
				if v, _ := in.Attr("value"); in.Length() != 1 || v != testCSRF {
					t.Errorf("form %s: %d CSRF inputs, value %q", action, in.Length(), v)
				}
			})
		})
	}
}

// Every id is unique, so labels, aria-describedby and copy targets point at
// one element.
func TestIDsAreUnique(t *testing.T) {
	for name, c := range allPages() {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, c)
			seen := map[string]bool{}
			doc.Find("[id]").Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("id")
				if seen[id] {
					t.Errorf("duplicate id %q", id)
				}
				seen[id] = true
			})
		})
	}
}
