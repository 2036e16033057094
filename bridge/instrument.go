package bridge

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// instrumentOptions configures instrument.
type instrumentOptions struct {
	Browser string                    // "chromium" or "firefox"; "" means "chromium"
	Script  func(realm string) []byte // the bridge script for a realm: "background", "content", "page"
}

// instrumented describes an instrumented copy of an extension.
type instrumented struct {
	Dir             string         // the copy (dst)
	Manifest        map[string]any // the manifest as written to the copy; numbers are json.Number
	Added           []string       // human-readable list of what the instrumenter added, e.g. `permission "scripting"`
	Name            string         // manifest name, with "__MSG_x__" resolved from _locales/<default_locale>/messages.json when possible
	ManifestVersion int
	GeckoID         string // browser_specific_settings.gecko.id (or applications.gecko.id), added if missing
	ChromiumID      string // the id Chromium gives the copy when loaded unpacked from Dir
	BackgroundKind  string // "service_worker", "module_service_worker", "scripts", "page", or "" (none): what the target browser runs
}

// Names of the files the instrumenter adds to the copy.
const (
	instrBridgeDir      = "__extbridge"
	instrBackgroundJS   = "__extbridge/background.js"
	instrContentJS      = "__extbridge/content.js"
	instrPageJS         = "__extbridge/page.js"
	instrWorkerWrapper  = "__extbridge_sw.js"
	instrWebSocketSrc   = "ws://127.0.0.1:*"
	instrGeckoIDSuffix  = "@extbridge.invalid"
	instrBrowserChrome  = "chromium"
	instrBrowserFirefox = "firefox"
)

// instrumenter holds the state of one instrument call.
type instrumenter struct {
	src      string // absolute source folder
	srcReal  string // src with symlinks resolved
	browser  string
	manifest *instrObject
	version  int
	added    []string

	workerPath      string // cleaned relative path of background.service_worker, "" if none
	addedBackground bool   // the extension had no background; the copy has a bridge-only one
	workerModule    bool
	pagePath        string // cleaned relative path of background.page, "" if none
}

// instrument copies the unpacked extension in src to dst and adds the bridge
// scripts so that they run before any extension code in every realm. src is
// never written. dst must not exist or be an empty folder.
func instrument(src, dst string, opts instrumentOptions) (*instrumented, error) {
	res, err := instrumentTree(src, dst, opts)
	if err != nil {
		return nil, fmt.Errorf("failed to instrument %s: %w", src, err)
	}
	return res, nil
}

func instrumentTree(src, dst string, opts instrumentOptions) (_ *instrumented, err error) {
	browser := opts.Browser
	if browser == "" {
		browser = instrBrowserChrome
	}
	if browser != instrBrowserChrome && browser != instrBrowserFirefox {
		return nil, fmt.Errorf("unknown browser %q (want %q or %q)", opts.Browser, instrBrowserChrome, instrBrowserFirefox)
	}
	if opts.Script == nil {
		return nil, errors.New("no bridge script (instrumentOptions.Script is nil)")
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
	in := &instrumenter{src: absSrc, srcReal: srcReal, browser: browser}

	// Validate everything before touching dst.
	if err := in.readManifest(); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(filepath.Join(absSrc, instrBridgeDir)); err == nil {
		return nil, fmt.Errorf("the extension already contains %s/; it is reserved for the bridge (is it already instrumented?)", instrBridgeDir)
	}
	if in.workerPath != "" {
		w := path.Join(path.Dir(in.workerPath), instrWorkerWrapper)
		if _, err := os.Lstat(filepath.Join(absSrc, filepath.FromSlash(w))); err == nil {
			return nil, fmt.Errorf("the extension already contains %s; the name is reserved for the bridge (is it already instrumented?)", w)
		}
	}

	absDst, err := filepath.Abs(dst)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve destination folder: %w", err)
	}
	for _, s := range []string{absSrc, srcReal} {
		if instrWithin(s, absDst) {
			return nil, fmt.Errorf("destination %s is inside the extension folder", dst)
		}
	}
	created, err := instrPrepareDst(absDst)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && created {
			os.RemoveAll(absDst)
		}
	}()

	if err := instrCopyTree(srcReal, absDst); err != nil {
		return nil, err
	}
	if err := in.rewrite(absDst, opts.Script); err != nil {
		return nil, err
	}

	res := &instrumented{
		Dir:             absDst,
		Added:           in.added,
		Name:            in.name(),
		ManifestVersion: in.version,
		GeckoID:         in.geckoID(),
		BackgroundKind:  in.backgroundKind(),
	}
	if res.ChromiumID, err = in.chromiumID(absDst); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	instrWriteJSON(&buf, in.manifest, "")
	buf.WriteByte('\n')
	if err := instrWriteFile(filepath.Join(absDst, "manifest.json"), buf.Bytes()); err != nil {
		return nil, err
	}
	res.Manifest = instrPlain(in.manifest).(map[string]any)
	return res, nil
}

