// Package instrument copies an unpacked browser extension and adds the
// extbridge bridge to the copy, so that a bridge script runs before any of
// the extension's own code in every realm. The source folder is never
// written.
//
// [Copy] is the entry point. In the copy:
//   - the background gets the background bridge first: a wrapper service
//     worker that loads the bridge and then the extension's worker
//     (importScripts, or import for a module worker), the bridge prepended
//     to background.scripts, or a script tag first in background.page; an
//     extension without a background Chromium or Firefox would run gets one
//     that runs only the bridge;
//   - a document_start, all_frames, match_about_blank content script runs
//     the content bridge in every frame, and the bridge is prepended to the
//     extension's own content scripts (except MAIN-world ones: the page can
//     read that world);
//   - extension pages get the page bridge as their first script;
//   - the manifest gets the permissions, host permissions, content security
//     policy and Firefox add-on id the bridge needs.
//
// [Result.Added] says, in words, everything that was added or changed.
//
// The bridge scripts hold the launch's secret token, so they are never
// web-accessible: a web_accessible_resources pattern that would match them
// is replaced by the extension's own files it matched, and one that names
// a bridge file outright is an error.
//
// The page bridge goes only into HTML the extension loads as pages. HTML
// under node_modules/ or under a hidden folder (one whose name starts with
// ".") is left as it is, unless the manifest names it as a page:
// those are the files of packages and tools (README pages, test fixtures,
// coverage reports) that ship inside the folder, which no extension page
// is, and rewriting them would only make the copy differ for nothing.
package instrument

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// Options configures [Copy].
type Options struct {
	// Browser is the browser the copy is for: "chromium" or "firefox";
	// "" means "chromium".
	Browser string
	// Script returns the bridge script of a realm: "background", "content"
	// or "page". It is required.
	Script func(realm string) []byte
}

// Result describes an instrumented copy of an extension.
type Result struct {
	// Dir is the copy: the absolute, clean destination folder.
	Dir string
	// Manifest is the manifest as written to the copy; numbers are
	// json.Number.
	Manifest map[string]any
	// Added lists, in words, what the instrumenter added or changed, e.g.
	// `permission "scripting"`.
	Added []string
	// Name is the manifest name, with a "__MSG_x__" reference resolved from
	// _locales/<default_locale>/messages.json when possible.
	Name string
	// ManifestVersion is the manifest_version: 2 or 3.
	ManifestVersion int
	// GeckoID is the Firefox add-on id: browser_specific_settings.gecko.id
	// (or applications.gecko.id), added if the manifest has none.
	GeckoID string
	// ChromiumID is the id Chromium gives the copy when it loads it
	// unpacked from Dir.
	ChromiumID string
	// BackgroundKind is the background the target browser runs:
	// "service_worker", "module_service_worker", "scripts", "page", or ""
	// (none).
	BackgroundKind string

	// Pages lists every HTML page of the copy that got the page bridge, as
	// slash-separated paths relative to Dir, sorted. The background page is
	// not one of them: it gets the background bridge.
	Pages []string
	// ActionKind is the manifest key of the toolbar action the target
	// browser uses: "action" (Manifest V3), "browser_action" (Manifest V2)
	// or "page_action" (Manifest V2, and V3 in Firefox), or "" if none.
	ActionKind string
	// Popup is the action's default_popup, as a slash-separated path
	// relative to Dir, or "" if none.
	Popup string
	// Options is the options page, options_ui.page or else options_page,
	// as a slash-separated path relative to Dir, or "" if none.
	Options string
	// SidePanel is the side panel's page: side_panel.default_path in
	// Chromium, sidebar_action.default_panel in Firefox, as a
	// slash-separated path relative to Dir, or "" if none.
	SidePanel string
	// Permissions is the copy's permissions list, with what the bridge
	// added; entries that are not strings are left out.
	Permissions []string
}

// Names of the files the instrumenter adds to the copy, relative to its
// root. BackgroundJS, ContentJS and PageJS are the bridge scripts of the
// three realms; they hold the launch's secret and are never web-accessible.
const (
	BridgeDir     = "__extbridge"               // the folder of the bridge scripts
	BackgroundJS  = "__extbridge/background.js" // the background bridge
	ContentJS     = "__extbridge/content.js"    // the content-script bridge
	PageJS        = "__extbridge/page.js"       // the extension-page bridge
	WorkerWrapper = "__extbridge_sw.js"         // the wrapper worker, beside the extension's own worker, or at the root
)

const (
	webSocketSrc   = "ws://127.0.0.1:*"
	geckoIDSuffix  = "@extbridge.invalid"
	browserChrome  = "chromium"
	browserFirefox = "firefox"
)

// bridgeFiles are the files that hold the secret.
var bridgeFiles = []string{ContentJS, BackgroundJS, PageJS}

