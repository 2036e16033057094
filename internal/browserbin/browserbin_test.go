package browserbin

import (
	"strings"
	"testing"
)

func TestMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, s := range []Spec{Chromium, Firefox} {
		t.Setenv(s.Env, "")
		_, err := Find(s, "")
		if err == nil || !strings.Contains(err.Error(), "apt-get install "+s.Package) || !strings.Contains(err.Error(), s.Env) {
			t.Errorf("%s: got %v, want an install hint", s.Kind, err)
		}
		_, err = Find(s, "/nonexistent/"+s.Kind)
		if err == nil || !strings.Contains(err.Error(), "/nonexistent/"+s.Kind) {
			t.Errorf("%s: got %v, want the path named", s.Kind, err)
		}
	}
}
