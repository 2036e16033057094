//go:build extbridge_stub

package bridge

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
)

type instrumentOptions struct {
	Browser string
	Script  func(realm string) []byte
}

type instrumented struct {
	Dir             string
	Manifest        map[string]any
	Added           []string
	Name            string
	ManifestVersion int
	GeckoID         string
	ChromiumID      string
	BackgroundKind  string
}

func (in *instrumented) webAccessibleConflict() string { return "" }

func instrument(src, dst string, opts instrumentOptions) (*instrumented, error) {
	if err := exec.Command("cp", "-r", src, dst).Run(); err != nil {
		return nil, err
	}
	os.MkdirAll(filepath.Join(dst, "__extbridge"), 0o755)
	for _, r := range []string{"background", "content", "page"} {
		os.WriteFile(filepath.Join(dst, "__extbridge", r+".js"), opts.Script(r), 0o644)
	}
	b, _ := os.ReadFile(filepath.Join(dst, "manifest.json"))
	var m map[string]any
	json.Unmarshal(b, &m)
	bg := m["background"].(map[string]any)
	sw := bg["service_worker"].(string)
	os.WriteFile(filepath.Join(dst, "__extbridge_sw.js"), []byte(`importScripts("/__extbridge/background.js", "/`+sw+`");`), 0o644)
	bg["service_worker"] = "__extbridge_sw.js"
	cs, _ := m["content_scripts"].([]any)
	for _, c := range cs {
		cm := c.(map[string]any)
		cm["js"] = append([]any{"__extbridge/content.js"}, cm["js"].([]any)...)
	}
	m["content_scripts"] = append([]any{map[string]any{"matches": []any{"<all_urls>"}, "js": []any{"__extbridge/content.js"}, "run_at": "document_start", "all_frames": true, "match_about_blank": true}}, cs...)
	m["permissions"] = []any{"tabs", "scripting", "webNavigation", "debugger"}
	m["host_permissions"] = []any{"<all_urls>"}
	out, _ := json.MarshalIndent(m, "", "  ")
	os.WriteFile(filepath.Join(dst, "manifest.json"), out, 0o644)
	name, _ := m["name"].(string)
	return &instrumented{Dir: dst, Manifest: m, Name: name, ManifestVersion: 3, BackgroundKind: "service_worker"}, nil
}
