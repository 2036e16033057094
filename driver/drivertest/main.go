package drivertest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/extbridge/extbridge/driver"
)

// Main runs the package's tests (m.Run), closes the [Shared] browsers, and
// then fails the run if anything leaked: goroutines of extbridge, chromedp
// or the wire; browser processes; temporary folders. Use it as TestMain:
//
//	func TestMain(m *testing.M) { drivertest.Main(m) }
func Main(m *testing.M) { os.Exit(RunMain(m)) }

// RunMain is [Main] without the exit: it returns the exit code, so a
// TestMain can clean up its own fixtures before it exits.
func RunMain(m *testing.M) int {
	before := tempDirs()
	code := m.Run()
	if err := CloseShared(); err != nil {
		fmt.Fprintf(os.Stderr, "drivertest: closing the shared browsers: %v\n", err)
		code = 1
	}
	if leaks := Leaks(before); leaks != "" {
		fmt.Fprintf(os.Stderr, "drivertest: leaks after the tests:\n%s", leaks)
		code = 1
	}
	return code
}

// Leaks reports what is left after every browser was closed: goroutines
// whose stacks are in extbridge, chromedp or the WebSocket library, browser
// processes started for extbridge, and temporary folders that were not in
// before. It returns "" when nothing leaked. [driver.Browser.Close] waits
// for everything it started, so Leaks looks once and does not wait.
func Leaks(before map[string]bool) string {
	var b strings.Builder
	if g := leakedGoroutines(); g != "" {
		fmt.Fprintf(&b, "goroutines:\n%s\n", g)
	}
	if p := leakedProcesses(); p != "" {
		fmt.Fprintf(&b, "processes:\n%s\n", p)
	}
	for _, d := range sortedKeys(tempDirs()) {
		if !before[d] {
			fmt.Fprintf(&b, "temporary folder: %s\n", d)
		}
	}
	return b.String()
}

// TempDirs lists extbridge's temporary folders, for [Leaks].
func TempDirs() map[string]bool { return tempDirs() }

func tempDirs() map[string]bool {
	out := map[string]bool{}
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), driver.TempPrefix()+"*"))
	for _, m := range matches {
		out[m] = true
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

var leakMarkers = []string{
	"github.com/extbridge/extbridge/bridge.",
	"github.com/extbridge/extbridge/driver.",
	"github.com/extbridge/extbridge/internal/",
	"github.com/chromedp/",
	"github.com/coder/websocket",
}

func leakedGoroutines() string {
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
		if strings.Contains(s, "drivertest.leakedGoroutines") || strings.Contains(s, "drivertest.Main") {
			continue
		}
		for _, m := range leakMarkers {
			if strings.Contains(s, m) {
				out = append(out, s)
				break
			}
		}
	}
	return strings.Join(out, "\n\n")
}

// leakedProcesses lists live processes that this process's launches
// started: browsers and their helpers carry driver.OwnerEnv with our pid.
func leakedProcesses() string {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	marker := []byte(fmt.Sprintf("%s=%d\x00", driver.OwnerEnv, os.Getpid()))
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
