package e2e

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
	"github.com/extbridge/extbridge/extfixtures"
	"github.com/extbridge/extbridge/internal/driverinternal"
)

// rejections counts the Hub's "rejected a wire connection" log records.
var rejections atomic.Int64

type rejectCounter struct{ slog.Handler }

func (h rejectCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h rejectCounter) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "rejected a wire connection") {
		rejections.Add(1)
	}
	return nil
}
func (h rejectCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h rejectCounter) WithGroup(string) slog.Handler      { return h }

var hostileDir = sync.OnceValues(func() (string, error) {
	// Next to the other fixtures, in the folder TestMain removes.
	return extfixtures.Materialize("hostile", filepath.Dir(fixtureDirs[0]))
})

// hostileBrowser is the shared browser with the echo and hostile fixtures,
// whose Hub logs into rejectCounter.
func hostileBrowser(t *testing.T, kind driver.Kind) (b *driver.Browser, echo, hostile *bridge.Extension) {
	t.Helper()
	dir, err := hostileDir()
	if err != nil {
		t.Fatal(err)
	}
	b = drivertest.Shared(t, driver.Options{Browser: kind, Extensions: []string{fixtureDir(t, "echo"), dir},
		Logger: slog.New(rejectCounter{})})
	return b, b.Extensions()[0], b.Extensions()[1]
}

// hostileReport is what hostile.html achieved.
type hostileReport struct {
	WSOpened        int            `json:"wsOpened"`
	WSMessages      int            `json:"wsMessages"`
	WSCloseCodes    map[string]int `json:"wsCloseCodes"`
	Guesses         int            `json:"guesses"`
	Scanned         int            `json:"scanned"`
	ScanOpen        []int          `json:"scanOpen"`
	FetchReadable   int            `json:"fetchReadable"`
	FetchOpaque     int            `json:"fetchOpaque"`
	FetchFailed     int            `json:"fetchFailed"`
	BridgeFilesRead int            `json:"bridgeFilesRead"`
	BridgeScriptRun int            `json:"bridgeScriptsRun"`
	Forged          int            `json:"forged"`
	Tampered        []string       `json:"tampered"`
	TamperHits      map[string]int `json:"tamperHits"`
	SymbolVisible   bool           `json:"symbolVisible"`
	Errors          []string       `json:"errors"`
}

// A hostile page that knows the wire's port and the extension's origin
// scans, guesses tokens, forges bridge events and tampers with every
// global a content-script bridge might touch: it reads nothing, the Hub
// rejects and logs every attempt, no forged event reaches Go, and the
// ports keep working.
func TestHostilePage(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b, echo, _ := hostileBrowser(t, kind)
		ctx := drivertest.Context(t)
		// A port that is open before the attack.
		before := connect(t, contentScript(t, echo, drivertest.NewTab(t, b, pagesURL+"index.html"), 0), "before-attack")
		post(t, before, "before")
		drivertest.RecvMatch(t, before, `"before"`)

		// What the attacker is assumed to know: the port and the origin.
		js, err := os.ReadFile(filepath.Join(driverinternal.Root(b), "ext-0", "__extbridge", "content.js"))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`ws://127\.0\.0\.1:(\d+)/`).FindSubmatch(js)
		if m == nil {
			t.Fatal("no wire URL in the bridge script")
		}
		var origin string
		if err := background(t, echo).Eval(ctx, `(globalThis.browser ?? chrome).runtime.getURL("").replace(/\/$/, "")`, &origin); err != nil {
			t.Fatal(err)
		}
		w := drivertest.Watch(t, echo)
		rejected0 := rejections.Load()
		page := pagesURL + "hostile.html?" + url.Values{"port": {string(m[1])}, "ext": {origin}}.Encode()
		tab := drivertest.NewTab(t, b, page)
		cs := contentScript(t, echo, tab, 0)
		var raw string
		err = cs.Eval(ctx, `new Promise((resolve) => {
			const el = document.querySelector("#report");
			const check = () => { if (el.hasAttribute("data-done")) { resolve(el.textContent); return true; } return false; };
			if (!check()) new MutationObserver(check).observe(el, {attributes: true});
		})`, &raw)
		if err != nil {
			t.Fatal(err)
		}
		var rep hostileReport
		if err := json.Unmarshal([]byte(raw), &rep); err != nil {
			t.Fatalf("report %q: %v", raw, err)
		}
		t.Logf("%s: hostile page report: %s", kind, raw)
		if rep.WSOpened == 0 {
			t.Errorf("the page never reached the wire's port, so the test proves nothing: %+v", rep)
		}
		if rep.WSMessages != 0 {
			t.Errorf("the wire sent %d frames to the page", rep.WSMessages)
		}
		for code, n := range rep.WSCloseCodes {
			switch code {
			case "1008", "1009", "1006", "1005", "1000": // refused, too big, reset, closed by the page itself
			default:
				t.Errorf("%d connections closed with code %s", n, code)
			}
		}
		if rep.FetchReadable != 0 || rep.BridgeFilesRead != 0 || rep.BridgeScriptRun != 0 || rep.SymbolVisible {
			t.Errorf("the page read something: %+v", rep)
		}
		if len(rep.TamperHits) != 0 {
			t.Errorf("the bridge called the page's tampered globals: %v", rep.TamperHits)
		}
		if len(rep.ScanOpen) != 1 {
			t.Errorf("open ports found by the scan = %v, want only the wire's", rep.ScanOpen)
		}
		// Every connection that sent something was rejected and logged:
		// the guesses, the forged frames and the oversized frame.
		if got := rejections.Load() - rejected0; got < int64(rep.Guesses) {
			t.Errorf("the Hub logged %d rejected connections, want at least %d", got, rep.Guesses)
		} else {
			t.Logf("%s: the Hub logged %d rejected connections (%d attempts with frames)", kind, got, rep.Guesses)
		}

		// Ports keep working: the one from before, new ones in the hostile
		// page, both ways.
		post(t, before, "after")
		drivertest.RecvMatch(t, before, `"after"`)
		p := connect(t, cs, "in-hostile-page")
		post(t, p, map[string]string{"still": "works"})
		drivertest.RecvMatch(t, p, `{"still":"works"}`)
		tp, err := background(t, echo).TabsConnect(ctx, tab.ID(), bridge.ConnectInfo{Name: "to-hostile-page"})
		if err != nil {
			t.Fatal(err)
		}
		defer tp.Disconnect()
		post(t, tp, "to the page")
		drivertest.RecvMatch(t, tp, `"to the page"`)
		// The bridge still never called the page's globals.
		var hits string
		if err := cs.Eval(ctx, `document.querySelector("#report").getAttribute("data-hits")`, &hits); err != nil {
			t.Fatal(err)
		}
		if hits != "{}" {
			t.Errorf("the bridge called the page's tampered globals while ports ran: %s", hits)
		}
		// Nothing the page forged reached Go.
		for {
			c, cancel := context.WithCancel(context.Background())
			cancel()
			ev, err := w.Next(c)
			if err != nil {
				break
			}
			if strings.Contains(ev.String(), "forged") {
				t.Errorf("a forged event reached Go: %s", ev)
			}
		}
	})
}

