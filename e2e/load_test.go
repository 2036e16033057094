package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// Load: loadPorts ports at once; on each, Go posts loadEchoes messages and
// the extension echoes each back (Go -> realm -> other end -> realm -> Go),
// so every port carries 2*loadEchoes messages, half each way; one sender
// and one receiver goroutine per port. Half the ports are runtime.connect
// from a content script (the background echoes), half tabs.connect from the
// background (the content script echoes). EXTBRIDGE_LOAD_ECHOES changes
// loadEchoes.
const loadPorts = 100

var loadEchoes = func() int {
	if n, err := strconv.Atoi(os.Getenv("EXTBRIDGE_LOAD_ECHOES")); err == nil && n > 0 {
		return n
	}
	return 1000
}()

type loadMsg struct {
	Port int `json:"port"`
	N    int `json:"n"`
}

// loadBrowser is a browser of its own with the echo fixture, so the load
// does not share a browser with the rest of the suite.
func loadBrowser(t *testing.T, kind driver.Kind) (*driver.Browser, *bridge.Extension) {
	t.Helper()
	b := drivertest.Shared(t, driver.Options{Browser: kind, Extensions: []string{fixtureDir(t, "echo")}})
	return b, b.Extensions()[0]
}

func TestLoadManyPorts(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b, ext := loadBrowser(t, kind)
		tab := drivertest.NewTab(t, b, pagesURL+"index.html?"+unique(t))
		ctx := drivertest.Context(t)
		cs := contentScript(t, ext, tab, 0)
		bg := background(t, ext)
		ports := make([]*bridge.Port, loadPorts)
		for i := range ports {
			name := fmt.Sprintf("load-%d", i)
			var p *bridge.Port
			var err error
			if i%2 == 0 {
				p, err = cs.Connect(ctx, bridge.ConnectInfo{Name: name})
			} else {
				p, err = bg.TabsConnect(ctx, tab.ID(), bridge.ConnectInfo{Name: name})
			}
			if err != nil {
				t.Fatal(err)
			}
			ports[i] = p
			defer p.Disconnect()
		}
		// Generous: the point is that nothing is lost, not the speed.
		lctx, cancel := context.WithTimeout(context.Background(), 3*drivertest.Timeout)
		defer cancel()
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var lost, reordered, misdelivered, sendErrs int
		var firstErr error
		fail := func(n *int, err error) {
			mu.Lock()
			*n++
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
		for i, p := range ports {
			wg.Add(2)
			go func() {
				defer wg.Done()
				for n := range loadEchoes {
					if err := p.PostMessage(lctx, loadMsg{Port: i, N: n}); err != nil {
						fail(&sendErrs, fmt.Errorf("port %d: PostMessage %d: %w", i, n, err))
						return
					}
				}
			}()
			go func() {
				defer wg.Done()
				for want := 0; want < loadEchoes; {
					raw, err := p.Recv(lctx)
					if err != nil {
						fail(&lost, fmt.Errorf("port %d: %d of %d messages arrived: %w", i, want, loadEchoes, err))
						lost += loadEchoes - want - 1
						return
					}
					var m loadMsg
					if err := json.Unmarshal(raw, &m); err != nil {
						fail(&misdelivered, fmt.Errorf("port %d: bad message %s", i, raw))
						continue
					}
					switch {
					case m.Port != i:
						fail(&misdelivered, fmt.Errorf("port %d got a message of port %d", i, m.Port))
					case m.N != want:
						fail(&reordered, fmt.Errorf("port %d: message %d arrived when %d was due", i, m.N, want))
						want = m.N + 1
					default:
						want++
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		total := loadPorts * loadEchoes
		t.Logf("%s: %d ports x %d messages (%d posted by Go, each echoed back) in %s: %.0f messages/s; lost %d, reordered %d, misdelivered %d, post errors %d",
			kind, loadPorts, 2*loadEchoes, total, elapsed.Round(time.Millisecond), 2*float64(total)/elapsed.Seconds(), lost, reordered, misdelivered, sendErrs)
		if firstErr != nil {
			t.Fatalf("lost %d, reordered %d, misdelivered %d, post errors %d; first: %v", lost, reordered, misdelivered, sendErrs, firstErr)
		}
		// Nothing more arrives: every port's queue is empty.
		for i, p := range ports {
			c, cancel := context.WithCancel(context.Background())
			cancel()
			if m, err := p.Recv(c); err == nil {
				t.Errorf("port %d: an extra message arrived: %s", i, m)
			}
		}
	})
}

// Large messages arrive intact; one above the browser's limit is a clear
// error at once, and the port keeps working.
func TestLoadLargeMessages(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b, ext := loadBrowser(t, kind)
		tab := drivertest.NewTab(t, b, pagesURL+"index.html?"+unique(t))
		p := connect(t, contentScript(t, ext, tab, 0), "large")
		ctx := drivertest.Context(t)
		for _, size := range []int{1 << 20, 16 << 20} {
			msg := map[string]string{"blob": pattern(size)}
			start := time.Now()
			if err := p.PostMessage(ctx, msg); err != nil {
				t.Fatalf("PostMessage(%d bytes): %v", size, err)
			}
			raw, err := p.Recv(ctx)
			if err != nil {
				t.Fatalf("Recv(%d bytes): %v", size, err)
			}
			var got map[string]string
			if err := json.Unmarshal(raw, &got); err != nil || got["blob"] != msg["blob"] {
				t.Fatalf("the %d-byte message came back changed (%d bytes)", size, len(raw))
			}
			t.Logf("%s: %d MiB round trip intact in %s", kind, size>>20, time.Since(start).Round(time.Millisecond))
		}
		// Above the limit (64 MiB): an error that says so, at once.
		huge := strings.Repeat("x", 64<<20+1)
		start := time.Now()
		err := p.PostMessage(ctx, huge)
		if err == nil || !strings.Contains(err.Error(), "more than the") {
			t.Fatalf("PostMessage(64 MiB + 1) = %v, want an error about the size", err)
		}
		if errors.Is(err, bridge.ErrDisconnected) {
			t.Fatalf("the port ended: %v", err)
		}
		t.Logf("%s: 64 MiB + 3 bytes refused in %s: %v", kind, time.Since(start).Round(time.Millisecond), err)
		post(t, p, "still works")
		drivertest.RecvMatch(t, p, `"still works"`)
	})
}

// pattern is n bytes of printable ASCII that differ along the way, so a
// truncated, shifted or duplicated chunk shows.
func pattern(n int) string {
	var b strings.Builder
	b.Grow(n)
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%08x|", i)
	}
	return b.String()[:n]
}