// instrManifestErrorf returns an error about manifest.json.
func instrManifestErrorf(format string, args ...any) error {
	return fmt.Errorf("manifest.json: "+format, args...)
}

// readManifest reads, parses and type-checks the top level of manifest.json.
func (in *instrumenter) readManifest() error {
	// A FIFO or a device (say, a link to /dev/zero) would block or never end.
	if st, err := os.Stat(filepath.Join(in.src, "manifest.json")); err == nil && !st.Mode().IsRegular() {
		return instrManifestErrorf("is not a regular file (%s)", st.Mode().Type())
	}
	data, err := os.ReadFile(filepath.Join(in.src, "manifest.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return instrManifestErrorf("not found in %s", in.src)
	}
	if err != nil {
		return fmt.Errorf("failed to read manifest.json: %w", err)
	}
	v, err := instrParseJSON(data)
	if err != nil {
		return instrManifestErrorf("%w", err)
	}
	obj, ok := v.(*instrObject)
	if !ok {
		return instrManifestErrorf("must be a JSON object, got %s", instrKind(v))
	}
	in.manifest = obj
	return nil
}

// validate checks the manifest and the files it references.
func (in *instrumenter) validate() error {
	m := in.manifest
	mv, ok := m.get("manifest_version")
	if !ok {
		return instrManifestErrorf("manifest_version is missing (want 2 or 3)")
	}
	n, _ := mv.(json.Number)
	f, err := n.Float64()
	if err != nil || (f != 2 && f != 3) {
		return instrManifestErrorf("manifest_version must be 2 or 3, got %s", instrShow(mv))
	}
	in.version = int(f)
	if in.version == 2 && in.browser == instrBrowserChrome {
		return instrManifestErrorf("manifest_version 2 is not supported by Chromium 139 and later; use manifest_version 3")
	}
	for _, k := range []string{"name", "version"} {
		v, ok := m.get(k)
		if !ok {
			return instrManifestErrorf("%s is missing", k)
		}
		if _, ok := v.(string); !ok {
			return instrManifestErrorf("%s must be a string, got %s", k, instrShow(v))
		}
	}

	if bgv, ok := m.get("background"); ok {
		bg, ok := bgv.(*instrObject)
		if !ok {
			return instrManifestErrorf("background must be an object, got %s", instrShow(bgv))
		}
		if v, ok := bg.get("service_worker"); ok {
			p, err := in.checkRef("background.service_worker", v)
			if err != nil {
				return err
			}
			in.workerPath = p
			if t, ok := bg.get("type"); ok {
				switch t {
				case "module":
					in.workerModule = true
				case "classic":
				default:
					return instrManifestErrorf("background.type must be \"classic\" or \"module\", got %s", instrShow(t))
				}
			}
		}
		if v, ok := bg.get("scripts"); ok {
			if err := in.checkRefList("background.scripts", v); err != nil {
				return err
			}
		}
		if v, ok := bg.get("page"); ok {
			p, err := in.checkRef("background.page", v)
			if err != nil {
				return err
			}
			in.pagePath = p
		}
	}

	if csv, ok := m.get("content_scripts"); ok {
		list, ok := csv.([]any)
		if !ok {
			return instrManifestErrorf("content_scripts must be an array, got %s", instrShow(csv))
		}
		for i, e := range list {
			cs, ok := e.(*instrObject)
			if !ok {
				return instrManifestErrorf("content_scripts[%d] must be an object, got %s", i, instrShow(e))
			}
			for _, k := range []string{"js", "css"} {
				if v, ok := cs.get(k); ok {
					if err := in.checkRefList(fmt.Sprintf("content_scripts[%d].%s", i, k), v); err != nil {
						return err
					}
				}
			}
		}
	}

	for _, k := range []string{"permissions", "host_permissions"} {
		if v, ok := m.get(k); ok {
			if _, ok := v.([]any); !ok {
				return instrManifestErrorf("%s must be an array, got %s", k, instrShow(v))
			}
		}
	}

	if v, ok := m.get("content_security_policy"); ok {
		switch v := v.(type) {
		case string:
		case *instrObject:
			for _, k := range v.keys {
				if _, ok := v.vals[k].(string); !ok {
					return instrManifestErrorf("content_security_policy.%s must be a string, got %s", k, instrShow(v.vals[k]))
				}
			}
		default:
			return instrManifestErrorf("content_security_policy must be a string or an object, got %s", instrShow(v))
		}
	}

	for _, k := range []string{"browser_specific_settings", "applications"} {
		v, ok := m.get(k)
		if !ok {
			continue
		}
		o, ok := v.(*instrObject)
		if !ok {
			return instrManifestErrorf("%s must be an object, got %s", k, instrShow(v))
		}
		g, ok := o.get("gecko")
		if !ok {
			continue
		}
		gecko, ok := g.(*instrObject)
		if !ok {
			return instrManifestErrorf("%s.gecko must be an object, got %s", k, instrShow(g))
		}
		if id, ok := gecko.get("id"); ok {
			if _, ok := id.(string); !ok {
				return instrManifestErrorf("%s.gecko.id must be a string, got %s", k, instrShow(id))
			}
		}
	}

	if v, ok := m.get("key"); ok {
		s, ok := v.(string)
		if !ok {
			return instrManifestErrorf("key must be a string, got %s", instrShow(v))
		}
		if _, err := instrDecodeKey(s); err != nil {
			return instrManifestErrorf("key is not valid base64: %w", err)
		}
	}
	return nil
}

// checkRefList checks a manifest array of file references.
func (in *instrumenter) checkRefList(key string, v any) error {
	list, ok := v.([]any)
	if !ok {
		return instrManifestErrorf("%s must be an array of strings, got %s", key, instrShow(v))
	}
	for i, e := range list {
		if _, err := in.checkRef(fmt.Sprintf("%s[%d]", key, i), e); err != nil {
			return err
		}
	}
	return nil
}

// checkRef checks that a manifest file reference names a file inside the
// extension and returns its cleaned slash-separated path relative to the root.
func (in *instrumenter) checkRef(key string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", instrManifestErrorf("%s must be a string, got %s", key, instrShow(v))
	}
	p, err := instrCleanRef(s)
	if err != nil {
		return "", instrManifestErrorf("%s: %q %w", key, s, err)
	}
	st, err := os.Stat(filepath.Join(in.src, filepath.FromSlash(p)))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", instrManifestErrorf("%s: %q does not exist", key, s)
	case err != nil:
		return "", instrManifestErrorf("%s: %q: %w", key, s, err)
	case st.IsDir():
		return "", instrManifestErrorf("%s: %q is a folder, not a file", key, s)
	}
	return p, nil
}