// An extension that wraps runtime.connect and tabs.connect itself,
// replaces the globals a bridge might use, and throws in every listener:
// the bridge still reports its own ports, and Go's ports work.
func TestHostileExtension(t *testing.T) {
	drivertest.Run(t, func(t *testing.T, kind driver.Kind) {
		b, _, ext := hostileBrowser(t, kind)
		ctx := drivertest.Context(t)
		page := "index.html?" + url.QueryEscape(unique(t))
		tab := drivertest.NewTab(t, b, pagesURL+page)
		w := drivertest.Watch(t, ext)

		// Its content script connected through its own wrapper: both ends
		// are reported, and the message it posted too.
		// Events are in order within a realm only, so both are awaited at once.
		var csEnd *bridge.Port
		greeted := false
		greeting := inRealm("background", "hostile-cs", false, `{"greeting":"from the hostile content script"}`)
		drivertest.WaitEvent(t, w, "the content script opening hostile-cs and the background receiving its greeting", func(ev bridge.Event) bool {
			if ev.Kind == bridge.EventOpen && ev.Realm.Kind == "content" && ev.Name == "hostile-cs" && ev.Realm.URL == pagesURL+page && !ev.ByGo {
				csEnd = ev.Port
			}
			if greeting(ev) && ev.Port.Sender() != nil && ev.Port.Sender().Tab != nil && ev.Port.Sender().Tab.ID == tab.ID() {
				greeted = true
			}
			return csEnd != nil && greeted
		})

		// Go as the content script: the background echoes, then throws.
		cs := contentScript(t, ext, tab, 0)
		p := connect(t, cs, "go-to-hostile-bg")
		for i := range 3 {
			post(t, p, map[string]int{"n": i})
			drivertest.RecvMatch(t, p, `{"n":`+string(rune('0'+i))+`}`)
		}
		// Go as the background: the content script echoes, then throws.
		bg := background(t, ext)
		tp, err := bg.TabsConnect(ctx, tab.ID(), bridge.ConnectInfo{Name: "go-to-hostile-cs"})
		if err != nil {
			t.Fatal(err)
		}
		defer tp.Disconnect()
		post(t, tp, "ping")
		drivertest.RecvMatch(t, tp, `"ping"`)
		// Go as a listener next to the throwing ones.
		l, err := bg.Listen(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		q := connect(t, cs, "accepted-next-to-throwers")
		acc := acceptWhere(t, l, "accepted-next-to-throwers", named("accepted-next-to-throwers"))
		post(t, acc, "from Go's listener")
		drivertest.RecvMatch(t, q, `"from Go's listener"`)
		// Go speaks for the extension's own content-script port.
		post(t, csEnd, map[string]string{"greeting": "Go as hostile-cs"})
		drivertest.WaitEvent(t, w, "the background receiving Go's message on hostile-cs",
			inRealm("background", "hostile-cs", false, `{"greeting":"Go as hostile-cs"}`))
		drivertest.RecvMatch(t, csEnd, `{"greeting":"Go as hostile-cs"}`) // the echo
		// Disconnects still reach Go through the throwing onDisconnect.
		if err := p.Disconnect(); err != nil {
			t.Fatal(err)
		}
		drivertest.WaitEvent(t, w, "the background's end of go-to-hostile-bg ending", func(ev bridge.Event) bool {
			return ev.Kind == bridge.EventDisconnect && ev.Realm.Kind == "background" && ev.Port.Name() == "go-to-hostile-bg"
		})
		// Eval does not trust the realm's replaced JSON.
		var got []int
		if err := bg.Eval(ctx, `[1, 2]`, &got); err != nil || len(got) != 2 {
			t.Errorf("background Eval with JSON replaced = %v, %v", got, err)
		}
		if err := cs.Eval(ctx, `Promise.resolve([3])`, &got); err != nil || len(got) != 1 || got[0] != 3 {
			t.Errorf("content Eval with JSON replaced = %v, %v", got, err)
		}
	})
}
