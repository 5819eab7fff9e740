package models

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// snapshotJSON renders a snapshot for the history: JSON indented two
// spaces, keys in struct order (maps sorted), no HTML escaping, so two
// snapshots of the same object diff line by line. A nil v is "".
//
// Snapshot types hold what an admin would want to see change, by name
// rather than ID, and never a secret (see secretMarker); they leave out
// timestamps, which would make every update look different.
func snapshotJSON(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("snapshot: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// snapshotPair renders before and after (nil for none), and reports
// whether they differ: an update whose snapshots are equal changes
// nothing, and so is neither written nor recorded.
func snapshotPair(before, after any) (b, a string, differ bool, err error) {
	if b, err = snapshotJSON(before); err != nil {
		return "", "", false, err
	}
	if a, err = snapshotJSON(after); err != nil {
		return "", "", false, err
	}
	return b, a, b != a, nil
}

// Markers that stand in for a secret in a snapshot.
const (
	secretUnset   = "(unset)"
	secretSet     = "(set)"
	secretChanged = "(changed)"
)

// secretMarker describes a secret without showing it: whether one is set
// and, on the after side of an update, whether it was replaced.
func secretMarker(set, replaced bool) string {
	switch {
	case !set:
		return secretUnset
	case replaced:
		return secretChanged
	default:
		return secretSet
	}
}

// lines splits text into lines for a snapshot, so a multi-line value (a
// policy's YAML) diffs line by line instead of as one long string. A final
// newline shows as a last empty line, so it is not lost to the diff.
func lines(text string) []string {
	if text == "" {
		return []string{}
	}
	return strings.Split(text, "\n")
}
