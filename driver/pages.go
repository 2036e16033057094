package driver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/extbridge/extbridge/bridge"
)

// OpenPage opens a page of the extension e (its popup.html, options.html, a
// side panel's page, any HTML page it has) in a new tab, as
// tabs.create({url: runtime.getURL(path)}) would, and returns once it has
// loaded. path is relative to the extension's root and may carry a query
// or a fragment; a path the extension does not have is an error. Act in the
// page with e.Page(ctx, tab.ID()).
func (b *Browser) OpenPage(ctx context.Context, e *bridge.Extension, pagePath string) (*Tab, error) {
	i := b.index(e)
	if i < 0 {
		return nil, fmt.Errorf("failed to open %s: the extension %q is not one of this browser's", pagePath, e.Name())
	}
	file := pagePath
	if j := strings.IndexAny(file, "?#"); j >= 0 {
		file = file[:j]
	}
	clean := path.Clean("/" + file)[1:]
	if file == "" || clean == "" || strings.Contains(file, `\`) {
		return nil, fmt.Errorf("failed to open %q of %s: not a file path", pagePath, e.Name())
	}
	st, err := os.Stat(filepath.Join(b.root, fmt.Sprintf("ext-%d", i), filepath.FromSlash(clean)))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("failed to open %q: %s has no such file", pagePath, e.Name())
	case err != nil:
		return nil, fmt.Errorf("failed to open %q of %s: %w", pagePath, e.Name(), err)
	case st.IsDir():
		return nil, fmt.Errorf("failed to open %q of %s: it is a folder", pagePath, e.Name())
	}
	url := b.impl.PageURL(e.ID(), clean+pagePath[len(file):])
	t, err := b.impl.openPage(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("failed to open %s: %w", url, err)
	}
	return &Tab{b: b, impl: t}, nil
}

// index is the position of e in b's extensions, or -1.
func (b *Browser) index(e *bridge.Extension) int {
	for i, x := range b.exts {
		if x == e {
			return i
		}
	}
	return -1
}
