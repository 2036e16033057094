package instrument

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the want/ files of testdata/golden/*.txtar from what Copy produces")

// Golden cases: testdata/golden/NAME.txtar holds an extension (its files,
// with manifest.json) and, for each browser its comment names on a line
// "browsers: chromium firefox", what Copy makes of it under
// want/<browser>/:
//
//	added    Result.Added, one line each
//	result   the other facts of the Result
//	error    the error, instead of the above, with $SRC for the folder
//	<path>   every file of the copy that is new or differs from the input
//
// The bridge scripts themselves (the fake goldenScript) are checked here,
// not kept in the archives. go test ./internal/instrument -update rewrites
// the want/ files.
func TestGolden(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txtar"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no golden cases (%v)", err)
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".txtar"), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			a := parseArchive(data)
			browsers := archiveBrowsers(a)
			if len(browsers) == 0 {
				t.Fatal(`the comment names no browsers (want a line "browsers: chromium firefox")`)
			}
			var inputs []archiveFile
			want := map[string]map[string][]byte{}
			for _, f := range a.files {
				rest, ok := strings.CutPrefix(f.name, "want/")
				if !ok {
					inputs = append(inputs, f)
					continue
				}
				b, p, _ := strings.Cut(rest, "/")
				if !slices.Contains(browsers, b) {
					t.Fatalf("%s: %s is not one of the browsers %q", f.name, b, browsers)
				}
				if want[b] == nil {
					want[b] = map[string][]byte{}
				}
				want[b][p] = f.data
			}
			got := map[string]map[string][]byte{}
			for _, b := range browsers {
				got[b] = runGolden(t, inputs, b)
				if !*update {
					compareGolden(t, b, want[b], got[b])
				}
			}
			if *update {
				out := &archive{comment: a.comment, files: inputs}
				for _, b := range browsers {
					for _, p := range goldenOrder(got[b]) {
						out.files = append(out.files, archiveFile{"want/" + b + "/" + p, got[b][p]})
					}
				}
				if err := os.WriteFile(name, out.format(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// archiveBrowsers returns the browsers the comment names.
func archiveBrowsers(a *archive) []string {
	for line := range strings.Lines(string(a.comment)) {
		if rest, ok := strings.CutPrefix(line, "browsers:"); ok {
			return strings.Fields(rest)
		}
	}
	return nil
}

// goldenScript is the bridge script of the golden cases.
func goldenScript(realm string) []byte {
	return []byte("// bridge " + realm + "\n")
}

// runGolden instruments the input files for browser and returns the
// outputs as the archive holds them.
func runGolden(t *testing.T, inputs []archiveFile, browser string) map[string][]byte {
	t.Helper()
	src := t.TempDir()
	in := map[string][]byte{}
	for _, f := range inputs {
		in[f.name] = f.data
		p := filepath.Join(src, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(t.TempDir(), "copy")
	res, err := Copy(src, dst, Options{Browser: browser, Script: goldenScript})
	if err != nil {
		return map[string][]byte{"error": []byte(strings.ReplaceAll(err.Error(), src, "$SRC") + "\n")}
	}
	out := map[string][]byte{
		"added":  []byte(strings.Join(res.Added, "\n") + "\n"),
		"result": goldenResult(t, res),
	}
	files, err := listFiles(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data := readFile(t, filepath.Join(res.Dir, filepath.FromSlash(f)))
		if realm, ok := strings.CutPrefix(f, BridgeDir+"/"); ok {
			if want := goldenScript(strings.TrimSuffix(realm, ".js")); data != string(want) {
				t.Errorf("%s: %s = %q, want %q", browser, f, data, want)
			}
			continue
		}
		if old, ok := in[f]; !ok || string(old) != data {
			if data != "" && !strings.HasSuffix(data, "\n") {
				t.Errorf("%s: %s does not end in a newline, which a txtar archive cannot hold: end the input with one", browser, f)
			}
			out[f] = []byte(data)
		}
	}
	for f := range in {
		if !slices.Contains(files, f) {
			t.Errorf("%s: %s is missing from the copy", browser, f)
		}
	}
	if m := manifestFromDisk(t, res.Dir); !reflect.DeepEqual(m, res.Manifest) {
		t.Errorf("%s: Result.Manifest differs from the written manifest", browser)
	}
	return out
}

// goldenResult describes the facts of a Result other than Added and the
// files.
func goldenResult(t *testing.T, res *Result) []byte {
	t.Helper()
	if res.Dir != filepath.Clean(res.Dir) || !filepath.IsAbs(res.Dir) {
		t.Errorf("Dir = %q, want a clean absolute path", res.Dir)
	}
	id := res.ChromiumID
	if _, ok := res.Manifest["key"]; !ok {
		real, err := filepath.EvalSymlinks(res.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if want := chromiumIDFrom([]byte(real)); id != want {
			t.Errorf("ChromiumID = %s, want %s (from %s)", id, want, real)
		}
		id = "(from the path)"
	}
	var b bytes.Buffer
	for _, kv := range []struct {
		k string
		v any
	}{
		{"Name", res.Name},
		{"ManifestVersion", res.ManifestVersion},
		{"GeckoID", res.GeckoID},
		{"ChromiumID", id},
		{"BackgroundKind", res.BackgroundKind},
		{"Pages", res.Pages},
		{"ActionKind", res.ActionKind},
		{"Popup", res.Popup},
		{"Options", res.Options},
		{"SidePanel", res.SidePanel},
		{"Permissions", res.Permissions},
	} {
		switch v := kv.v.(type) {
		case int:
			fmt.Fprintf(&b, "%s: %d\n", kv.k, v)
		default:
			fmt.Fprintf(&b, "%s: %q\n", kv.k, v)
		}
	}
	return b.Bytes()
}

// goldenOrder lists the outputs: error, added and result first, then the
// files in order.
func goldenOrder(out map[string][]byte) []string {
	var files []string
	for p := range out {
		if p != "error" && p != "added" && p != "result" {
			files = append(files, p)
		}
	}
	slices.Sort(files)
	var head []string
	for _, p := range []string{"error", "added", "result"} {
		if _, ok := out[p]; ok {
			head = append(head, p)
		}
	}
	return append(head, files...)
}

// compareGolden reports every difference between the wanted and the
// produced outputs of one browser, with a line diff.
func compareGolden(t *testing.T, browser string, want, got map[string][]byte) {
	t.Helper()
	for _, p := range goldenOrder(got) {
		w, ok := want[p]
		switch {
		case !ok:
			t.Errorf("want/%s/%s: unexpected output (run go test -update to accept it):\n%s", browser, p, got[p])
		case !bytes.Equal(w, got[p]):
			t.Errorf("want/%s/%s differs (-want +got):\n%s", browser, p, lineDiff(string(w), string(got[p])))
		}
	}
	for _, p := range goldenOrder(want) {
		if _, ok := got[p]; !ok {
			t.Errorf("want/%s/%s: expected, but Copy produced no such output", browser, p)
		}
	}
}

// lineDiff returns a unified-style diff of two texts: the lines that
// differ, marked "-" and "+", with three lines of context, from a longest
// common subsequence of lines.
func lineDiff(a, b string) string {
	x, y := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	if len(x)*len(y) > 4_000_000 {
		return "--- want\n" + a + "+++ got\n" + b
	}
	// lcs[i][j] is the length of an LCS of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type diffLine struct{ mark, text string }
	var lines []diffLine
	add := func(mark, s string) {
		if s != "" {
			if !strings.HasSuffix(s, "\n") {
				s += "\n\\ No newline at end of file\n"
			}
			lines = append(lines, diffLine{mark, s})
		}
	}
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			add(" ", x[i])
			i, j = i+1, j+1
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			add("-", x[i])
			i++
		default:
			add("+", y[j])
			j++
		}
	}
	const context = 3
	var out strings.Builder
	last := -1 // the last line written
	for k, l := range lines {
		near := false
		for d := max(0, k-context); d <= min(len(lines)-1, k+context); d++ {
			near = near || lines[d].mark != " "
		}
		if !near {
			continue
		}
		if last >= 0 && k > last+1 {
			out.WriteString("@@\n")
		}
		out.WriteString(l.mark + l.text)
		last = k
	}
	return out.String()
}
