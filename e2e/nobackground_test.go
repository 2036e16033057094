package e2e

import (
	"testing"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// An extension with content scripts only: its connect fails as the browser
// makes it fail, and Go can step in as the background it does not have.
func TestContentScriptOnlyExtension(t *testing.T) {
	dir := writeExtension(t, map[string]string{
		"manifest.json": `{"manifest_version": 3, "name": "cs only", "version": "1",
  "content_scripts": [{"matches": ["<all_urls>"], "js": ["cs.js"]}]}`,
		"cs.js": `(globalThis.browser ?? chrome).runtime.connect({name: "lonely"}).postMessage({from: location.pathname});`,
	})
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b := drivertest.Launch(t, driver.Options{Browser: kind, Extensions: []string{dir}})
		ext := b.Extensions()[0]
		w := drivertest.Watch(t, ext)
		tab := drivertest.NewTab(t, b, pagesURL+"index.html")
		if tab.ID() <= 0 {
			t.Fatalf("tab id %d", tab.ID())
		}
		// Nobody receives the content script's own port.
		drivertest.WaitEvent(t, w, "the lonely port ending with the browser's error", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventDisconnect && ev.Port.Name() == "lonely" && ev.Err != nil && contains(ev.Err.Error(), "Receiving end does not exist")
		})
		// Go listens as the background, and the next page's port arrives.
		bg, err := ext.Background(drivertest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		l, err := bg.Listen(drivertest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		drivertest.NewTab(t, b, pagesURL+"frames.html")
		p, err := l.Accept(drivertest.Context(t))
		if err != nil {
			t.Fatal(err)
		}
		drivertest.RecvMatch(t, p, `{"from":"/frames.html"}`)
	})
}
