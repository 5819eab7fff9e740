package main

// What a failed journey leaves behind for whoever reads the CI log: a
// screenshot and the HTML of each of its tabs as they were, and the log of
// each drawbridge process it started, in a folder of its own.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// artifactsEnv names the folder failed tests save their artifacts under;
// without it, bin/test-artifacts at the repository's root (ignored by git,
// like the rest of bin). .ci/run prints the folder when a test fails.
const artifactsEnv = "DRAWBRIDGE_TEST_ARTIFACTS"

// artifactsRoot is the folder every test's artifacts go under.
func artifactsRoot() (string, error) {
	if dir := os.Getenv(artifactsEnv); dir != "" {
		return filepath.Abs(dir)
	}
	// Tests run in their package's folder, cmd/drawbridge.
	return filepath.Abs(filepath.Join("..", "..", "bin", "test-artifacts"))
}

// clearArtifacts removes what an earlier run left, so that the folder holds
// only this run's failures.
func clearArtifacts() error {
	root, err := artifactsRoot()
	if err != nil {
		return err
	}
	return os.RemoveAll(root)
}

// saveArtifact writes data to name in t's folder of artifacts and logs
// where. It is for failures, so it reports its own trouble with t.Logf
// rather than fail t a second time.
func saveArtifact(t *testing.T, name string, data []byte) {
	root, err := artifactsRoot()
	if err == nil {
		dir := filepath.Join(root, fileSafe(t.Name()))
		err = os.MkdirAll(dir, 0o755)
		if err == nil {
			file := filepath.Join(dir, fileSafe(name))
			if err = os.WriteFile(file, data, 0o644); err == nil {
				t.Logf("saved %s", file)
				return
			}
		}
	}
	t.Logf("could not save %s: %v", name, err)
}

// saveTabOnFailure, registered as a cleanup of a tab, saves a screenshot
// of the tab and its HTML when t has failed. The tab's own context may have
// run out of time, which is often why t failed, so this runs on a context
// of its own that keeps the tab.
func saveTabOnFailure(t *testing.T, tab context.Context, name string) {
	if !t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(tab), 5*time.Second)
	defer cancel()
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Logf("could not save %s as it was: %v", name, err)
		return
	}
	t.Logf("%s was at %s", name, url)
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		saveArtifact(t, name+".png", png)
	}
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML("html")); err == nil {
		saveArtifact(t, name+".html", []byte(html))
	}
}

// saveProcessLog saves what a drawbridge process wrote, when t has failed.
func saveProcessLog(t *testing.T, pid int, stdout, stderr string) {
	if !t.Failed() {
		return
	}
	saveArtifact(t, fmt.Sprintf("drawbridge-%d.log", pid),
		[]byte("== stdout\n"+stdout+"\n== stderr\n"+stderr))
}
