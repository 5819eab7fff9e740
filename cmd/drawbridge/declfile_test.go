package main

import (
	"slices"
	"testing"
)

func TestExpandString(t *testing.T) {
	env := environment{"A=1", "EMPTY=", "B=two"}
	for _, c := range []struct {
		in, want string
		problems int
	}{
		{"plain", "plain", 0},
		{"${A}-${B}", "1-two", 0},
		{"x${EMPTY}y", "xy", 0},
		{"$${A} costs $5", "${A} costs $5", 0},
		{"$$${A}", "$${A}", 0},
		{"${UNSET}", "", 1},
		{"${not valid}", "${not valid}", 1},
		{"${A", "${A", 1},
	} {
		got, problems := expandString(c.in, env)
		if got != c.want || len(problems) != c.problems {
			t.Errorf("expandString(%q) = %q, %q; want %q with %d problem(s)", c.in, got, problems, c.want, c.problems)
		}
		if c.problems == 0 {
			if back, _ := expandString(escapeEnv(got), env); back != got {
				t.Errorf("escapeEnv(%q) reads back as %q", got, back)
			}
		}
	}
}

func TestPolicyPositionsMapToTheFile(t *testing.T) {
	file := writeFile(t, "p.yaml", `policies:
  - name: inline
    allow:
      or:
        - email: {is: a@b.c}
        - mcp_tol: {is: x}
  - name: text
    description: d
    source: |
      allow:
        and:
          - groups: {hass: x}
`)
	d, err := readDeclFile(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	got = append(got, d.render(d.problems)...)
	want := []string{
		file + ":6:11: policy \"inline\": unknown criterion `mcp_tol`; did you mean `mcp_tool`?",
		file + ":12:22: policy \"text\": unknown matcher `hass` for `groups`; did you mean `has`?",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%q\nwant:\n%q", got, want)
	}
}
