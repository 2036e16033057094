package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// progress is a slog.Handler that renders the library's log records as
// progress lines with the time since the launch began:
//
//	extbridge:    +2ms  found browser /usr/bin/chromium
//
// Info records are shown when verbose (stderr is a terminal, or -v);
// warnings and errors always. It also remembers the browser's path for
// `status`.
type progress struct {
	core  *progressCore
	attrs []slog.Attr
	group string
}

type progressCore struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool
	start   time.Time
	last    time.Time
	binary  string
}

func newProgress(w io.Writer, verbose bool) *progress {
	now := time.Now()
	return &progress{core: &progressCore{w: w, verbose: verbose, start: now, last: now}}
}

// Enabled takes Info and above: Handle remembers what status needs even
// when it does not print it.
func (h *progress) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *progress) Handle(_ context.Context, r slog.Record) error {
	c := h.core
	c.mu.Lock()
	defer c.mu.Unlock()
	var vals []string
	add := func(a slog.Attr) bool {
		v := a.Value.String()
		switch {
		case r.Message == "found browser" && a.Key == "path":
			c.binary = v
		case r.Message == "found browser" && a.Key == "browser",
			r.Message == "browser started" && a.Key == "browser":
			return true // the path says it, or the line before
		case a.Key == "name":
			v = fmt.Sprintf("%q", v)
		case a.Key == "dir":
			v = "into " + v
		default:
			v = a.Key + "=" + v
		}
		vals = append(vals, v)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if r.Level < slog.LevelWarn && !c.verbose {
		return nil
	}
	msg := r.Message
	if r.Level >= slog.LevelWarn {
		msg = strings.ToLower(r.Level.String()) + ": " + strings.TrimPrefix(msg, "extbridge: ")
	}
	line := strings.TrimSpace(msg + " " + strings.Join(vals, " "))
	step := r.Time.Sub(c.last)
	c.last = r.Time
	fmt.Fprintf(c.w, "extbridge: %7s  %s\n", "+"+roundDur(step), line)
	return nil
}

func (h *progress) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &n
}

func (h *progress) WithGroup(name string) slog.Handler {
	n := *h
	n.group = name
	return &n
}

// done prints the closing line of the launch, with the total time.
func (h *progress) done(what string) {
	c := h.core
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.verbose {
		fmt.Fprintf(c.w, "extbridge: %7s  %s\n", roundDur(time.Since(c.start)), what)
	}
}

// setWriter redirects the lines (to the line editor once the shell runs).
func (h *progress) setWriter(w io.Writer) {
	h.core.mu.Lock()
	h.core.w = w
	h.core.mu.Unlock()
}

// binaryPath is the browser binary the launch found, or "".
func (h *progress) binaryPath() string {
	h.core.mu.Lock()
	defer h.core.mu.Unlock()
	return h.core.binary
}

// roundDur renders a duration for people: 3ms, 412ms, 1.52s.
func roundDur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return d.Round(10 * time.Millisecond).String()
}
