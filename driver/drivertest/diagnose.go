package drivertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
)

// diag is one test's diagnostics: what its browser's extensions did since
// the test started to use it, and its tabs.
type diag struct {
	start   time.Time
	watches []*bridge.Watch
	names   []string
	mu      sync.Mutex
	tabs    []*driver.Tab
}

var diags sync.Map // testing.TB → *diag

// Diagnose arranges that, when the test fails, the port traffic (both
// directions, with realms and timestamps), the console output and uncaught
// errors of b's extensions since now, and a screenshot of each tab given
// here or opened with [NewTab], are written to t.ArtifactDir() and
// summarised in the test log. Run go test with -artifacts to keep the files.
// [NewTab] calls it, so most tests need not.
func Diagnose(t testing.TB, b *driver.Browser, tabs ...*driver.Tab) {
	t.Helper()
	v, loaded := diags.LoadOrStore(t, &diag{start: time.Now()})
	d := v.(*diag)
	d.mu.Lock()
	d.tabs = append(d.tabs, tabs...)
	d.mu.Unlock()
	if loaded {
		return
	}
	for _, e := range b.Extensions() {
		w, err := e.Watch(context.Background())
		if err != nil {
			continue
		}
		d.watches = append(d.watches, w)
		d.names = append(d.names, e.Name())
	}
	t.Cleanup(func() {
		diags.Delete(t)
		defer func() {
			for _, w := range d.watches {
				w.Close()
			}
		}()
		if t.Failed() {
			d.report(t)
		}
	})
}

// report writes the diagnostics and logs a summary.
func (d *diag) report(t testing.TB) {
	t.Helper()
	dir := t.ArtifactDir()
	var traffic, console strings.Builder
	var lastTraffic []string
	nTraffic, nConsole := 0, 0
	for i, w := range d.watches {
		for {
			ev, ok := w.TryNext()
			if !ok {
				break
			}
			if ev.Time.Before(d.start) && ev.Kind != bridge.EventOverflow {
				continue
			}
			line := fmt.Sprintf("[%s] %s\n", d.names[i], ev)
			if ev.Kind == bridge.EventLog {
				console.WriteString(line)
				nConsole++
			} else {
				traffic.WriteString(line)
				lastTraffic = append(lastTraffic, line)
				nTraffic++
			}
		}
	}
	var files []string
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err == nil {
			files = append(files, name)
		}
	}
	write("traffic.txt", []byte(traffic.String()))
	write("console.txt", []byte(console.String()))
	d.mu.Lock()
	tabs := d.tabs
	d.mu.Unlock()
	var pages []string
	for _, tab := range tabs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var url string
		if err := tab.Eval(ctx, "location.href", &url); err != nil {
			url = "(an extension page, or the tab is gone)"
		}
		pages = append(pages, fmt.Sprintf("tab %d: %s", tab.ID(), url))
		png, err := tab.Screenshot(ctx)
		cancel()
		if err != nil {
			files = append(files, fmt.Sprintf("no screenshot of tab %d: %v", tab.ID(), err))
			continue
		}
		write(fmt.Sprintf("tab-%d.png", tab.ID()), png)
	}
	if len(lastTraffic) > 20 {
		lastTraffic = lastTraffic[len(lastTraffic)-20:]
	}
	t.Logf("drivertest: the test failed; %d port events, %d console lines and the screenshots are in %s (%s; go test -artifacts keeps them)\ntabs:\n  %s\nlast port events:\n%s",
		nTraffic, nConsole, dir, strings.Join(files, ", "), strings.Join(pages, "\n  "), strings.Join(lastTraffic, ""))
	if nConsole > 0 {
		lines := strings.SplitAfter(strings.TrimSpace(console.String()), "\n")
		if len(lines) > 10 {
			lines = lines[len(lines)-10:]
		}
		t.Logf("last console lines:\n%s", strings.Join(lines, ""))
	}
}
