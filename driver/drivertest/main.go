package drivertest

import (
	"fmt"
	"os"
	"testing"

	"github.com/extbridge/extbridge/internal/leakcheck"
)

// Main runs the package's tests (m.Run), closes the [Shared] browsers, and
// then fails the run if anything leaked: goroutines of extbridge, chromedp
// or the wire; browser processes; temporary folders. Use it as TestMain:
//
//	func TestMain(m *testing.M) { drivertest.Main(m) }
//
// It also gives the test binary the -extbridge.browser flag (see
// [Browsers]).
func Main(m *testing.M) { os.Exit(RunMain(m)) }

// RunMain is [Main] without the exit: it returns the exit code, so a
// TestMain can clean up its own fixtures before it exits.
func RunMain(m *testing.M) int {
	registerFlags()
	before := leakcheck.TempDirs()
	code := m.Run()
	if err := closeShared(); err != nil {
		fmt.Fprintf(os.Stderr, "drivertest: closing the shared browsers: %v\n", err)
		code = 1
	}
	if leaks := leakcheck.Report(before); leaks != "" {
		fmt.Fprintf(os.Stderr, "drivertest: leaks after the tests:\n%s", leaks)
		code = 1
	}
	return code
}
