package instrument

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// facts are what the manifest says about the extension's pages.
type facts struct {
	actionKind string
	popup      string
	options    string
	sidePanel  string
}

// readFacts reads the pages the manifest names for the target browser.
// Values that are not strings, or not paths inside the extension, count as
// absent.
func (j *job) readFacts() facts {
	m := j.manifest
	var f facts
	keys := []string{"action"}
	if j.version == 2 {
		keys = []string{"browser_action", "page_action"}
	} else if j.browser == browserFirefox {
		keys = append(keys, "page_action") // Firefox has page_action in MV3 too
	}
	for _, k := range keys {
		if a := m.obj(k); a != nil {
			f.actionKind = k
			f.popup = pagePath(a.str("default_popup"))
			break
		}
	}
	if o := m.obj("options_ui"); o != nil {
		f.options = pagePath(o.str("page"))
	}
	if f.options == "" {
		f.options = pagePath(m.str("options_page"))
	}
	if j.browser == browserChrome {
		if o := m.obj("side_panel"); o != nil {
			f.sidePanel = pagePath(o.str("default_path"))
		}
	} else if o := m.obj("sidebar_action"); o != nil {
		f.sidePanel = pagePath(o.str("default_panel"))
	}
	return f
}

// pagePath cleans a page the manifest names, or returns "" if it is not a
// path inside the extension.
func pagePath(s string) string {
	p, err := cleanRef(s)
	if err != nil {
		return ""
	}
	return p
}

// namedPages returns the files of the pages the manifest names, without a
// query or fragment.
func (f facts) namedPages() map[string]bool {
	named := map[string]bool{}
	for _, p := range []string{f.popup, f.options, f.sidePanel} {
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		if p != "" {
			named[p] = true
		}
	}
	return named
}

// geckoIDAt returns <key>.gecko.id, or "".
func (j *job) geckoIDAt(key string) string {
	o := j.manifest.obj(key)
	if o == nil {
		return ""
	}
	g := o.obj("gecko")
	if g == nil {
		return ""
	}
	return g.str("id")
}

// geckoID returns the Firefox add-on id the manifest declares, or "".
func (j *job) geckoID() string {
	if id := j.geckoIDAt("browser_specific_settings"); id != "" {
		return id
	}
	return j.geckoIDAt("applications")
}

// setGeckoID sets browser_specific_settings.gecko.id.
func (j *job) setGeckoID(id string) {
	bss := j.manifest.obj("browser_specific_settings")
	if bss == nil {
		bss = newObject()
		j.manifest.set("browser_specific_settings", bss)
	}
	g := bss.obj("gecko")
	if g == nil {
		g = newObject()
		bss.set("gecko", g)
	}
	g.set("id", id)
}

var geckoIDJunk = regexp.MustCompile(`[^a-z0-9]+`)

// deriveGeckoID derives a Firefox add-on id from an extension name.
func deriveGeckoID(name string) string {
	slug := strings.Trim(geckoIDJunk.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if slug == "" {
		slug = "extension"
	}
	return slug + geckoIDSuffix
}

var msgRef = regexp.MustCompile(`^__MSG_(\w+)__$`)

// name returns the manifest name, resolving a "__MSG_x__" reference from the
// default locale when possible.
func (j *job) name() string {
	name := j.manifest.str("name")
	mm := msgRef.FindStringSubmatch(name)
	if mm == nil {
		return name
	}
	loc := j.manifest.str("default_locale")
	if loc == "" || strings.ContainsAny(loc, `/\`) || loc == ".." || loc == "." {
		return name
	}
	data, err := os.ReadFile(filepath.Join(j.src, "_locales", loc, "messages.json"))
	if err != nil {
		return name
	}
	data, err = stripComments(data)
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
func (j *job) backgroundKind() string {
	bg := j.manifest.obj("background")
	if bg == nil {
		return ""
	}
	if j.bridgeWorker && j.browser == browserChrome {
		if bg.str("type") == "module" {
			return "module_service_worker"
		}
		return "service_worker"
	}
	if j.addedBackground {
		return "scripts" // Firefox, or Manifest V2
	}
	worker := ""
	if j.workerPath != "" {
		worker = "service_worker"
		if j.workerModule {
			worker = "module_service_worker"
		}
	}
	scripts := ""
	if _, ok := bg.vals["scripts"]; ok {
		scripts = "scripts" // given, or made from the worker for Firefox
	}
	page := ""
	if j.backgroundPage() != "" {
		page = "page"
	}
	// Chromium prefers the worker; Firefox runs an event page from scripts
	// or page and uses the worker only when nothing else is there.
	order := []string{worker, scripts, page}
	if j.browser == browserFirefox {
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
func (j *job) chromiumID(dir string) (string, error) {
	var input []byte
	if s, ok := j.manifest.vals["key"].(string); ok {
		k, err := decodeKey(s)
		if err != nil {
			return "", manifestErrorf("key is not valid base64: %w", err)
		}
		input = k
	} else {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return "", fmt.Errorf("failed to resolve %s: %w", dir, err)
		}
		input = []byte(real)
	}
	return chromiumIDFrom(input), nil
}

// chromiumIDFrom maps the first 128 bits of sha256(input) to a-p.
func chromiumIDFrom(input []byte) string {
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
