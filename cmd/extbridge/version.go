package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is what `extbridge version` says: the module version when the
// binary was built by `go install …@version` (or the pseudo-version Go
// makes from a checkout's commit), else "(devel)" with the VCS revision the
// build recorded, if any.
type version struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

func versionInfo() version {
	v := version{Version: "(devel)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func (v version) String() string {
	parts := []string{"extbridge", v.Version}
	if v.Revision != "" && v.Version == "(devel)" { // a pseudo-version names the revision already
		rev := v.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if v.Modified {
			rev += "+modified"
		}
		parts = append(parts, rev)
	}
	if v.Time != "" && v.Version == "(devel)" {
		parts = append(parts, v.Time)
	}
	return fmt.Sprintf("%s (%s)", strings.Join(parts, " "), v.Go)
}
