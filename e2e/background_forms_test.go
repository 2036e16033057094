package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// A Manifest V3 background without a service worker — background.scripts
// (the form of MDN's notify-link-clicks-i18n) or background.page: Firefox
// runs it; Chromium runs no such background in Manifest V3, so the copy has
// a bridge-only worker there, Launch does not wait for a background that
// never comes, and a connection finds nobody, as it would without extbridge.
func TestBackgroundWithoutWorkerMV3(t *testing.T) {
	listener := `(globalThis.browser ?? chrome).runtime.onConnect.addListener((port) => port.postMessage({from: "background"}));`
	for _, form := range []struct {
		name       string
		background string
		files      map[string]string
	}{
		{"scripts", `{"scripts": ["bg.js"]}`, map[string]string{"bg.js": listener}},
		{"page", `{"page": "bg.html"}`, map[string]string{"bg.html": `<!doctype html><script src="bg.js"></script>`, "bg.js": listener}},
	} {
		t.Run(form.name, func(t *testing.T) {
			files := map[string]string{
				"manifest.json": `{"manifest_version": 3, "name": "no worker ` + form.name + `", "version": "1",
  "background": ` + form.background + `,
  "browser_specific_settings": {"gecko": {"id": "no-worker-` + form.name + `@extbridge.test"}},
  "content_scripts": [{"matches": ["<all_urls>"], "js": ["cs.js"]}]}`,
				"cs.js": `// nothing`,
			}
			for k, v := range form.files {
				files[k] = v
			}
			dir := writeExtension(t, files)
			drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
				b := drivertest.Launch(t, driver.Options{Browser: kind, Extensions: []string{dir}})
				ext := b.Extensions()[0]
				bridgeOnly := slices.ContainsFunc(ext.Added(), func(s string) bool {
					return strings.HasPrefix(s, "a service worker that runs only the bridge (Chromium runs no background.")
				})
				if bridgeOnly != (kind == driver.Chromium) {
					t.Errorf("Added = %q: a bridge-only worker only for Chromium", ext.Added())
				}
				tab := drivertest.NewTab(t, b, pagesURL+"index.html")
				cs, err := ext.ContentScript(drivertest.Context(t), tab.ID(), 0)
				if err != nil {
					t.Fatal(err)
				}
				p, err := cs.Connect(drivertest.Context(t), bridge.ConnectInfo{Name: "ask"})
				if err != nil {
					t.Fatal(err)
				}
				if kind == driver.Firefox {
					drivertest.RecvMatch(t, p, `{"from":"background"}`)
				} else {
					drivertest.ExpectDisconnect(t, p, "Receiving end does not exist")
				}
			})
		})
	}
}
