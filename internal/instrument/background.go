package instrument

import (
	"fmt"
	"path"
	"path/filepath"
)

// needsBridgeWorker reports whether the copy gets a service worker that runs
// only the bridge: a Manifest V3 extension with no background at all, or,
// in Chromium, one whose background has no service worker (Chromium runs no
// background.scripts or background.page in Manifest V3).
func (j *job) needsBridgeWorker() bool {
	if j.version != 3 || j.workerPath != "" {
		return false
	}
	_, has := j.manifest.get("background")
	return !has || j.browser == browserChrome
}

// backgroundPage returns the path of the background page the target browser
// runs, or "".
func (j *job) backgroundPage() string {
	if j.browser == browserChrome && j.version == 3 {
		return "" // Chromium runs no background.page in Manifest V3
	}
	return j.pagePath
}

// rewriteBackground puts the background bridge first in the copy's
// background, or gives the copy a background that runs only the bridge.
func (j *job) rewriteBackground(dst string) error {
	m := j.manifest
	bgv, ok := m.get("background")
	if !ok {
		// An extension without a background gets one that holds only the
		// bridge: Go needs a background realm to map tabs, reach content
		// scripts and listen. It adds no listener, so a connection to the
		// background still fails as it would without one, unless Go listens.
		bg := newObject()
		if j.version == 3 {
			if err := j.writeBridgeWorker(dst, false); err != nil {
				return err
			}
			bg.set("service_worker", WorkerWrapper)
		}
		bg.set("scripts", []any{BackgroundJS})
		m.set("background", bg)
		j.addedBackground = true
		j.added = append(j.added, "a background that runs only the bridge (the extension has none)")
		return nil
	}

	bg := bgv.(*object)
	_, hasScripts := bg.get("scripts")
	_, hasPage := bg.get("page")
	switch {
	case j.workerPath != "":
		wrapper := path.Join(path.Dir(j.workerPath), WorkerWrapper)
		var body string
		if j.workerModule {
			body = "import " + jsString(urlPath(BackgroundJS)) + ";\n" +
				"import " + jsString(urlPath(j.workerPath)) + ";\n"
		} else {
			body = "importScripts(" + jsString(urlPath(BackgroundJS)) + ", " +
				jsString(urlPath(j.workerPath)) + ");\n"
		}
		if err := writeFile(filepath.Join(dst, filepath.FromSlash(wrapper)), []byte(body)); err != nil {
			return err
		}
		bg.set("service_worker", wrapper)
		j.added = append(j.added, fmt.Sprintf("service worker wrapper %s (loads %s, then %s)", wrapper, BackgroundJS, j.workerPath))
	case j.needsBridgeWorker():
		// Chromium ignores background.scripts and background.page in
		// Manifest V3 and would run no background at all; run the bridge
		// there as it runs for an extension without one.
		if err := j.writeBridgeWorker(dst, bg.str("type") == "module"); err != nil {
			return err
		}
		bg.set("service_worker", WorkerWrapper)
		j.added = append(j.added, "a service worker that runs only the bridge ("+chromiumIgnores(hasScripts, hasPage)+")")
	}

	if j.browser == browserFirefox && j.workerPath != "" && !hasScripts && !hasPage {
		// Firefox refuses a manifest whose only background is a service
		// worker; it runs the same file as an event page.
		bg.set("scripts", []any{j.workerPath})
		if j.workerModule {
			bg.set("type", "module")
		}
		j.added = append(j.added, fmt.Sprintf("background.scripts [%q] from background.service_worker "+
			"(Firefox runs no extension service workers; the worker runs as an event page, which has a DOM "+
			"(window, document) and lacks self.clients, self.registration and skipWaiting, so worker-only code may behave differently)", j.workerPath))
	}
	if v, ok := bg.get("scripts"); ok {
		bg.set("scripts", append([]any{BackgroundJS}, v.([]any)...))
		j.added = append(j.added, "background script "+BackgroundJS)
	}
	return nil
}

// chromiumIgnores says which background of a Manifest V3 extension without
// a service worker Chromium does not run.
func chromiumIgnores(scripts, page bool) string {
	switch {
	case scripts && page:
		return "Chromium runs no background.scripts or background.page in Manifest V3, so the extension's own background does not run in Chromium"
	case scripts:
		return "Chromium runs no background.scripts in Manifest V3, so the extension's own scripts do not run in Chromium"
	case page:
		return "Chromium runs no background.page in Manifest V3, so the extension's own background page does not run in Chromium"
	}
	return "the extension has none"
}

// writeBridgeWorker writes the service worker that runs only the bridge.
func (j *job) writeBridgeWorker(dst string, module bool) error {
	j.bridgeWorker = true
	body := "importScripts(" + jsString(urlPath(BackgroundJS)) + ");\n"
	if module {
		body = "import " + jsString(urlPath(BackgroundJS)) + ";\n"
	}
	return writeFile(filepath.Join(dst, WorkerWrapper), []byte(body))
}