// instrCleanRef turns a manifest file reference into a clean path relative to
// the extension root. A leading "/" means the root.
func instrCleanRef(s string) (string, error) {
	if s == "" {
		return "", errors.New("is empty")
	}
	if strings.ContainsRune(s, 0) || strings.Contains(s, "\\") {
		return "", errors.New("is not a valid path")
	}
	p := path.Clean(strings.TrimLeft(s, "/"))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", errors.New("escapes the extension folder")
	}
	if p == "." {
		return "", errors.New("is not a file")
	}
	return p, nil
}

// rewrite adds the bridge to the copy in dst and updates in.manifest.
func (in *instrumenter) rewrite(dst string, script func(string) []byte) error {
	m := in.manifest

	// The bridge scripts.
	if err := os.Mkdir(filepath.Join(dst, instrBridgeDir), 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w", instrBridgeDir, err)
	}
	for _, f := range []struct{ realm, file string }{
		{"background", instrBackgroundJS},
		{"content", instrContentJS},
		{"page", instrPageJS},
	} {
		if err := instrWriteFile(filepath.Join(dst, filepath.FromSlash(f.file)), script(f.realm)); err != nil {
			return err
		}
	}

	// An extension without a background gets one that holds only the
	// bridge: Go needs a background realm to map tabs, reach content
	// scripts and listen. It adds no listener, so a connection to the
	// background still fails as it would without one, unless Go listens.
	if _, ok := m.get("background"); !ok {
		bg := newInstrObject()
		if in.version == 3 {
			body := "importScripts(" + instrJSString(instrURLPath(instrBackgroundJS)) + ");\n"
			if err := instrWriteFile(filepath.Join(dst, instrWorkerWrapper), []byte(body)); err != nil {
				return err
			}
			bg.set("service_worker", instrWorkerWrapper)
		}
		bg.set("scripts", []any{instrBackgroundJS})
		m.set("background", bg)
		in.addedBackground = true
		in.added = append(in.added, "a background that runs only the bridge (the extension has none)")
	}

	// Background.
	if bgv, ok := m.get("background"); ok && !in.addedBackground {
		bg := bgv.(*instrObject)
		if in.workerPath != "" {
			wrapper := path.Join(path.Dir(in.workerPath), instrWorkerWrapper)
			var body string
			if in.workerModule {
				body = "import " + instrJSString(instrURLPath(instrBackgroundJS)) + ";\n" +
					"import " + instrJSString(instrURLPath(in.workerPath)) + ";\n"
			} else {
				body = "importScripts(" + instrJSString(instrURLPath(instrBackgroundJS)) + ", " +
					instrJSString(instrURLPath(in.workerPath)) + ");\n"
			}
			if err := instrWriteFile(filepath.Join(dst, filepath.FromSlash(wrapper)), []byte(body)); err != nil {
				return err
			}
			bg.set("service_worker", wrapper)
			in.added = append(in.added, fmt.Sprintf("service worker wrapper %s (loads %s, then %s)", wrapper, instrBackgroundJS, in.workerPath))
		}
		_, hasScripts := bg.get("scripts")
		_, hasPage := bg.get("page")
		if in.browser == instrBrowserFirefox && in.workerPath != "" && !hasScripts && !hasPage {
			// Firefox refuses a manifest whose only background is a service
			// worker; it runs the same file as an event page.
			bg.set("scripts", []any{in.workerPath})
			if in.workerModule {
				bg.set("type", "module")
			}
			in.added = append(in.added, fmt.Sprintf("background.scripts [%q] from background.service_worker (Firefox runs no extension service workers)", in.workerPath))
		}
		if v, ok := bg.get("scripts"); ok {
			bg.set("scripts", append([]any{instrBackgroundJS}, v.([]any)...))
			in.added = append(in.added, "background script "+instrBackgroundJS)
		}
	}

	// HTML pages: the background page gets the background bridge, every
	// other page the page bridge.
	if err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dst, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == instrBridgeDir {
				return fs.SkipDir
			}
			return nil
		}
		ext := strings.ToLower(path.Ext(rel))
		isPage := rel == in.pagePath
		if !isPage && ext != ".html" && ext != ".htm" {
			return nil
		}
		js := instrPageJS
		if isPage {
			js = instrBackgroundJS
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", rel, err)
		}
		if err := instrWriteFile(p, instrInjectScript(data, "/"+js)); err != nil {
			return err
		}
		in.added = append(in.added, fmt.Sprintf("script %s in %s", js, rel))
		return nil
	}); err != nil {
		return fmt.Errorf("failed to instrument HTML pages: %w", err)
	}

	// Content scripts.
	var list []any
	if v, ok := m.get("content_scripts"); ok {
		list = v.([]any)
	}
	for i, e := range list {
		cs := e.(*instrObject)
		v, ok := cs.get("js")
		if !ok {
			continue
		}
		if w, _ := cs.get("world"); w == "MAIN" {
			// The page can read the MAIN world: the bridge, which holds
			// the secret token, must never run there.
			continue
		}
		cs.set("js", append([]any{instrContentJS}, v.([]any)...))
		in.added = append(in.added, fmt.Sprintf("content script %s before content_scripts[%d].js", instrContentJS, i))
	}
	first := newInstrObject()
	first.set("matches", []any{"<all_urls>"})
	first.set("js", []any{instrContentJS})
	first.set("run_at", "document_start")
	first.set("all_frames", true)
	first.set("match_about_blank", true)
	m.set("content_scripts", append([]any{first}, list...))
	in.added = append(in.added, fmt.Sprintf("content script %s (<all_urls>, document_start, all frames, about:blank)", instrContentJS))

	// Permissions.
	want := []string{"tabs", "scripting", "webNavigation"}
	if in.browser == instrBrowserChrome {
		want = append(want, "debugger")
	}
	hostKey := "host_permissions"
	if in.version == 2 {
		want = append(want, "<all_urls>")
		hostKey = ""
	}
	for _, p := range want {
		if in.addToList("permissions", p) {
			in.added = append(in.added, fmt.Sprintf("permission %q", p))
		}
	}
	if hostKey != "" && in.addToList(hostKey, "<all_urls>") {
		in.added = append(in.added, fmt.Sprintf("host permission %q", "<all_urls>"))
	}

	// Content security policy.
	if v, ok := m.get("content_security_policy"); ok {
		switch v := v.(type) {
		case string:
			if p, ok := instrAllowWebSocket(v); ok {
				m.set("content_security_policy", p)
				in.added = append(in.added, fmt.Sprintf("connect-src %s in content_security_policy", instrWebSocketSrc))
			}
		case *instrObject:
			for _, k := range v.keys {
				if p, ok := instrAllowWebSocket(v.vals[k].(string)); ok {
					v.set(k, p)
					in.added = append(in.added, fmt.Sprintf("connect-src %s in content_security_policy.%s", instrWebSocketSrc, k))
				}
			}
		}
	}

	// Firefox's default MV3 policy for extension pages has
	// upgrade-insecure-requests, which turns the bridge's ws://127.0.0.1 into
	// wss:// and breaks it. Give extension pages a policy without it.
	if in.browser == instrBrowserFirefox && in.version == 3 {
		const def = "script-src 'self'"
		switch v, _ := m.get("content_security_policy"); v := v.(type) {
		case nil:
			csp := newInstrObject()
			csp.set("extension_pages", def)
			m.set("content_security_policy", csp)
			in.added = append(in.added, fmt.Sprintf("content_security_policy.extension_pages %q (Firefox's default upgrades ws:// to wss://)", def))
		case *instrObject:
			if p, ok := v.vals["extension_pages"].(string); ok {
				if q := instrDropDirective(p, "upgrade-insecure-requests"); q != p {
					v.set("extension_pages", q)
					in.added = append(in.added, "removed upgrade-insecure-requests from content_security_policy.extension_pages")
				}
			} else {
				v.set("extension_pages", def)
				in.added = append(in.added, fmt.Sprintf("content_security_policy.extension_pages %q (Firefox's default upgrades ws:// to wss://)", def))
			}
		}
	}

	// Firefox add-on id.
	if in.geckoID() == "" {
		id := instrDeriveGeckoID(in.name())
		in.setGeckoID(id)
		in.added = append(in.added, fmt.Sprintf("gecko id %q", id))
	} else if in.version == 3 && in.geckoIDAt("browser_specific_settings") == "" {
		// Firefox reads only browser_specific_settings in MV3.
		id := in.geckoIDAt("applications")
		in.setGeckoID(id)
		in.added = append(in.added, fmt.Sprintf("gecko id %q (copied from applications.gecko.id)", id))
	}
	return nil
}

