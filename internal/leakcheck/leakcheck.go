// Package leakcheck finds what a test run left behind: goroutines of
// extbridge and the libraries it drives, browser processes it started, and
// its temporary folders. Package driver marks what it starts (the
// environment variable [OwnerEnv] on every browser, the [TempPrefix] on every
// folder); package drivertest checks after the tests.
package leakcheck

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OwnerEnv is set in the environment of every browser a launch starts, to
// the launching process's pid, so leak checks can find browsers that
// outlive Close.
const OwnerEnv = "EXTBRIDGE_OWNER"

// OwnerValue is the OwnerEnv entry of this process: "EXTBRIDGE_OWNER=<pid>".
func OwnerValue() string { return fmt.Sprintf("%s=%d", OwnerEnv, os.Getpid()) }

// TempPrefix is the name prefix of the temporary folders of this process's
// launches: "extbridge-<pid>-".
func TempPrefix() string { return fmt.Sprintf("extbridge-%d-", os.Getpid()) }

// TempDirs lists this process's temporary folders.
func TempDirs() map[string]bool {
	out := map[string]bool{}
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), TempPrefix()+"*"))
	for _, m := range matches {
		out[m] = true
	}
	return out
}

// Report describes what is left now that was not there before (a
// [TempDirs] result): goroutines, processes and folders. It returns "" when
// nothing leaked. Goroutines may take a moment to return after the Close
// that ended them, so it looks again for up to a second before it reports
// one.
func Report(before map[string]bool) string {
	var b strings.Builder
	if g := Goroutines(time.Second); g != "" {
		fmt.Fprintf(&b, "goroutines:\n%s\n", g)
	}
	if p := Processes(); p != "" {
		fmt.Fprintf(&b, "processes:\n%s\n", p)
	}
	var dirs []string
	for d := range TempDirs() {
		if !before[d] {
			dirs = append(dirs, d)
		}
	}
	slices.Sort(dirs)
	for _, d := range dirs {
		fmt.Fprintf(&b, "temporary folder: %s\n", d)
	}
	return b.String()
}

// markers are the stack frames of the goroutines a closed browser must not
// leave running.
var markers = []string{
	"github.com/extbridge/extbridge/bridge.",
	"github.com/extbridge/extbridge/driver.",
	"github.com/extbridge/extbridge/internal/",
	"github.com/chromedp/",
	"github.com/coder/websocket",
}

// Goroutines returns the stacks of the live goroutines that run extbridge,
// chromedp or WebSocket code, looking again with growing pauses for up to
// wait while there are some: a goroutine is still listed for a moment after
// it has done its last work, and there is no event to wait for its exit.
func Goroutines(wait time.Duration) string {
	deadline := time.Now().Add(wait)
	pause := time.Millisecond
	for {
		g := goroutines()
		if g == "" || time.Now().After(deadline) {
			return g
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

func goroutines() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		s := string(g)
		if strings.Contains(s, "leakcheck.goroutines") || strings.Contains(s, "drivertest.RunMain") {
			continue
		}
		for _, m := range markers {
			if strings.Contains(s, m) {
				out = append(out, s)
				break
			}
		}
	}
	return strings.Join(out, "\n\n")
}

// Processes lists live processes that this process's launches started:
// browsers and their helpers carry OwnerEnv with our pid. Zombies are
// dead already and are not listed.
func Processes() string {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	marker := []byte(OwnerValue() + "\x00")
	self := strconv.Itoa(os.Getpid())
	var out []string
	for _, d := range dirs {
		if filepath.Base(d) == self {
			continue
		}
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(env, marker) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		if st, err := os.ReadFile(filepath.Join(d, "stat")); err == nil && bytes.Contains(st, []byte(") Z ")) {
			continue // a zombie is already dead; its parent reaps it
		}
		out = append(out, filepath.Base(d)+": "+strings.ReplaceAll(string(cmd), "\x00", " "))
	}
	return strings.Join(out, "\n")
}
