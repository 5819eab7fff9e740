package handlers

import (
	"strings"

	"github.com/drawbridge/drawbridge/views"
)

// maxDiffLines bounds the quadratic diff; snapshots are small objects, and
// anything larger is shown as removed-then-added rather than compared.
const maxDiffLines = 2000

// lineDiff is a longest-common-subsequence line diff of two snapshots.
func lineDiff(before, after string) []views.DiffLine {
	a, b := splitLines(before), splitLines(after)
	if len(a)*len(b) > maxDiffLines*maxDiffLines/4 {
		return wholeDiff(a, b)
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []views.DiffLine
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, views.DiffLine{Op: " ", Text: a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, views.DiffLine{Op: "-", Text: a[i]})
			i++
		default:
			out = append(out, views.DiffLine{Op: "+", Text: b[j]})
			j++
		}
	}
	for ; i < len(a); i++ {
		out = append(out, views.DiffLine{Op: "-", Text: a[i]})
	}
	for ; j < len(b); j++ {
		out = append(out, views.DiffLine{Op: "+", Text: b[j]})
	}
	return out
}

func wholeDiff(a, b []string) []views.DiffLine {
	out := make([]views.DiffLine, 0, len(a)+len(b))
	for _, l := range a {
		out = append(out, views.DiffLine{Op: "-", Text: l})
	}
	for _, l := range b {
		out = append(out, views.DiffLine{Op: "+", Text: l})
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
