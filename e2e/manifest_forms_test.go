package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// writeExtension writes an extension from a map of file names to contents.
func writeExtension(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A Chromium-style extension — only a module service worker that imports a
// helper, no gecko id, no background.scripts — works in both browsers.
func TestModuleServiceWorkerOnly(t *testing.T) {
	dir := writeExtension(t, map[string]string{
		"manifest.json": `{
  "manifest_version": 3, "name": "sw only", "version": "1",
  "background": {"service_worker": "js/sw.js", "type": "module"},
  "content_scripts": [{"matches": ["<all_urls>"], "js": ["cs.js"]}]
}`,
		"js/sw.js": `import { reply } from "./reply.js";
chrome.runtime.onConnect.addListener((port) => {
  port.onMessage.addListener((m) => port.postMessage(reply(m)));
});`,
		"js/reply.js": `export function reply(m) { return {got: m, from: "module worker"}; }`,
		"cs.js":       `// nothing`,
	})
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b := drivertest.Launch(t, driver.Options{Browser: kind, Extensions: []string{dir}})
		tab := drivertest.NewTab(t, b, pagesURL+"index.html")
		ext := b.Extensions()[0]
		cs, err := ext.ContentScript(drivertest.Context(t), tab.ID(), 0)
		if err != nil {
			t.Fatal(err)
		}
		p, err := cs.Connect(drivertest.Context(t), bridge.ConnectInfo{Name: "sw-only"})
		if err != nil {
			t.Fatal(err)
		}
		post(t, p, "hi")
		drivertest.RecvMatch(t, p, `{"got":"hi","from":"module worker"}`)
	})
}

// A classic worker in a subfolder that imports a helper by a relative path,
// and a document_start content script: the bridge runs first in both (the
// ports they open at their first instruction are reported), and the
// relative importScripts still resolves.
func TestClassicWorkerInSubfolder(t *testing.T) {
	dir := writeExtension(t, map[string]string{
		"manifest.json": `{
  "manifest_version": 3, "name": "classic sub", "version": "1",
  "background": {"service_worker": "bg/sw.js", "scripts": ["bg/helper.js", "bg/sw.js"]},
  "browser_specific_settings": {"gecko": {"id": "classic-sub@extbridge.test"}},
  "content_scripts": [{"matches": ["<all_urls>"], "js": ["cs.js"], "run_at": "document_start"}]
}`,
		"bg/sw.js": `if (typeof importScripts === "function") importScripts("helper.js");
(globalThis.browser ?? chrome).runtime.onConnect.addListener((port) => port.postMessage({helper: globalThis.helperLoaded === true}));
(globalThis.browser ?? chrome).runtime.connect({name: "worker-first-instruction"});`,
		"bg/helper.js": `globalThis.helperLoaded = true;`,
		"cs.js":        `(globalThis.browser ?? chrome).runtime.connect({name: "cs-document-start"});`,
	})
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b := drivertest.Launch(t, driver.Options{Browser: kind, Extensions: []string{dir}})
		ext := b.Extensions()[0]
		w := drivertest.Watch(t, ext)
		drivertest.WaitEvent(t, w, "the worker's first-instruction port", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventOpen && ev.Realm.Kind == "background" && ev.Name == "worker-first-instruction"
		})
		tab := drivertest.NewTab(t, b, pagesURL+"index.html")
		drivertest.WaitEvent(t, w, "the document_start port", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventOpen && ev.Realm.Kind == "content" && ev.Name == "cs-document-start"
		})
		cs, err := ext.ContentScript(drivertest.Context(t), tab.ID(), 0)
		if err != nil {
			t.Fatal(err)
		}
		p, err := cs.Connect(drivertest.Context(t), bridge.ConnectInfo{Name: "ask"})
		if err != nil {
			t.Fatal(err)
		}
		drivertest.RecvMatch(t, p, `{"helper":true}`)
	})
}
