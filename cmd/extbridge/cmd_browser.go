package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
)

// extItem is an extension in the -json result of exts and status.
type extItem struct {
	Ext     int      `json:"ext"`
	Name    string   `json:"name"`
	ID      string   `json:"id"`
	Added   []string `json:"added"`
	Watched bool     `json:"watched"`
}

// extItems lists the extensions; long adds what each copy added.
func (s *shell) extItems(long bool) ([]extItem, string) {
	var items []extItem
	var b strings.Builder
	s.mu.Lock()
	cur := s.curExt
	watched := map[int]bool{}
	for i := range s.watches {
		watched[i] = true
	}
	s.mu.Unlock()
	for i, e := range s.exts() {
		items = append(items, extItem{Ext: i, Name: e.Name(), ID: e.ID(), Added: nonNil(e.Added()), Watched: watched[i]})
		mark := " "
		if i == cur {
			mark = "*"
		}
		fmt.Fprintf(&b, "%s%d: %s id %s", mark, i, e.Name(), e.ID())
		if watched[i] {
			b.WriteString(" (watched)")
		}
		if a := e.Added(); long && len(a) > 0 {
			fmt.Fprintf(&b, "; the copy added: %s", strings.Join(a, ", "))
		}
		b.WriteString("\n")
	}
	return items, strings.TrimSuffix(b.String(), "\n")
}

func cmdExts(_ context.Context, s *shell, _ *call) (result, error) {
	items, text := s.extItems(true)
	return result{rec: record{Result: map[string]any{"exts": nonNil(items)}}, text: text}, nil
}

func cmdUse(_ context.Context, s *shell, c *call) (result, error) {
	i, e, err := s.ext(c, 0)
	if err != nil {
		return result{}, err
	}
	s.mu.Lock()
	s.curExt = i
	s.mu.Unlock()
	return result{rec: record{Ext: ptr(i)}, text: fmt.Sprintf("using extension %d: %s", i, e.Name())}, nil
}

func cmdOpen(ctx context.Context, s *shell, c *call) (result, error) {
	var t *driver.Tab
	var url string
	rec := record{}
	if len(c.args) == 2 { // open EXT PATH: a page of the extension
		ext, e, err := s.ext(c, 0)
		if err != nil {
			return result{}, err
		}
		if t, err = s.b.OpenPage(ctx, e, c.args[1]); err != nil {
			return result{}, err
		}
		url = fmt.Sprintf("%s of %s", c.args[1], e.Name())
		rec.Ext, rec.Realm = ptr(ext), string(bridge.RealmPage)
	} else {
		url = withScheme(c.args[0])
		var err error
		if t, err = s.b.NewTab(ctx, url); err != nil {
			return result{}, err
		}
		rec.URL = url
	}
	s.mu.Lock()
	s.tabs[t.ID()] = &tabEntry{t: t, url: url}
	s.lastTab = t.ID()
	s.mu.Unlock()
	rec.Tab = ptr(t.ID())
	return result{rec: rec, text: fmt.Sprintf("tab %d: %s", t.ID(), url)}, nil
}

// tabItem is a tab in the -json result of tabs and status.
type tabItem struct {
	Tab int    `json:"tab"`
	URL string `json:"url"`
}

func (s *shell) tabItems() ([]tabItem, string) {
	var items []tabItem
	var lines []string
	for _, id := range s.tabIDs() {
		s.mu.Lock()
		te := s.tabs[id]
		s.mu.Unlock()
		items = append(items, tabItem{Tab: id, URL: te.url})
		lines = append(lines, fmt.Sprintf("tab %d: %s", id, te.url))
	}
	if len(lines) == 0 {
		lines = append(lines, "no tabs (open URL opens one)")
	}
	return items, strings.Join(lines, "\n")
}

func cmdTabs(_ context.Context, s *shell, _ *call) (result, error) {
	items, text := s.tabItems()
	return result{rec: record{Result: map[string]any{"tabs": nonNil(items)}}, text: text}, nil
}

// tab finds a tab the shell opened.
func (s *shell) tab(c *call, i int) (*tabEntry, int, error) {
	id, err := c.int(i)
	if err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	te := s.tabs[id]
	s.mu.Unlock()
	if te == nil {
		return nil, 0, fmt.Errorf("no tab %d opened here (tabs lists them)", id)
	}
	return te, id, nil
}

func cmdClose(ctx context.Context, s *shell, c *call) (result, error) {
	te, id, err := s.tab(c, 0)
	if err != nil {
		return result{}, err
	}
	if err := te.t.Close(ctx); err != nil {
		return result{}, err
	}
	s.mu.Lock()
	delete(s.tabs, id)
	if s.lastTab == id {
		s.lastTab = 0
	}
	s.mu.Unlock()
	return result{rec: record{Tab: ptr(id)}}, nil
}

// frameItem is a frame in the -json result of frames.
type frameItem struct {
	Frame  int    `json:"frame"`
	Parent int    `json:"parent"`
	URL    string `json:"url"`
}

