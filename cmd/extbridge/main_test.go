package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

func TestMain(m *testing.M) { drivertest.Main(m) }

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
			`<- {"greeting":"they clicked the page!"}`,
			"Go disconnected the port",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the transcript lacks %q:\n%s", want, out.String())
			}
		}
	})
}

// The probe shell runs a scripted session.
func TestShellSession(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		dir := materialize(t, "echo")
		srvURL := servePagesForTest(t)
		in := strings.NewReader(strings.Join([]string{
			"open " + srvURL + "index.html",
			"exts",
			"nonsense",
			"quit",
		}, "\n"))
		var out bytes.Buffer
		if err := run([]string{"run", "-browser", string(kind), "-ext", dir}, in, &out); err != nil {
			t.Fatalf("run: %v\n%s", err, out.String())
		}
		for _, want := range []string{"extension 0: echo", "tab ", `unknown command "nonsense"`} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the session lacks %q:\n%s", want, out.String())
			}
		}
	})
}
