package instrument

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
)

// rewrite adds the bridge to the copy in dst and updates j.manifest.
func (j *job) rewrite(dst string) error {
	// First, while the copy holds only the extension's own files: no
	// web_accessible_resources pattern may match a bridge file.
	warAdded, err := j.rewriteWebAccessible(dst)
	if err != nil {
		return err
	}

	// The bridge scripts.
	if err := os.Mkdir(filepath.Join(dst, BridgeDir), 0o755); err != nil {
		return fmt.Errorf("failed to create %s: %w", BridgeDir, err)
	}
	for _, f := range []struct{ realm, file string }{
		{"background", BackgroundJS},
		{"content", ContentJS},
		{"page", PageJS},
	} {
		if err := writeFile(filepath.Join(dst, filepath.FromSlash(f.file)), j.script(f.realm)); err != nil {
			return err
		}
	}

	if err := j.rewriteBackground(dst); err != nil {
		return err
	}
	if err := j.injectPages(dst); err != nil {
		return err
	}
	j.rewriteContentScripts()
	j.addPermissions()
	j.rewriteCSP()
	j.addGeckoID()
	j.added = append(j.added, warAdded...)

	// Defence in depth: whatever the rewriting above did, no pattern may
	// make a bridge file web-accessible.
	if c := webAccessibleConflict(j.manifest); c != "" {
		return fmt.Errorf("%s: the bridge holds a secret and must not be web-accessible", c)
	}
	return nil
}

// rewriteContentScripts puts the content bridge first in every
// isolated-world content script and adds the bridge's own content script.
func (j *job) rewriteContentScripts() {
	m := j.manifest
	var list []any
	if v, ok := m.get("content_scripts"); ok {
		list = v.([]any)
	}
	for i, e := range list {
		cs := e.(*object)
		v, ok := cs.get("js")
		if !ok {
			continue
		}
		if w, _ := cs.get("world"); w == "MAIN" {
			// The page can read the MAIN world: the bridge, which holds
			// the secret token, must never run there.
			continue
		}
		cs.set("js", append([]any{ContentJS}, v.([]any)...))
		j.added = append(j.added, fmt.Sprintf("content script %s before content_scripts[%d].js", ContentJS, i))
	}
	first := newObject()
	first.set("matches", []any{"<all_urls>"})
	first.set("js", []any{ContentJS})
	first.set("run_at", "document_start")
	first.set("all_frames", true)
	first.set("match_about_blank", true)
	m.set("content_scripts", append([]any{first}, list...))
	j.added = append(j.added, fmt.Sprintf("content script %s (<all_urls>, document_start, all frames, about:blank)", ContentJS))
}

// addPermissions adds the permissions and host permissions the bridge needs.
func (j *job) addPermissions() {
	want := []string{"tabs", "scripting", "webNavigation"}
	if j.browser == browserChrome {
		want = append(want, "debugger")
	}
	hostKey := "host_permissions"
	if j.version == 2 {
		want = append(want, "<all_urls>")
		hostKey = ""
	}
	for _, p := range want {
		if j.addToList("permissions", p) {
			j.added = append(j.added, fmt.Sprintf("permission %q", p))
		}
	}
	if hostKey != "" && j.addToList(hostKey, "<all_urls>") {
		j.added = append(j.added, fmt.Sprintf("host permission %q", "<all_urls>"))
	}
}

// addToList appends s to the string list at key unless it is there already.
func (j *job) addToList(key, s string) bool {
	var list []any
	if v, ok := j.manifest.get(key); ok {
		list = v.([]any)
	}
	if slices.Contains(list, any(s)) {
		return false
	}
	j.manifest.set(key, append(list, s))
	return true
}

// permissions returns the string entries of the copy's permissions.
func (j *job) permissions() []string {
	list, _ := j.manifest.vals["permissions"].([]any)
	out := []string{}
	for _, p := range list {
		if s, ok := p.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// addGeckoID gives the copy the Firefox add-on id Firefox reads.
func (j *job) addGeckoID() {
	if j.geckoID() == "" {
		id := deriveGeckoID(j.name())
		j.setGeckoID(id)
		j.added = append(j.added, fmt.Sprintf("gecko id %q", id))
	} else if j.version == 3 && j.geckoIDAt("browser_specific_settings") == "" {
		// Firefox reads only browser_specific_settings in MV3.
		id := j.geckoIDAt("applications")
		j.setGeckoID(id)
		j.added = append(j.added, fmt.Sprintf("gecko id %q (copied from applications.gecko.id)", id))
	}
}

// urlPath returns the root-relative URL of a file in the extension.
func urlPath(rel string) string {
	return (&url.URL{Path: "/" + rel}).EscapedPath()
}
