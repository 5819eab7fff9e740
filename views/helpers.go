package views

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// navItem is one entry of the console navigation.
type navItem struct {
	Section string
	Label   string
	URL     string
	Icon    string
}

// consoleNav lists the console sections in the order the sidebar shows them.
var consoleNav = []navItem{
	{SectionDashboard, "Dashboard", "/admin", "dashboard"},
	{SectionRoutes, "Routes", "/admin/routes", "routes"},
	{SectionPolicies, "Policies", "/admin/policies", "policies"},
	{SectionApps, "Upstream apps", "/admin/apps", "apps"},
	{SectionClients, "Clients", "/admin/clients", "clients"},
	{SectionServiceAccounts, "Service accounts", "/admin/service-accounts", "service-accounts"},
	{SectionUsers, "Users", "/admin/users", "users"},
	{SectionAudit, "Audit log", "/admin/audit", "audit"},
	{SectionHistory, "Change history", "/admin/history", "history"},
	{SectionSettings, "Settings", "/admin/settings", "settings"},
}

// auditorSection reports whether auditors, who read and change nothing,
// see a console section.
func auditorSection(section string) bool {
	return section == SectionDashboard || section == SectionAudit
}

// sectionLabel is the navigation label of a section, shown on the
// collapsed menu of narrow screens; "" for a page outside the navigation.
func sectionLabel(section string) string {
	if section == SectionPortal {
		return "Portal"
	}
	for _, item := range consoleNav {
		if item.Section == section {
			return item.Label
		}
	}
	return ""
}

// documentTitle is the <title>: the page's own title, then the product.
func documentTitle(p Page) string {
	if p.Title == "" {
		return "Drawbridge"
	}
	return p.Title + " · Drawbridge"
}

// flashRole is the ARIA role of a flash: errors interrupt, the rest wait.
func flashRole(kind string) string {
	if kind == FlashError {
		return "alert"
	}
	return "status"
}

// flashClass maps a flash kind to its CSS modifier, defaulting to info.
func flashClass(kind string) string {
	switch kind {
	case FlashSuccess, FlashError:
		return "flash flash-" + kind
	default:
		return "flash flash-info"
	}
}

// flashIcon picks the icon drawn beside a flash.
func flashIcon(kind string) string {
	switch kind {
	case FlashSuccess:
		return "check-circle"
	case FlashError:
		return "alert"
	default:
		return "info"
	}
}

// initials is the one or two letters shown in the viewer's avatar.
func initials(v *Viewer) string {
	src := strings.TrimSpace(v.Name)
	if src == "" {
		src, _, _ = strings.Cut(v.Email, "@")
	}
	var out []rune
	for _, word := range strings.FieldsFunc(src, func(r rune) bool {
		return unicode.IsSpace(r) || r == '.' || r == '_' || r == '-'
	}) {
		r, _ := utf8.DecodeRuneInString(word)
		out = append(out, unicode.ToUpper(r))
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// isoTime is the machine-readable form used in <time datetime>.
func isoTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// shortDate and clockTime are the human-readable UTC date and time shown
// in tables. They are absolute rather than relative so that a page reads
// the same however long it has been open, and renders the same in tests.
func shortDate(t time.Time) string {
	return t.UTC().Format("2 Jan 2006")
}

func clockTime(t time.Time) string {
	return t.UTC().Format("15:04") + " UTC"
}

// showingText is the "Showing 1–25 of 80" line under a paged list.
func showingText(p Pagination) string {
	if p.Total == 0 {
		return "No results"
	}
	return fmt.Sprintf("Showing %d–%d of %d", p.First(), p.Last(), p.Total)
}

// enabledText renders a boolean setting.
func enabledText(b bool) string {
	if b {
		return "Enabled"
	}
	return "Disabled"
}

// stepsDone counts the finished getting-started steps.
func stepsDone(steps []SetupStep) int {
	n := 0
	for _, s := range steps {
		if s.Done {
			n++
		}
	}
	return n
}

// fieldErrorID is the id of the message describing a bad form field, which
// the field names in aria-describedby.
func fieldErrorID(field string) string {
	return field + "-error"
}

// usersActionURL is the POST target of one action on one user.
func usersActionURL(id uint, action string) string {
	return fmt.Sprintf("/admin/users/%d/%s", id, action)
}

// displayName is a user's name, or their email when they have none.
func displayName(u UserRow) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// fieldDescribedBy is the id describing a form field: its error when it
// has one, which is then shown instead of the hint, else its hint.
func fieldDescribedBy(f field) string {
	switch {
	case f.Error != "":
		return fieldErrorID(f.Name)
	case f.Hint != "":
		return f.Name + "-hint"
	}
	return ""
}

// idString renders a database id for an attribute.
func idString(id uint) string {
	return strconv.FormatUint(uint64(id), 10)
}

// showsRequestID says whether an error page offers its request ID. Only a
// server error is worth quoting to support; for a 403 or 404 the message
// already says what to do.
func showsRequestID(p ErrorProps) bool {
	return p.RequestID != "" && p.Status >= 500 && p.Status <= 599
}

// errorHeading falls back to the standard status text when a handler gave
// no heading of its own.
func errorHeading(p ErrorProps) string {
	if p.Heading != "" {
		return p.Heading
	}
	if t := http.StatusText(p.Status); t != "" {
		return t
	}
	return "Something went wrong"
}
