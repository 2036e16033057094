package main

import (
	"strings"
	"testing"

	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// The shell as a native host (listen native) and as the extension
// (connect native) to a real host program, in a script.
func TestScriptNative(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		c := startCLI(t, false, nil, "run", "-browser", string(kind), "-fixture", "nativepingpong",
			"-native", "ping_pong", "-native", "real=fixture:ping_pong.py")
		c.send(strings.Join([]string{
			"listen native ping_pong", // the fixture connected at start-up: port 1
			"action $tab",
			"recv $port ping",
			`post $port "pong"`,
			"connect native real",
			`post $port "ping"`,
			"recv $port pong",
			"disconnect 1",
			"listen native real",
		}, "\n") + "\n")
		c.stdin.Close()
		if status := c.wait(); status != 1 {
			t.Errorf("exit status %d, want 1 (the last line fails)", status)
		}
		out := c.clean()
		for _, want := range []string{
			`port 1 "ping_pong" (nativeHost) from `, "serving native host \"ping_pong\"",
			`port 1 <- "ping"`, `port 1 -> "pong"`,
			`port 2 "real" (runtime.connectNative)`, `port 2 -> "ping"`, `port 2 <- "pong"`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("stdout lacks %q:\n%s", want, out)
			}
		}
		if want := `stdin:9: listen: failed to serve native host "real": it runs the program`; !strings.Contains(c.stderr(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, c.stderr())
		}
	})
}