// addToList appends s to the string list at key unless it is there already.
func (in *instrumenter) addToList(key, s string) bool {
	var list []any
	if v, ok := in.manifest.get(key); ok {
		list = v.([]any)
	}
	if slices.Contains(list, any(s)) {
		return false
	}
	in.manifest.set(key, append(list, s))
	return true
}

// geckoIDAt returns <key>.gecko.id, or "".
func (in *instrumenter) geckoIDAt(key string) string {
	o, _ := in.manifest.vals[key].(*instrObject)
	if o == nil {
		return ""
	}
	g, _ := o.vals["gecko"].(*instrObject)
	if g == nil {
		return ""
	}
	id, _ := g.vals["id"].(string)
	return id
}

// geckoID returns the Firefox add-on id the manifest declares, or "".
func (in *instrumenter) geckoID() string {
	if id := in.geckoIDAt("browser_specific_settings"); id != "" {
		return id
	}
	return in.geckoIDAt("applications")
}

// setGeckoID sets browser_specific_settings.gecko.id.
func (in *instrumenter) setGeckoID(id string) {
	bss, _ := in.manifest.vals["browser_specific_settings"].(*instrObject)
	if bss == nil {
		bss = newInstrObject()
		in.manifest.set("browser_specific_settings", bss)
	}
	g, _ := bss.vals["gecko"].(*instrObject)
	if g == nil {
		g = newInstrObject()
		bss.set("gecko", g)
	}
	g.set("id", id)
}

