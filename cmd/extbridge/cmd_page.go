package main

import (
	"context"
	"fmt"
	neturl "net/url"
	"strconv"
	"strings"
)

// The commands of the page's own input: real (trusted) mouse clicks and
// key presses, navigation, and the toolbar button.

// cmdClick is click TAB SELECTOR (Tab.Click) and, as before, click TAB
// [EXT] (the toolbar button, see action): a number after TAB is an
// extension index, which no CSS selector can be.
func cmdClick(ctx context.Context, s *shell, c *call) (result, error) {
	sel := c.rest(1)
	if _, err := strconv.Atoi(sel); sel == "" || err == nil {
		return cmdAction(ctx, s, c)
	}
	te, id, err := s.tab(c, 0)
	if err != nil {
		return result{}, err
	}
	if err := te.t.Click(ctx, sel); err != nil {
		return result{}, err
	}
	return result{rec: record{Tab: ptr(id), Result: map[string]any{"selector": sel}}, text: fmt.Sprintf("clicked %s in tab %d", sel, id)}, nil
}

// cmdAction is action TAB [EXT]: Tab.ClickAction.
func cmdAction(ctx context.Context, s *shell, c *call) (result, error) {
	te, id, err := s.tab(c, 0)
	if err != nil {
		return result{}, err
	}
	ext, e, err := s.ext(c, 1)
	if err != nil {
		return result{}, err
	}
	if err := te.t.ClickAction(ctx, e); err != nil {
		return result{}, err
	}
	return result{rec: record{Tab: ptr(id), Ext: ptr(ext)}, text: fmt.Sprintf("clicked the toolbar button of %s in tab %d", e.Name(), id)}, nil
}

// cmdType is type TAB SELECTOR TEXT: Tab.Type.
func cmdType(ctx context.Context, s *shell, c *call) (result, error) {
	te, id, err := s.tab(c, 0)
	if err != nil {
		return result{}, err
	}
	text := c.rest(2)
	if err := te.t.Type(ctx, c.args[1], text); err != nil {
		return result{}, err
	}
	return result{rec: record{Tab: ptr(id), Result: map[string]any{"selector": c.args[1], "text": text}}}, nil
}

// cmdNavigate is navigate TAB URL: Tab.Navigate. A URL that starts with
// ./, ../ or / is resolved against the tab's.
func cmdNavigate(ctx context.Context, s *shell, c *call) (result, error) {
	te, id, err := s.tab(c, 0)
	if err != nil {
		return result{}, err
	}
	url := c.args[1]
	if strings.HasPrefix(url, "./") || strings.HasPrefix(url, "../") || strings.HasPrefix(url, "/") {
		s.mu.Lock()
		base := te.url
		s.mu.Unlock()
		u, err := neturl.Parse(base)
		if err != nil || u.Scheme == "" {
			return result{}, fmt.Errorf("%s is relative, and tab %d has no URL to resolve it against", url, id)
		}
		ref, err := neturl.Parse(url)
		if err != nil {
			return result{}, fmt.Errorf("bad URL %q: %w", url, err)
		}
		url = u.ResolveReference(ref).String()
	} else {
		url = withScheme(url)
	}
	if err := te.t.Navigate(ctx, url); err != nil {
		return result{}, err
	}
	s.mu.Lock()
	te.url = url
	s.mu.Unlock()
	return result{rec: record{Tab: ptr(id), URL: url}, text: fmt.Sprintf("tab %d: %s", id, url)}, nil
}
