package chromium

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// WritePrefs writes prefs, by their dotted names ("intl.accept_languages"),
// into the Preferences file of the profile's Default folder, where Chromium
// reads a profile's preferences at start. Nothing is written for none.
func WritePrefs(profile string, prefs map[string]any) error {
	if len(prefs) == 0 {
		return nil
	}
	root := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(prefs)) {
		parts := strings.Split(name, ".")
		m := root
		for i, p := range parts {
			if p == "" {
				return fmt.Errorf("failed to set the Chromium pref %q: an empty part in its name", name)
			}
			if i == len(parts)-1 {
				if _, ok := m[p].(map[string]any); ok {
					return fmt.Errorf("failed to set the Chromium pref %q: another pref is inside it", name)
				}
				m[p] = prefs[name]
				break
			}
			next, ok := m[p].(map[string]any)
			if !ok {
				if _, taken := m[p]; taken {
					return fmt.Errorf("failed to set the Chromium pref %q: %s is a pref itself", name, strings.Join(parts[:i+1], "."))
				}
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
	}
	data, err := json.Marshal(root)
	if err != nil {
		return fmt.Errorf("failed to encode the Chromium prefs: %w", err)
	}
	dir := filepath.Join(profile, "Default")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("failed to write the Chromium prefs: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Preferences"), data, 0o600); err != nil {
		return fmt.Errorf("failed to write the Chromium prefs: %w", err)
	}
	return nil
}
