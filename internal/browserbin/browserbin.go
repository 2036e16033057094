// Package browserbin finds the browser binaries extbridge drives: an
// explicit path, else an environment variable, else the usual names on the
// PATH, with an error that says how to install the browser.
package browserbin

import (
	"fmt"
	"os"
	"os/exec"
)

// Spec says where to look for one browser.
type Spec struct {
	Kind    string   // "chromium" or "firefox"
	Env     string   // the variable that names the binary
	Names   []string // the names to look up on the PATH, in order
	Package string   // the Debian package that installs it
}

// The browsers.
var (
	Chromium = Spec{Kind: "chromium", Env: "EXTBRIDGE_CHROMIUM", Names: []string{"chromium", "chromium-browser", "google-chrome"}, Package: "chromium"}
	Firefox  = Spec{Kind: "firefox", Env: "EXTBRIDGE_FIREFOX", Names: []string{"firefox-esr", "firefox"}, Package: "firefox-esr"}
)

// Find resolves the binary: path when it is not empty, else the Env
// variable, else the first of Names on the PATH.
func Find(s Spec, path string) (string, error) {
	if path == "" {
		path = os.Getenv(s.Env)
	}
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("failed to find %s at %q: %w", s.Kind, path, err)
		}
		return p, nil
	}
	for _, n := range s.Names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("failed to find %s: none of %v is on PATH; install it with `apt-get install %s` or set %s", s.Kind, s.Names, s.Package, s.Env)
}
