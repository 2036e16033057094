package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
	"github.com/extbridge/extbridge/internal/driverinternal"
)

// Options.Env reaches the browser's processes and Options.Prefs its
// preferences, in both browsers: a preferred language the page sees.
func TestLaunchEnvAndPrefs(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b := drivertest.Launch(t, driver.Options{
			Browser:    kind,
			Extensions: []string{fixtureDir(t, "echo")},
			Env:        []string{"EXTBRIDGE_TEST_MARK=env-reached-the-browser"},
			Prefs:      map[string]any{"intl.accept_languages": "fr-FR,fr"},
		})
		tab := drivertest.NewTab(t, b, pagesURL+"index.html")
		var langs []string
		if err := tab.Eval(drivertest.Context(t), `navigator.languages`, &langs); err != nil {
			t.Fatal(err)
		}
		if len(langs) == 0 || langs[0] != "fr-FR" {
			t.Errorf("navigator.languages = %v, want fr-FR first", langs)
		}
		root := driverinternal.Root(b)
		found := false
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			cmd, _ := os.ReadFile(filepath.Join(d, "cmdline"))
			env, _ := os.ReadFile(filepath.Join(d, "environ"))
			if bytes.Contains(cmd, []byte(root)) && bytes.Contains(env, []byte("EXTBRIDGE_TEST_MARK=env-reached-the-browser\x00")) {
				found = true
				break
			}
		}
		if !found {
			t.Error("no process of the browser has Options.Env in its environment")
		}
	})
}
