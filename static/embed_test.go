package static

import (
	"io/fs"
	"strings"
	"testing"
)

func TestFSHoldsAssets(t *testing.T) {
	for _, name := range []string{"app.css", "app.js", "favicon.svg"} {
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(b) == 0 {
			t.Errorf("%s is empty", name)
		}
	}
}

// The CSP allows same-origin resources only: the assets must not pull in
// fonts, styles or scripts from anywhere else.
func TestAssetsAreSelfContained(t *testing.T) {
	for _, name := range []string{"app.css", "app.js"} {
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, bad := range []string{"@import", "url(http", "url(//", "fonts.googleapis", "eval(", "innerHTML", ".style."} {
			if strings.Contains(s, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}