func cmdFrames(ctx context.Context, s *shell, c *call) (result, error) {
	tab, err := c.int(0)
	if err != nil {
		return result{}, err
	}
	_, e, err := s.ext(c, 1)
	if err != nil {
		return result{}, err
	}
	frames, err := e.Frames(ctx, tab)
	if err != nil {
		return result{}, err
	}
	var items []frameItem
	var lines []string
	for _, f := range frames {
		items = append(items, frameItem{Frame: f.ID, Parent: f.ParentID, URL: f.URL})
		lines = append(lines, fmt.Sprintf("frame %d (parent %d) %s", f.ID, f.ParentID, f.URL))
	}
	return result{rec: record{Tab: ptr(tab), Result: map[string]any{"frames": nonNil(items)}}, text: strings.Join(lines, "\n")}, nil
}

func cmdEval(ctx context.Context, s *shell, c *call) (result, error) {
	var v json.RawMessage
	var rec record
	if c.args[0] == "tab" { // the web page's own main world
		te, id, err := s.tab(c, 1)
		if err != nil {
			return result{}, err
		}
		if err := te.t.Eval(ctx, c.rest(2), &v); err != nil {
			return result{}, err
		}
		rec.Tab = ptr(id)
	} else {
		rc, ext, next, err := s.realm(ctx, c, func(int) int { return len(c.args) })
		if err != nil {
			return result{}, err
		}
		if err := rc.Eval(ctx, c.rest(next), &v); err != nil {
			return result{}, err
		}
		rec = realmRecord(ext, c)
	}
	if len(v) == 0 {
		v = json.RawMessage("null")
	}
	rec.Data = v
	return result{rec: rec, text: string(v)}, nil
}

func cmdStop(ctx context.Context, s *shell, c *call) (result, error) {
	ext, e, err := s.ext(c, 0)
	if err != nil {
		return result{}, err
	}
	return result{rec: record{Ext: ptr(ext)}, text: "stopped the background of " + e.Name()}, e.StopBackground(ctx)
}

func cmdWatch(_ context.Context, s *shell, c *call) (result, error) {
	ext, e, err := s.ext(c, 0)
	if err != nil {
		return result{}, err
	}
	if err := s.watchExt(ext); err != nil {
		return result{}, err
	}
	return result{rec: record{Ext: ptr(ext)}, text: fmt.Sprintf("watching %s (unwatch to stop)", e.Name())}, nil
}

func cmdUnwatch(_ context.Context, s *shell, c *call) (result, error) {
	ext, e, err := s.ext(c, 0)
	if err != nil {
		return result{}, err
	}
	return result{rec: record{Ext: ptr(ext)}, text: "stopped watching " + e.Name()}, s.unwatchExt(ext)
}

func cmdScreenshot(ctx context.Context, s *shell, c *call) (result, error) {
	te, id, err := s.tab(c, 0)
	if err != nil {
		return result{}, err
	}
	png, err := te.t.Screenshot(ctx)
	if err != nil {
		return result{}, err
	}
	if err := os.WriteFile(c.args[1], png, 0o644); err != nil {
		return result{}, fmt.Errorf("failed to save the screenshot: %w", err)
	}
	return result{rec: record{Tab: ptr(id), Result: map[string]any{"file": c.args[1]}}, text: fmt.Sprintf("saved %s (%d bytes)", c.args[1], len(png))}, nil
}

// listenerItem is a listener in the -json result of status.
type listenerItem struct {
	Ext   int    `json:"ext"`
	Where string `json:"where"`
}

func cmdStatus(_ context.Context, s *shell, _ *call) (result, error) {
	var b strings.Builder
	browser := string(s.b.Kind())
	path := s.l.progress.binaryPath()
	fmt.Fprintf(&b, "browser: %s %s\n", browser, path)
	exts, extText := s.extItems(false)
	fmt.Fprintf(&b, "extensions:\n%s\n", indent(extText))
	tabs, tabText := s.tabItems()
	fmt.Fprintf(&b, "tabs:\n%s\n", indent(tabText))
	ports, portText := s.portItems()
	fmt.Fprintf(&b, "ports:\n%s\n", indent(portText))
	var listeners []listenerItem
	s.mu.Lock()
	for _, le := range s.listeners {
		listeners = append(listeners, listenerItem{Ext: le.ext, Where: le.where})
	}
	s.mu.Unlock()
	b.WriteString("listeners:\n")
	if len(listeners) == 0 {
		b.WriteString("  none (listen adds one)")
	}
	for i, le := range listeners {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  in %s", le.Where)
	}
	return result{rec: record{Result: map[string]any{
		"browser": browser, "path": path, "exts": nonNil(exts), "tabs": nonNil(tabs),
		"ports": nonNil(ports), "listeners": nonNil(listeners),
	}}, text: b.String()}, nil
}

func indent(text string) string { return "  " + strings.ReplaceAll(text, "\n", "\n  ") }

// withScheme completes an address typed without a scheme, as the address
// bar does: http for loopback, https for the rest.
func withScheme(url string) string {
	if strings.Contains(url, "://") || strings.HasPrefix(url, "about:") || strings.HasPrefix(url, "data:") {
		return url
	}
	if strings.HasPrefix(url, "localhost") || strings.HasPrefix(url, "127.") || strings.HasPrefix(url, "[::1]") {
		return "http://" + url
	}
	return "https://" + url
}
