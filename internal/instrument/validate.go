package instrument

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// manifestErrorf returns an error about manifest.json.
func manifestErrorf(format string, args ...any) error {
	return fmt.Errorf("manifest.json: "+format, args...)
}

// readManifest reads, parses and type-checks the top level of manifest.json.
func (j *job) readManifest() error {
	// A FIFO or a device (say, a link to /dev/zero) would block or never end.
	if st, err := os.Stat(filepath.Join(j.src, "manifest.json")); err == nil && !st.Mode().IsRegular() {
		return manifestErrorf("is not a regular file (%s)", st.Mode().Type())
	}
	data, err := os.ReadFile(filepath.Join(j.src, "manifest.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return manifestErrorf("not found in %s", j.src)
	}
	if err != nil {
		return fmt.Errorf("failed to read manifest.json: %w", err)
	}
	v, err := parseJSON(data)
	if err != nil {
		return manifestErrorf("%w", err)
	}
	obj, ok := v.(*object)
	if !ok {
		return manifestErrorf("must be a JSON object, got %s", kind(v))
	}
	j.manifest = obj
	return nil
}

// validate checks the manifest and the files it references.
func (j *job) validate() error {
	m := j.manifest
	mv, ok := m.get("manifest_version")
	if !ok {
		return manifestErrorf("manifest_version is missing (want 2 or 3)")
	}
	n, _ := mv.(json.Number)
	f, err := n.Float64()
	if err != nil || (f != 2 && f != 3) {
		return manifestErrorf("manifest_version must be 2 or 3, got %s", show(mv))
	}
	j.version = int(f)
	if j.version == 2 && j.browser == browserChrome {
		return manifestErrorf("manifest_version 2 is not supported by Chromium 139 and later; use manifest_version 3, or run it in Firefox (driver.Options{Browser: driver.Firefox})")
	}
	for _, k := range []string{"name", "version"} {
		v, ok := m.get(k)
		if !ok {
			return manifestErrorf("%s is missing", k)
		}
		if _, ok := v.(string); !ok {
			return manifestErrorf("%s must be a string, got %s", k, show(v))
		}
	}
	if err := j.validateBackground(); err != nil {
		return err
	}
	if err := j.validateContentScripts(); err != nil {
		return err
	}

	for _, k := range []string{"permissions", "host_permissions"} {
		if v, ok := m.get(k); ok {
			if _, ok := v.([]any); !ok {
				return manifestErrorf("%s must be an array, got %s", k, show(v))
			}
		}
	}

	if v, ok := m.get("content_security_policy"); ok {
		switch v := v.(type) {
		case string:
		case *object:
			for _, k := range v.keys {
				if _, ok := v.vals[k].(string); !ok {
					return manifestErrorf("content_security_policy.%s must be a string, got %s", k, show(v.vals[k]))
				}
			}
		default:
			return manifestErrorf("content_security_policy must be a string or an object, got %s", show(v))
		}
	}

	for _, k := range []string{"browser_specific_settings", "applications"} {
		v, ok := m.get(k)
		if !ok {
			continue
		}
		o, ok := v.(*object)
		if !ok {
			return manifestErrorf("%s must be an object, got %s", k, show(v))
		}
		g, ok := o.get("gecko")
		if !ok {
			continue
		}
		gecko, ok := g.(*object)
		if !ok {
			return manifestErrorf("%s.gecko must be an object, got %s", k, show(g))
		}
		if id, ok := gecko.get("id"); ok {
			if _, ok := id.(string); !ok {
				return manifestErrorf("%s.gecko.id must be a string, got %s", k, show(id))
			}
		}
	}

	if v, ok := m.get("key"); ok {
		s, ok := v.(string)
		if !ok {
			return manifestErrorf("key must be a string, got %s", show(v))
		}
		if _, err := decodeKey(s); err != nil {
			return manifestErrorf("key is not valid base64: %w", err)
		}
	}
	return checkWebAccessibleLiterals(m)
}

// validateBackground checks the background key and records the worker and
// the page.
func (j *job) validateBackground() error {
	bgv, ok := j.manifest.get("background")
	if !ok {
		return nil
	}
	bg, ok := bgv.(*object)
	if !ok {
		return manifestErrorf("background must be an object, got %s", show(bgv))
	}
	if v, ok := bg.get("service_worker"); ok {
		p, err := j.checkRef("background.service_worker", v)
		if err != nil {
			return err
		}
		j.workerPath = p
		if t, ok := bg.get("type"); ok {
			switch t {
			case "module":
				j.workerModule = true
			case "classic":
			default:
				return manifestErrorf("background.type must be \"classic\" or \"module\", got %s", show(t))
			}
		}
	}
	if v, ok := bg.get("scripts"); ok {
		if err := j.checkRefList("background.scripts", v); err != nil {
			return err
		}
	}
	if v, ok := bg.get("page"); ok {
		p, err := j.checkRef("background.page", v)
		if err != nil {
			return err
		}
		j.pagePath = p
	}
	return nil
}

// validateContentScripts checks content_scripts and the files it names.
func (j *job) validateContentScripts() error {
	csv, ok := j.manifest.get("content_scripts")
	if !ok {
		return nil
	}
	list, ok := csv.([]any)
	if !ok {
		return manifestErrorf("content_scripts must be an array, got %s", show(csv))
	}
	for i, e := range list {
		cs, ok := e.(*object)
		if !ok {
			return manifestErrorf("content_scripts[%d] must be an object, got %s", i, show(e))
		}
		for _, k := range []string{"js", "css"} {
			if v, ok := cs.get(k); ok {
				if err := j.checkRefList(fmt.Sprintf("content_scripts[%d].%s", i, k), v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkRefList checks a manifest array of file references.
func (j *job) checkRefList(key string, v any) error {
	list, ok := v.([]any)
	if !ok {
		return manifestErrorf("%s must be an array of strings, got %s", key, show(v))
	}
	for i, e := range list {
		if _, err := j.checkRef(fmt.Sprintf("%s[%d]", key, i), e); err != nil {
			return err
		}
	}
	return nil
}

// checkRef checks that a manifest file reference names a file inside the
// extension and returns its cleaned slash-separated path relative to the root.
func (j *job) checkRef(key string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", manifestErrorf("%s must be a string, got %s", key, show(v))
	}
	p, err := cleanRef(s)
	if err != nil {
		return "", manifestErrorf("%s: %q %w", key, s, err)
	}
	st, err := os.Stat(filepath.Join(j.src, filepath.FromSlash(p)))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", manifestErrorf("%s: %q does not exist", key, s)
	case err != nil:
		return "", manifestErrorf("%s: %q: %w", key, s, err)
	case st.IsDir():
		return "", manifestErrorf("%s: %q is a folder, not a file", key, s)
	}
	return p, nil
}

// cleanRef turns a manifest file reference into a clean path relative to
// the extension root. A leading "/" means the root.
func cleanRef(s string) (string, error) {
	if s == "" {
		return "", errors.New("is empty")
	}
	if strings.ContainsRune(s, 0) || strings.Contains(s, "\\") {
		return "", errors.New("is not a valid path")
	}
	p := path.Clean(strings.TrimLeft(s, "/"))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", errors.New("escapes the extension folder")
	}
	if p == "." {
		return "", errors.New("is not a file")
	}
	return p, nil
}

// decodeKey decodes a manifest "key" (base64 of a DER public key).
func decodeKey(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	return base64.StdEncoding.DecodeString(s)
}
