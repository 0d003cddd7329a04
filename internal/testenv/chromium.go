package testenv

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Chromium opens the HTML file page in headless Chromium with the given
// window size ("1200,1600"), which dumps the DOM and takes a screenshot in
// one run, and returns both. A missing browser goes through Missing. A
// browser failure or a missing screenshot fails the test; every console
// message is reported as an error (lethe's pages have no scripts, so any
// message is a load problem).
func Chromium(t testing.TB, page, windowSize string) (dom string, screenshot []byte) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		bin, err = exec.LookPath("chromium-browser")
	}
	Missing(t, "Chromium (Debian package chromium)", err)
	// Chromium's helpers may still be writing to their profile when the
	// browser exits; a profile outside t.TempDir keeps its cleanup from
	// failing on that.
	profile, err := os.MkdirTemp("", "lethe-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(profile)
	shot := filepath.Join(t.TempDir(), "screenshot.png")
	// A run takes 2–6 s on an idle 2-core machine and has been seen at 14 s
	// under heavy load; the timeout only guards against a hung browser.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, "--enable-logging=stderr", "--v=0",
		"--window-size="+windowSize, "--hide-scrollbars",
		"--screenshot="+shot, "--dump-dom", "file://"+page)
	// Chromium starts helper processes: run it in its own process group and
	// kill that group, and only that, on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, tail(stderr.String(), 2000))
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("console message: %s", line)
		}
	}
	data, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, tail(stderr.String(), 2000))
	}
	return stdout.String(), data
}

// tail returns the last n bytes of s, marked as cut when they are not all.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
