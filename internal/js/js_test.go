package js

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/extbridge/extbridge/extfixtures"
)

// Every script parses: node --check on each file, and on the bridge as Go
// hands it to a realm.
func TestScriptsParse(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("the JavaScript checks need Node.js: apt-get install nodejs (make test installs it)")
	}
	var files []string
	err = filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".js") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("found only %v", files)
	}
	tmp := filepath.Join(t.TempDir(), "bridge-configured.js")
	if err := os.WriteFile(tmp, Bridge(Config{URL: "ws://127.0.0.1:1/", Token: "t", Realm: "content"}), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range append(files, tmp) {
		if out, err := exec.Command(node, "--check", f).CombinedOutput(); err != nil {
			t.Errorf("%s does not parse: %v\n%s", f, err, out)
		}
	}
}

func TestBridgeConfig(t *testing.T) {
	if !strings.Contains(bridgeJS, configMark) {
		t.Fatal("bridge.js lost its config placeholder")
	}
	got := string(Bridge(Config{URL: "ws://x/", Token: "abc", Ext: 2, Realm: "page"}))
	if strings.Contains(got, configMark) || !strings.Contains(got, `{"url":"ws://x/","token":"abc","ext":2,"realm":"page"}`) {
		t.Fatalf("config not in the script")
	}
}

// The bridge keeps working in a realm whose extension broke every builtin
// after start-up: testdata/breakall-harness.js runs it in a node:vm context
// with fake extension APIs, then the breakall fixture's script, and drives
// it as Go and the browser would.
func TestBridgeSurvivesBrokenBuiltins(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("the JavaScript checks need Node.js: apt-get install nodejs (make test installs it)")
	}
	dir := t.TempDir()
	ext, err := extfixtures.Materialize("breakall", dir)
	if err != nil {
		t.Fatal(err)
	}
	bridge := filepath.Join(dir, "bridge-content.js")
	if err := os.WriteFile(bridge, Bridge(Config{URL: "ws://127.0.0.1:1/", Token: "t", Realm: "content"}), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, "testdata/breakall-harness.js", bridge, filepath.Join(ext, "breakall.js")).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("%s", out)
}
