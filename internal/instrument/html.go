package instrument

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// injectPages adds the bridge to the copy's HTML: the background page gets
// the background bridge, every other page the page bridge. HTML under
// node_modules/ or a hidden folder is left alone unless the manifest names
// it as a page (see the package doc).
func (j *job) injectPages(dst string) error {
	bgPage := j.backgroundPage()
	named := j.facts.namedPages()
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dst, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == BridgeDir {
				return fs.SkipDir
			}
			return nil
		}
		isBackground := rel == bgPage
		if !isBackground {
			if ext := strings.ToLower(path.Ext(rel)); ext != ".html" && ext != ".htm" {
				return nil
			}
			if !named[rel] && !loadablePage(rel) {
				return nil
			}
		}
		js := PageJS
		if isBackground {
			js = BackgroundJS
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("failed to read %s: %w", rel, err)
		}
		if err := writeFile(p, injectScript(data, "/"+js)); err != nil {
			return err
		}
		if !isBackground {
			j.pages = append(j.pages, rel)
		}
		j.added = append(j.added, fmt.Sprintf("script %s in %s", js, rel))
		return nil
	})
	if err != nil {
		return fmt.Errorf("failed to instrument HTML pages: %w", err)
	}
	slices.Sort(j.pages)
	return nil
}

// loadablePage reports whether an HTML file (a slash path relative to the
// root) is one the extension may load as a page: it is not under
// node_modules/ or under a folder whose name starts with ".".
func loadablePage(rel string) bool {
	dir := path.Dir(rel)
	if dir == "." {
		return true
	}
	for seg := range strings.SplitSeq(dir, "/") {
		if seg == "node_modules" || strings.HasPrefix(seg, ".") {
			return false
		}
	}
	return true
}

// injectScript inserts <script src="src"></script> into an HTML document so
// that it is the document's first script: right after the <head> start tag
// if there is one before any other element, else right after <html>, else
// after the doctype (never before it: that would switch on quirks mode),
// else at the very start.
func injectScript(doc []byte, src string) []byte {
	tag := `<script src="` + src + `"></script>`
	at := injectionPoint(doc)
	out := make([]byte, 0, len(doc)+len(tag))
	out = append(out, doc[:at]...)
	out = append(out, tag...)
	return append(out, doc[at:]...)
}

// injectionPoint returns the offset at which injectScript inserts the tag.
func injectionPoint(doc []byte) int {
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
		for n < len(rest) && (isAlnum(rest[n]) || rest[n] == '-') {
			n++
		}
		name := strings.ToLower(rest[1:n])
		if name != "html" && name != "head" {
			break // any other element (or text, or an end tag) starts the content
		}
		end := tagEnd(rest)
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

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// tagEnd returns the index just after the ">" that ends the start tag at
// the beginning of s, skipping quoted attribute values, or -1.
func tagEnd(s string) int {
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
