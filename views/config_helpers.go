package views

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Route kinds, as RouteRow.Kind and RouteForm.Kind hold them.
const (
	kindMCPServer = "mcp_server"
	kindMCPClient = "mcp_client"
	kindHTTP      = "http"
)

// kindLabel is how a route kind reads in the console.
func kindLabel(kind string) string {
	switch kind {
	case kindMCPServer:
		return "MCP server"
	case kindMCPClient:
		return "MCP client"
	case kindHTTP:
		return "HTTP"
	}
	return kind
}

// kindBadge is the badge colour of a route kind.
func kindBadge(kind string) string {
	switch kind {
	case kindMCPServer:
		return "accent"
	case kindMCPClient:
		return "info"
	}
	return "neutral"
}

// resourceLabel names the kind of object a change was made to.
func resourceLabel(resource string) string {
	switch resource {
	case "route":
		return "Route"
	case "policy":
		return "Policy"
	case "upstream_app":
		return "Upstream app"
	case "user":
		return "User"
	case "service_account":
		return "Service account"
	case "settings":
		return "Settings"
	}
	return resource
}

// actionLabel is the past tense of a change's action, as its badge reads.
func actionLabel(action string) string {
	switch action {
	case "create":
		return "Created"
	case "update":
		return "Updated"
	case "delete":
		return "Deleted"
	}
	return action
}

// actionBadge is the badge colour of a change's action.
func actionBadge(action string) string {
	switch action {
	case "create":
		return "success"
	case "update":
		return "info"
	case "delete":
		return "danger"
	}
	return "neutral"
}

// changeTitle is one change in words: "Updated route GitHub".
func changeTitle(c ChangeRow) string {
	return actionLabel(c.Action) + " " + strings.ToLower(resourceLabel(c.Resource)) + " " + c.ResourceName
}

// changeURL is the page of one change.
func changeURL(id uint) string {
	return "/admin/history/" + idString(id)
}

// historyURL lists the changes of one object: its kind and name.
func historyURL(resource, name string) string {
	return "/admin/history?" + url.Values{"resource": {resource}, "q": {name}}.Encode()
}

// editURL is the edit page of a route, policy or upstream app.
func editURL(base string, id uint) string {
	return base + "/" + idString(id)
}

// actionURL is a POST target under an object's edit page, such as its
// /delete or /test.
func actionURL(base string, id uint, action string) string {
	return fmt.Sprintf("%s/%d/%s", base, id, action)
}

// maxDepth is the deepest simulator step that gets its own indentation;
// deeper ones line up with it (app.css has depth-0 to depth-8).
const maxDepth = 8

// depthClass indents one simulator step by its nesting.
func depthClass(depth int) string {
	return "depth-" + strconv.Itoa(max(0, min(depth, maxDepth)))
}

// durationText is a short, human duration: "140 ms", "2.4 s".
func durationText(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}

// hostOf is the host of a URL, for a short label; the URL itself when it
// cannot be read.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host
}

// optionSelected says whether an option is the chosen one: marked by the
// handler, or equal to the form's current value.
func optionSelected(o Option, value string) bool {
	return o.Selected || (value != "" && o.Value == value)
}

// hasAny says whether any of the named fields has an error, to open the
// section that holds them.
func hasAny(errs map[string]string, names ...string) bool {
	for _, n := range names {
		if errs[n] != "" {
			return true
		}
	}
	return false
}

// errorLines lists the lines of a policy's errors for the editor to mark,
// as data-error-lines="3 7".
func errorLines(errs []SourceError) string {
	var lines []string
	seen := map[int]bool{}
	for _, e := range errs {
		if e.Line > 0 && !seen[e.Line] {
			seen[e.Line] = true
			lines = append(lines, strconv.Itoa(e.Line))
		}
	}
	return strings.Join(lines, " ")
}

// sourceErrorPlace is where a policy error is: "Line 3, column 5"; the
// column is left out when unknown, and both when the line is.
func sourceErrorPlace(e SourceError) string {
	switch {
	case e.Line <= 0:
		return ""
	case e.Column <= 0:
		return "Line " + strconv.Itoa(e.Line)
	}
	return fmt.Sprintf("Line %d, column %d", e.Line, e.Column)
}

// plural is "1 route", "3 routes".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// diffRow is one line of a diff with its numbers in the old and the new
// text; 0 where the line is not in that side.
type diffRow struct {
	DiffLine
	Old, New int
}

// diffRows numbers the lines of a diff the way a unified diff reads.
func diffRows(lines []DiffLine) []diffRow {
	rows := make([]diffRow, len(lines))
	oldN, newN := 0, 0
	for i, l := range lines {
		rows[i].DiffLine = l
		switch l.Op {
		case "+":
			newN++
			rows[i].New = newN
		case "-":
			oldN++
			rows[i].Old = oldN
		default:
			oldN++
			newN++
			rows[i].Old, rows[i].New = oldN, newN
		}
	}
	return rows
}

// diffCounts is the number of added and removed lines.
func diffCounts(lines []DiffLine) (added, removed int) {
	for _, l := range lines {
		switch l.Op {
		case "+":
			added++
		case "-":
			removed++
		}
	}
	return added, removed
}

// lineNumber renders a diff line number, blank where the line is absent.
func lineNumber(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// diffClass is the CSS class of one diff line.
func diffClass(op string) string {
	switch op {
	case "+":
		return "diff-line diff-add"
	case "-":
		return "diff-line diff-del"
	}
	return "diff-line"
}

// orUntitled is an object's name for a heading, or "Untitled route" while
// a form with an empty name is shown again with its errors.
func orUntitled(name, kind string) string {
	if strings.TrimSpace(name) == "" {
		return "Untitled " + kind
	}
	return name
}
