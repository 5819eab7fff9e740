package views

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// A preset's label may name its products in parentheses, as in
// "Atlassian (Jira, Confluence)". On a card that is too long for one line,
// so the console shows the name alone and the products as the line below.

// presetName is a preset's label without its parenthesised products:
// "Atlassian".
func presetName(label string) string {
	name, _ := splitPresetLabel(label)
	return name
}

// splitPresetLabel splits "Atlassian (Jira, Confluence)" into its name
// and "Jira, Confluence". A label that is not of that shape is all name.
func splitPresetLabel(label string) (name, products string) {
	i := strings.Index(label, " (")
	if i <= 0 || !strings.HasSuffix(label, ")") {
		return label, ""
	}
	products = strings.TrimSpace(label[i+2 : len(label)-1])
	if products == "" {
		return label, ""
	}
	return strings.TrimSpace(label[:i]), products
}

// presetLabel is the display name of a preset key, short enough for a
// badge; "" for none or for a key that is not in the list.
func presetLabel(key string, presets []AppPreset) string {
	for _, p := range presets {
		if p.Key == key {
			return presetName(p.Label)
		}
	}
	return ""
}

// findPreset returns the preset with this key, if there is one.
func findPreset(key string, presets []AppPreset) (AppPreset, bool) {
	for _, p := range presets {
		if key != "" && p.Key == key {
			return p, true
		}
	}
	return AppPreset{}, false
}

// docsLinkText names where an app is registered at its provider.
func docsLinkText(p AppPreset) string {
	return "Create the OAuth app at " + presetName(p.Label)
}

// monogram is the letter on a preset's card.
func monogram(label string) string {
	r, _ := utf8.DecodeRuneInString(label)
	if r == utf8.RuneError {
		return "?"
	}
	return strings.ToUpper(string(r))
}

// presetURL opens the new-app form filled in from a preset.
func presetURL(key string) string {
	return "/admin/apps/new?" + url.Values{"preset": {key}}.Encode()
}