// job holds the state of one Copy call.
type job struct {
	src     string // absolute source folder
	browser string
	script  func(string) []byte

	manifest *object
	version  int
	added    []string

	workerPath   string // cleaned relative path of background.service_worker, "" if none
	workerModule bool
	pagePath     string // cleaned relative path of background.page, "" if none

	// bridgeWorker is set when the copy gets a service worker that runs
	// only the bridge: the extension has no background at all
	// (addedBackground), or, in Chromium, a Manifest V3 one without a
	// service worker, which Chromium does not run.
	bridgeWorker    bool
	addedBackground bool

	facts facts
	pages []string // the pages that got the page bridge
}

// Copy copies the unpacked extension in src to dst and adds the bridge
// scripts so that they run before any extension code in every realm. src is
// never written. dst must not exist or be an empty folder; on an error, a
// dst that Copy created is removed. Errors read
// "failed to instrument SRC: manifest.json: …" when the manifest is at fault.
func Copy(src, dst string, opts Options) (*Result, error) {
	res, err := copyAndRewrite(src, dst, opts)
	if err != nil {
		return nil, fmt.Errorf("failed to instrument %s: %w", src, err)
	}
	return res, nil
}

func copyAndRewrite(src, dst string, opts Options) (_ *Result, err error) {
	browser := opts.Browser
	if browser == "" {
		browser = browserChrome
	}
	if browser != browserChrome && browser != browserFirefox {
		return nil, fmt.Errorf("unknown browser %q (want %q or %q)", opts.Browser, browserChrome, browserFirefox)
	}
	if opts.Script == nil {
		return nil, errors.New("no bridge script (instrument.Options.Script is nil)")
	}
	absSrc, err := filepath.Abs(src)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve source folder: %w", err)
	}
	st, err := os.Stat(absSrc)
	if err != nil {
		return nil, fmt.Errorf("failed to read extension folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", src)
	}
	srcReal, err := filepath.EvalSymlinks(absSrc)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve source folder: %w", err)
	}
	j := &job{src: absSrc, browser: browser, script: opts.Script}

	// Validate everything before touching dst.
	if err := j.readManifest(); err != nil {
		return nil, err
	}
	if err := j.validate(); err != nil {
		return nil, err
	}
	if err := j.checkReserved(); err != nil {
		return nil, err
	}
	j.facts = j.readFacts()

	absDst, err := filepath.Abs(dst)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve destination folder: %w", err)
	}
	for _, s := range []string{absSrc, srcReal} {
		if within(s, absDst) {
			return nil, fmt.Errorf("destination %s is inside the extension folder", dst)
		}
	}
	created, err := prepareDst(absDst)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && created {
			os.RemoveAll(absDst)
		}
	}()

	if err := copyTree(srcReal, absDst); err != nil {
		return nil, err
	}
	if err := j.rewrite(absDst); err != nil {
		return nil, err
	}

	res := &Result{
		Dir:             absDst,
		Added:           j.added,
		Name:            j.name(),
		ManifestVersion: j.version,
		GeckoID:         j.geckoID(),
		BackgroundKind:  j.backgroundKind(),
		Pages:           j.pages,
		ActionKind:      j.facts.actionKind,
		Popup:           j.facts.popup,
		Options:         j.facts.options,
		SidePanel:       j.facts.sidePanel,
		Permissions:     j.permissions(),
	}
	if res.ChromiumID, err = j.chromiumID(absDst); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	writeJSON(&buf, j.manifest, "")
	buf.WriteByte('\n')
	if err := writeFile(filepath.Join(absDst, "manifest.json"), buf.Bytes()); err != nil {
		return nil, err
	}
	res.Manifest = plain(j.manifest).(map[string]any)
	return res, nil
}

// checkReserved refuses an extension that already has a file where the
// instrumenter puts one of its own.
func (j *job) checkReserved() error {
	if _, err := os.Lstat(filepath.Join(j.src, BridgeDir)); err == nil {
		return fmt.Errorf("the extension already contains %s/; it is reserved for the bridge (is it already instrumented?)", BridgeDir)
	}
	if w := j.wrapperPath(); w != "" {
		if _, err := os.Lstat(filepath.Join(j.src, filepath.FromSlash(w))); err == nil {
			return fmt.Errorf("the extension already contains %s; the name is reserved for the bridge (is it already instrumented?)", w)
		}
	}
	return nil
}

// wrapperPath returns where the copy's wrapper service worker goes, or ""
// if the copy gets none.
func (j *job) wrapperPath() string {
	switch {
	case j.workerPath != "":
		return path.Join(path.Dir(j.workerPath), WorkerWrapper)
	case j.needsBridgeWorker():
		return WorkerWrapper
	}
	return ""
}
