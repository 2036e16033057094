package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
	"github.com/extbridge/extbridge/extfixtures"
)

// testHost is the made-up host the proxy serves the test pages at.
const testHost = "extbridge-test.invalid"

// countingProxy is a loopback HTTP proxy that serves the test pages at
// http://extbridge-test.invalid/ and records every other request: an HTTP
// request for another host, or a CONNECT (HTTPS, WebSockets) anywhere. It
// answers those with 502, so nothing leaves the machine.
type countingProxy struct {
	ln    net.Listener
	pages http.Handler

	mu     sync.Mutex
	others []string
	served int
}

func startProxy(t *testing.T) *countingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln, pages: extfixtures.PagesHandler()}
	srv := &http.Server{Handler: p}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

func (p *countingProxy) addr() string { return p.ln.Addr().String() }

func (p *countingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect || r.URL.Host != testHost {
		p.mu.Lock()
		body, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		p.others = append(p.others, fmt.Sprintf("%s %s %s", r.Method, r.Host+r.URL.Path, body))
		p.mu.Unlock()
		http.Error(w, "extbridge's test proxy lets nothing out", http.StatusBadGateway)
		return
	}
	p.mu.Lock()
	p.served++
	p.mu.Unlock()
	p.pages.ServeHTTP(w, r)
}

// report is what the proxy saw.
func (p *countingProxy) report() (served int, others []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.served, append([]string(nil), p.others...)
}

// proxied returns launch options that send every request but loopback
// through the proxy.
func proxied(kind driver.Kind, p *countingProxy, exts []string) driver.Options {
	opts := driver.Options{Browser: kind, Extensions: exts}
	host, port, _ := strings.Cut(p.addr(), ":")
	if kind == driver.Firefox {
		var n int
		fmt.Sscan(port, &n)
		opts.Prefs = map[string]any{
			"network.proxy.type":                 1,
			"network.proxy.http":                 host,
			"network.proxy.http_port":            n,
			"network.proxy.ssl":                  host,
			"network.proxy.ssl_port":             n,
			"network.proxy.share_proxy_settings": true,
		}
	} else {
		opts.Args = []string{"--proxy-server=http://" + p.addr()}
	}
	return opts
}

// A test browser makes no request the test did not ask for: a whole session
// (launch, tabs, content scripts, ports, the action and its popup, an
// extension page, a service worker stop and wake, close) through a proxy
// that counts what goes out sees only the test's own pages.
func TestHermeticBrowser(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		p := startProxy(t)
		b := drivertest.Launch(t, proxied(kind, p, []string{fixtureDir(t, "pingpong"), fixtureDir(t, "extpages")}))
		ping, pages := b.Extensions()[0], b.Extensions()[1]
		ctx := drivertest.Context(t)
		tab := drivertest.NewTab(t, b, "http://"+testHost+"/index.html")
		cs, err := ping.ContentScript(ctx, tab.ID(), 0)
		if err != nil {
			t.Fatal(err)
		}
		port, err := cs.Connect(ctx, bridge.ConnectInfo{Name: "port-from-cs"})
		if err != nil {
			t.Fatal(err)
		}
		drivertest.RecvMatch(t, port, `{"greeting":"hi there content script!"}`)
		drivertest.Click(t, tab, "#content")
		if err := tab.ClickAction(ctx, pages); err != nil {
			t.Fatal(err)
		}
		if _, err := pages.Popup(ctx); err != nil {
			t.Fatal(err)
		}
		drivertest.OpenPage(t, b, pages, "options.html")
		if err := ping.StopBackground(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := ping.Background(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil { // the whole session, start to end
			t.Fatal(err)
		}
		served, others := p.report()
		if served == 0 {
			t.Fatal("the test page did not go through the proxy; the test measures nothing")
		}
		if len(others) > 0 {
			t.Errorf("the browser made %d requests the test did not ask for:\n  %s", len(others), strings.Join(others, "\n  "))
		}
	})
}