var instrGeckoIDJunk = regexp.MustCompile(`[^a-z0-9]+`)

// instrDeriveGeckoID derives a Firefox add-on id from an extension name.
func instrDeriveGeckoID(name string) string {
	slug := strings.Trim(instrGeckoIDJunk.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if slug == "" {
		slug = "extension"
	}
	return slug + instrGeckoIDSuffix
}

var instrMsgRef = regexp.MustCompile(`^__MSG_(\w+)__$`)

// name returns the manifest name, resolving a "__MSG_x__" reference from the
// default locale when possible.
func (in *instrumenter) name() string {
	name, _ := in.manifest.vals["name"].(string)
	mm := instrMsgRef.FindStringSubmatch(name)
	if mm == nil {
		return name
	}
	loc, _ := in.manifest.vals["default_locale"].(string)
	if loc == "" || strings.ContainsAny(loc, `/\`) || loc == ".." || loc == "." {
		return name
	}
	data, err := os.ReadFile(filepath.Join(in.src, "_locales", loc, "messages.json"))
	if err != nil {
		return name
	}
	data, err = instrStripComments(data)
	if err != nil {
		return name
	}
	var msgs map[string]struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &msgs) != nil {
		return name
	}
	for k, v := range msgs { // message names are case-insensitive
		if strings.EqualFold(k, mm[1]) && v.Message != "" {
			return v.Message
		}
	}
	return name
}

// backgroundKind returns which background the target browser runs.
func (in *instrumenter) backgroundKind() string {
	bg, _ := in.manifest.vals["background"].(*instrObject)
	if bg == nil {
		return ""
	}
	if in.addedBackground {
		if in.browser == instrBrowserFirefox || in.version == 2 {
			return "scripts"
		}
		return "service_worker"
	}
	worker := ""
	if in.workerPath != "" {
		worker = "service_worker"
		if in.workerModule {
			worker = "module_service_worker"
		}
	}
	scripts := ""
	if _, ok := bg.vals["scripts"]; ok || (in.browser == instrBrowserFirefox && in.workerPath != "" && in.pagePath == "") {
		scripts = "scripts" // given, or made from the worker for Firefox
	}
	page := ""
	if in.pagePath != "" {
		page = "page"
	}
	// Chromium prefers the worker; Firefox runs an event page from scripts
	// or page and uses the worker only when nothing else is there.
	order := []string{worker, scripts, page}
	if in.browser == instrBrowserFirefox {
		order = []string{scripts, page, worker}
	}
	for _, k := range order {
		if k != "" {
			return k
		}
	}
	return ""
}

// chromiumID computes the id Chromium assigns to the copy: the sha256 of the
// manifest key if there is one, else of the folder's absolute real path;
// first 32 hex digits, 0-f mapped to a-p.
func (in *instrumenter) chromiumID(dir string) (string, error) {
	var input []byte
	if s, ok := in.manifest.vals["key"].(string); ok {
		k, err := instrDecodeKey(s)
		if err != nil {
			return "", instrManifestErrorf("key is not valid base64: %w", err)
		}
		input = k
	} else {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return "", fmt.Errorf("failed to resolve %s: %w", dir, err)
		}
		input = []byte(real)
	}
	return instrChromiumIDFrom(input), nil
}

// instrChromiumIDFrom maps the first 128 bits of sha256(input) to a-p.
func instrChromiumIDFrom(input []byte) string {
	sum := sha256.Sum256(input)
	h := []byte(hex.EncodeToString(sum[:16]))
	for i, c := range h {
		if c <= '9' {
			h[i] = 'a' + (c - '0')
		} else {
			h[i] = 'a' + 10 + (c - 'a')
		}
	}
	return string(h)
}

// instrDecodeKey decodes a manifest "key" (base64 of a DER public key).
func instrDecodeKey(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	return base64.StdEncoding.DecodeString(s)
}

// webAccessibleConflict returns a description of the first
// web_accessible_resources pattern that would expose a bridge script (which
// holds the secret token), or "" if there is none. The description names the
// file and the pattern, e.g.
// `manifest.json: web_accessible_resources[0].resources[1]: "*.js" makes __extbridge/content.js web-accessible`.
func (in *instrumented) webAccessibleConflict() string {
	list, _ := in.Manifest["web_accessible_resources"].([]any)
	check := func(key string, pat any) string {
		s, ok := pat.(string)
		if !ok {
			return ""
		}
		p := strings.TrimLeft(s, "/")
		for _, f := range []string{instrContentJS, instrBackgroundJS, instrPageJS} {
			if instrGlobMatch(p, f) {
				return fmt.Sprintf("manifest.json: %s: %q makes %s web-accessible", key, s, f)
			}
		}
		return ""
	}
	for i, e := range list {
		switch e := e.(type) {
		case string: // MV2
			if d := check(fmt.Sprintf("web_accessible_resources[%d]", i), e); d != "" {
				return d
			}
		case map[string]any: // MV3
			res, _ := e["resources"].([]any)
			for j, r := range res {
				if d := check(fmt.Sprintf("web_accessible_resources[%d].resources[%d]", i, j), r); d != "" {
					return d
				}
			}
		}
	}
	return ""
}

// instrGlobMatch reports whether name matches pattern, where "*" matches any
// run of characters (including "/") and "?" any one character.
func instrGlobMatch(pattern, name string) bool {
	// Iterative wildcard matching with backtracking to the last "*".
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// instrAllowWebSocket lets a content security policy connect to the bridge's
// loopback WebSocket. It reports whether the policy changed.
func instrAllowWebSocket(policy string) (string, bool) {
	parts := strings.Split(policy, ";")
	defaultSrc := -1
	for i, d := range parts {
		f := strings.Fields(d)
		if len(f) == 0 {
			continue
		}
		switch strings.ToLower(f[0]) {
		case "connect-src":
			srcs := f[1:]
			if slices.Contains(srcs, instrWebSocketSrc) {
				return policy, false
			}
			lead := d[:len(d)-len(strings.TrimLeft(d, instrCSPSpace))]
			trail := d[len(strings.TrimRight(d, instrCSPSpace)):]
			parts[i] = lead + strings.Join(append(append([]string{f[0]}, instrDropNone(srcs)...), instrWebSocketSrc), " ") + trail
			return strings.Join(parts, ";"), true
		case "default-src":
			if defaultSrc < 0 {
				defaultSrc = i
			}
		}
	}
	if defaultSrc < 0 {
		return policy, false
	}
	srcs := instrDropNone(strings.Fields(parts[defaultSrc])[1:])
	directive := strings.Join(append(append([]string{"connect-src"}, srcs...), instrWebSocketSrc), " ")
	base := strings.TrimRight(policy, instrCSPSpace+";")
	if base == "" {
		return directive, true
	}
	return base + "; " + directive, true
}

// instrCSPSpace is the ASCII whitespace that separates CSP tokens.
const instrCSPSpace = " \t\n\f\r"

// instrDropNone removes 'none', which is only meaningful alone.
func instrDropNone(srcs []string) []string {
	var out []string
	for _, s := range srcs {
		if !strings.EqualFold(s, "'none'") {
			out = append(out, s)
		}
	}
	return out
}

// instrInjectScript inserts <script src="src"></script> into an HTML document
// so that it is the document's first script: right after the <head> start tag
// if there is one before any other element, else right after <html>, else
// after the doctype (never before it: that would switch on quirks mode), else
// at the very start.
func instrInjectScript(doc []byte, src string) []byte {
	tag := `<script src="` + src + `"></script>`
	at := instrInjectionPoint(doc)
	out := make([]byte, 0, len(doc)+len(tag))
	out = append(out, doc[:at]...)
	out = append(out, tag...)
	return append(out, doc[at:]...)
}

func instrInjectionPoint(doc []byte) int {
	s := string(doc)
	start := 0
	if strings.HasPrefix(s, "\xef\xbb\xbf") {
		start = 3
	}
	fallback, htmlEnd := start, -1
	i := start
	for {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		j += i
		rest := s[j:]
		if strings.HasPrefix(rest, "<!--") {
			k := strings.Index(rest[4:], "-->")
			if k < 0 {
				break
			}
			i = j + 4 + k + 3
			continue
		}
		if strings.HasPrefix(rest, "<!") || strings.HasPrefix(rest, "<?") {
			k := strings.IndexByte(rest, '>')
			if k < 0 {
				break
			}
			i = j + k + 1
			if len(rest) >= 9 && strings.EqualFold(rest[:9], "<!doctype") && htmlEnd < 0 {
				fallback = i
			}
			continue
		}
		n := 1
		for n < len(rest) && (instrIsAlnum(rest[n]) || rest[n] == '-') {
			n++
		}
		name := strings.ToLower(rest[1:n])
		if name != "html" && name != "head" {
			break // any other element (or text, or an end tag) starts the content
		}
		end := instrTagEnd(rest)
		if end < 0 {
			break
		}
		if name == "head" {
			return j + end
		}
		if htmlEnd < 0 {
			htmlEnd = j + end
		}
		i = j + end
	}
	if htmlEnd >= 0 {
		return htmlEnd
	}
	return fallback
}

func instrIsAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// instrTagEnd returns the index just after the ">" that ends the start tag
// at the beginning of s, skipping quoted attribute values, or -1.
func instrTagEnd(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '>':
			return i + 1
		case '=':
			k := i + 1
			for k < len(s) && strings.IndexByte(" \t\n\f\r", s[k]) >= 0 {
				k++
			}
			if k < len(s) && (s[k] == '"' || s[k] == '\'') {
				q := strings.IndexByte(s[k+1:], s[k])
				if q < 0 {
					return -1
				}
				i = k + 1 + q
			}
		}
	}
	return -1
}

// instrURLPath returns the root-relative URL of a file in the extension.
func instrURLPath(rel string) string {
	return (&url.URL{Path: "/" + rel}).EscapedPath()
}

// instrJSString quotes s as a JavaScript string literal.
func instrJSString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// instrWithin reports whether p is root or inside it.
func instrWithin(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// instrPrepareDst makes sure dst is an empty folder, and reports whether it
// created it.
func instrPrepareDst(dst string) (bool, error) {
	entries, err := os.ReadDir(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return false, fmt.Errorf("failed to create %s: %w", dst, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("failed to read destination: %w", err)
	case len(entries) > 0:
		return false, fmt.Errorf("destination %s is not empty", dst)
	}
	return false, nil
}

// instrCopyTree copies the folder src (a real path) into the existing folder
// dst, skipping .git. Symlinks are followed if they stay inside src.
func instrCopyTree(src, dst string) error {
	return instrCopyDir(src, src, dst, "", map[string]bool{src: true})
}

func instrCopyDir(root, dir, dst, rel string, active map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("failed to read folder %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if name == ".git" {
			continue
		}
		from, to, r := filepath.Join(dir, name), filepath.Join(dst, name), path.Join(rel, name)
		info, err := os.Lstat(from)
		if err != nil {
			return fmt.Errorf("failed to copy %s: %w", r, err)
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(from)
			if err != nil {
				return fmt.Errorf("failed to copy %s: broken symlink: %w", r, err)
			}
			if !instrWithin(root, target) {
				return fmt.Errorf("failed to copy %s: symlink points outside the extension folder, to %s", r, target)
			}
			from = target
			if info, err = os.Stat(target); err != nil {
				return fmt.Errorf("failed to copy %s: %w", r, err)
			}
		}
		switch {
		case info.IsDir():
			if active[from] {
				return fmt.Errorf("failed to copy %s: symlink loop", r)
			}
			if err := os.Mkdir(to, info.Mode().Perm()|0o700); err != nil {
				return fmt.Errorf("failed to copy %s: %w", r, err)
			}
			active[from] = true
			err := instrCopyDir(root, from, to, r, active)
			delete(active, from)
			if err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := instrCopyFile(from, to, info.Mode().Perm()); err != nil {
				return fmt.Errorf("failed to copy %s: %w", r, err)
			}
		default:
			return fmt.Errorf("failed to copy %s: not a regular file (%s)", r, info.Mode().Type())
		}
	}
	return nil
}

func instrCopyFile(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(to, perm) // exact mode, regardless of umask
}

// instrWriteFile writes a file in the copy, keeping the mode of an existing
// file (even a read-only one).
func instrWriteFile(name string, data []byte) error {
	perm := fs.FileMode(0o644)
	if st, err := os.Stat(name); err == nil {
		perm = st.Mode().Perm()
		if err := os.Chmod(name, perm|0o200); err != nil {
			return fmt.Errorf("failed to write %s: %w", name, err)
		}
	}
	if err := os.WriteFile(name, data, perm|0o200); err != nil {
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	if err := os.Chmod(name, perm); err != nil {
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	return nil
}

// instrObject is a JSON object that remembers the order of its keys, so
// that the rewritten manifest reads like the original.
type instrObject struct {
	keys []string
	vals map[string]any
}

func newInstrObject() *instrObject {
	return &instrObject{vals: map[string]any{}}
}

func (o *instrObject) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// set replaces the value of k, or adds k at the end.
func (o *instrObject) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// instrParseJSON parses JSON with // and /* */ comments into
// *instrObject, []any, string, json.Number, bool and nil values.
// Syntax errors carry the line and column.
func instrParseJSON(data []byte) (any, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	clean, err := instrStripComments(data)
	if err != nil {
		return nil, err
	}
	var check any
	if err := json.Unmarshal(clean, &check); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off := se.Offset
			if off >= int64(len(clean)) {
				off = int64(len(clean)) + 1 // unexpected end: point just past the last byte
			}
			line, col := instrLineCol(clean, off)
			return nil, fmt.Errorf("invalid JSON at line %d, column %d: %w", line, col, err)
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.UseNumber()
	return instrReadValue(dec)
}

func instrReadValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch tok {
	case json.Delim('{'):
		o := newInstrObject()
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			k, _ := kt.(string)
			v, err := instrReadValue(dec)
			if err != nil {
				return nil, err
			}
			o.set(k, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		return o, nil
	case json.Delim('['):
		a := []any{}
		for dec.More() {
			v, err := instrReadValue(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		return a, nil
	}
	return tok, nil
}

// instrLineCol converts a json.SyntaxError offset (bytes read when the error
// was found) into a 1-based line and column (in bytes) of the offending byte.
func instrLineCol(data []byte, offset int64) (line, col int) {
	pos := int(offset) - 1
	if pos < 0 {
		pos = 0
	}
	if pos > len(data) {
		pos = len(data)
	}
	before := data[:pos]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = pos - bytes.LastIndexByte(before, '\n')
	return line, col
}

// instrStripComments replaces // and /* */ comments outside strings with
// spaces (keeping newlines), so offsets and line numbers stay the same.
func instrStripComments(data []byte) ([]byte, error) {
	out := bytes.Clone(data)
	inString := false
	for i := 0; i < len(out); i++ {
		c := out[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for ; i < len(out) && out[i] != '\n'; i++ {
				out[i] = ' '
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			end := bytes.Index(out[i+2:], []byte("*/"))
			if end < 0 {
				line, col := instrLineCol(out, int64(i+1))
				return nil, fmt.Errorf("invalid JSON at line %d, column %d: unterminated /* comment", line, col)
			}
			stop := i + 2 + end + 2
			for ; i < stop; i++ {
				if out[i] != '\n' && out[i] != '\r' {
					out[i] = ' '
				}
			}
			i--
		}
	}
	return out, nil
}

// instrWriteJSON writes v as JSON indented by two spaces, keeping key order
// and without HTML escaping.
func instrWriteJSON(b *bytes.Buffer, v any, indent string) {
	switch v := v.(type) {
	case *instrObject:
		if len(v.keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, k := range v.keys {
			b.WriteString(indent + "  ")
			b.WriteString(instrJSString(k))
			b.WriteString(": ")
			instrWriteJSON(b, v.vals[k], indent+"  ")
			if i < len(v.keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range v {
			b.WriteString(indent + "  ")
			instrWriteJSON(b, e, indent+"  ")
			if i < len(v)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case string:
		b.WriteString(instrJSString(v))
	case json.Number:
		b.WriteString(v.String())
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case nil:
		b.WriteString("null")
	default: // not produced by instrParseJSON; encode it plainly
		data, err := json.Marshal(v)
		if err != nil {
			data = []byte("null")
		}
		b.Write(data)
	}
}

// instrPlain converts parsed values to map[string]any and []any.
func instrPlain(v any) any {
	switch v := v.(type) {
	case *instrObject:
		m := make(map[string]any, len(v.keys))
		for _, k := range v.keys {
			m[k] = instrPlain(v.vals[k])
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, e := range v {
			a[i] = instrPlain(e)
		}
		return a
	}
	return v
}

// instrKind names the JSON type of a parsed value.
func instrKind(v any) string {
	switch v.(type) {
	case *instrObject:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// instrShow describes a parsed value for an error message.
func instrShow(v any) string {
	switch v := v.(type) {
	case string:
		return instrJSString(v)
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	}
	return instrKind(v)
}

// instrDropDirective removes every directive with this name from a policy.
func instrDropDirective(policy, name string) string {
	parts := strings.Split(policy, ";")
	out := parts[:0]
	for _, d := range parts {
		f := strings.Fields(d)
		if len(f) > 0 && strings.EqualFold(f[0], name) {
			continue
		}
		out = append(out, d)
	}
	return strings.Join(out, ";")
}
