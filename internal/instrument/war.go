package instrument

import (
	"fmt"
	"slices"
	"strings"
)

// This file keeps the bridge files out of web_accessible_resources: they
// hold the launch's secret token, and a web-accessible file can be read by
// any page. The manifest forms are Manifest V2's list of patterns and
// Manifest V3's list of objects whose "resources" are patterns (beside
// matches, extension_ids and use_dynamic_url, which are kept). A pattern
// is a path relative to the root (leading slashes do not matter) in which
// "*" matches any run of characters, "/" included; Firefox also reads "?"
// as any one character, Chromium as itself.

// patternRef is one web_accessible_resources pattern and where it is.
type patternRef struct {
	key   string // e.g. "web_accessible_resources[1].resources[0]"
	value string
}

// webAccessiblePatterns returns the string patterns of a manifest's
// web_accessible_resources, with their keys. Entries of other types are
// left to the browser to refuse.
func webAccessiblePatterns(m *object) []patternRef {
	list, _ := m.vals["web_accessible_resources"].([]any)
	var out []patternRef
	for i, e := range list {
		switch e := e.(type) {
		case string: // MV2
			out = append(out, patternRef{fmt.Sprintf("web_accessible_resources[%d]", i), e})
		case *object: // MV3
			res, _ := e.vals["resources"].([]any)
			for k, r := range res {
				if s, ok := r.(string); ok {
					out = append(out, patternRef{fmt.Sprintf("web_accessible_resources[%d].resources[%d]", i, k), s})
				}
			}
		}
	}
	return out
}

// exposedBridgeFile returns the first bridge file the pattern matches (with
// "?" as a wildcard, whatever the browser), or "".
func exposedBridgeFile(pattern string) string {
	p := strings.TrimLeft(pattern, "/")
	for _, f := range bridgeFiles {
		if globMatch(p, f, true) {
			return f
		}
	}
	return ""
}

// webAccessibleConflict returns a description of the first
// web_accessible_resources pattern that would expose a bridge file, or ""
// if there is none, e.g.
// `manifest.json: web_accessible_resources[0].resources[1]: "*.js" makes __extbridge/content.js web-accessible`.
func webAccessibleConflict(m *object) string {
	for _, p := range webAccessiblePatterns(m) {
		if f := exposedBridgeFile(p.value); f != "" {
			return fmt.Sprintf("manifest.json: %s: %q makes %s web-accessible", p.key, p.value, f)
		}
	}
	return ""
}

// checkWebAccessibleLiterals refuses a pattern without wildcards that names
// a bridge file: no rewriting can keep what it asks for.
func checkWebAccessibleLiterals(m *object) error {
	for _, p := range webAccessiblePatterns(m) {
		if strings.ContainsAny(p.value, "*?") {
			continue
		}
		if f := exposedBridgeFile(p.value); f != "" {
			return manifestErrorf("%s: %q makes %s web-accessible: the bridge holds a secret and must not be web-accessible", p.key, p.value, f)
		}
	}
	return nil
}

// rewriteWebAccessible replaces every web_accessible_resources pattern that
// matches a bridge file with the list of the extension's own files it
// matches in the copy in dst (which must not hold the bridge files yet),
// so the extension keeps exactly the access it had and the bridge files
// stay private. An MV3 entry left with no resources is removed. It returns
// the lines for Added.
func (j *job) rewriteWebAccessible(dst string) ([]string, error) {
	list, _ := j.manifest.vals["web_accessible_resources"].([]any)
	var own []string // listed on first use
	var added []string
	expand := func(key, pattern string) ([]any, error) {
		if own == nil {
			var err error
			if own, err = listFiles(dst); err != nil {
				return nil, fmt.Errorf("failed to list the extension's files: %w", err)
			}
		}
		lead := pattern[:len(pattern)-len(strings.TrimLeft(pattern, "/"))]
		p := pattern[len(lead):]
		var files []any
		var names []string
		for _, f := range own {
			if !globMatch(p, f, j.browser == browserFirefox) {
				continue
			}
			if strings.ContainsAny(f, j.wildcards()) {
				return nil, manifestErrorf("%s: %q would make the bridge files web-accessible, and %q, a file it matches, cannot be listed instead (its name has a wildcard in it); rename the file or narrow the pattern",
					key, pattern, f)
			}
			files = append(files, lead+f)
			names = append(names, jsString(lead+f))
		}
		if len(files) == 0 {
			added = append(added, fmt.Sprintf("removed %s %q: it matches none of the extension's own files (and the bridge files must not be web-accessible)", key, pattern))
		} else {
			added = append(added, fmt.Sprintf("%s %q replaced by the extension's own files it matches: [%s] (the bridge files must not be web-accessible)", key, pattern, strings.Join(names, ", ")))
		}
		return files, nil
	}
	// rewriteList rewrites a list of patterns, keeping other values; key
	// names the k-th entry.
	rewriteList := func(key func(k int) string, patterns []any) ([]any, bool, error) {
		out := make([]any, 0, len(patterns))
		changed := false
		for k, v := range patterns {
			s, ok := v.(string)
			if !ok || exposedBridgeFile(s) == "" {
				out = append(out, v)
				continue
			}
			files, err := expand(key(k), s)
			if err != nil {
				return nil, false, err
			}
			changed = true
			for _, f := range files {
				if !slices.Contains(out, f) && !slices.Contains(patterns, f) {
					out = append(out, f)
				}
			}
		}
		return out, changed, nil
	}

	if slices.ContainsFunc(list, func(e any) bool { _, ok := e.(string); return ok }) {
		// MV2: the list itself holds the patterns.
		out, changed, err := rewriteList(func(k int) string { return fmt.Sprintf("web_accessible_resources[%d]", k) }, list)
		if err != nil || !changed {
			return added, err
		}
		j.manifest.set("web_accessible_resources", out)
		return added, nil
	}
	out := make([]any, 0, len(list))
	changed := false
	for i, e := range list {
		o, _ := e.(*object)
		var res []any
		if o != nil {
			res, _ = o.vals["resources"].([]any)
		}
		if res == nil {
			out = append(out, e)
			continue
		}
		r, c, err := rewriteList(func(k int) string { return fmt.Sprintf("web_accessible_resources[%d].resources[%d]", i, k) }, res)
		if err != nil {
			return nil, err
		}
		if !c {
			out = append(out, e)
			continue
		}
		changed = true
		if len(r) == 0 {
			added = append(added, fmt.Sprintf("removed web_accessible_resources[%d]: none of its resources is left", i))
			continue
		}
		o.set("resources", r)
		out = append(out, o)
	}
	if changed {
		j.manifest.set("web_accessible_resources", out)
	}
	return added, nil
}

// wildcards returns the characters the target browser reads as wildcards
// in a web_accessible_resources pattern.
func (j *job) wildcards() string {
	if j.browser == browserFirefox {
		return "*?"
	}
	return "*"
}

// globMatch reports whether name matches pattern, where "*" matches any run
// of characters (including "/") and, if question is set, "?" any one
// character.
func globMatch(pattern, name string, question bool) bool {
	// Iterative wildcard matching with backtracking to the last "*".
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && (question && pattern[p] == '?' || pattern[p] == name[n]):
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
