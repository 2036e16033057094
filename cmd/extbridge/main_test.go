package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// TestMain runs the tests, or, as a child of them (childEnv set), the CLI
// itself: the tests in proc_test.go run it so, on a pty or on pipes.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		return
	}
	drivertest.Main(m)
}

// The demo runs the MDN example for real and prints both directions.
func TestDemo(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		var out bytes.Buffer
		if err := run([]string{"demo", "-browser", string(kind)}, stdio{nil, &out, &out}); err != nil {
			t.Fatalf("demo: %v\n%s", err, out.String())
		}
		for _, want := range []string{
			`background -> Go   {"greeting":"hi there content script!"}`,
			`Go -> background   {"greeting":"hello from content script"}`,
			`background -> Go   {"greeting":"they clicked the button!"}`,
			`(clicking the page: Tab.Click("#content"), a trusted click)`,
			`page's content script -> background   {"greeting":"they clicked the page!"}`,
			`<- {"greeting":"they clicked the page!"}`,
			"Go disconnected the port",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the transcript lacks %q:\n%s", want, out.String())
			}
		}
	})
}
