package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bench/internal/benchkit"
	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
	"github.com/extbridge/extbridge/internal/bidi"
)

// controlWarm is how many rounds of BenchmarkControl run untimed first.
const controlWarm = 2

// BenchmarkControl times the control calls a test makes around its ports,
// in the benchmark extension's extbridge browser, one of each per iteration
// (so that the calls interleave and a noisy moment hits them all), and
// reports the median of each over the iterations:
//
//   - newtab-ms: NewTab at index.html, loaded, with its tab id;
//   - evalbg-ms: Eval of a small expression in the background;
//   - evalcs-ms: ContentScript(tab, 0) of that new tab, then one Eval in it;
//   - evalcs-again-ms: a second Eval through the same Context;
//   - close-ms: Tab.Close of that tab;
//   - typical-ms: a typical test, timed as a whole: NewTab, Background and
//     an Eval there, ContentScript and an Eval there, Connect to the
//     background and one round trip, Disconnect, Close; typical-STEP-ms
//     are the medians of its steps (newtab, evalbg, evalcs, connect,
//     roundtrip, close);
//   - stop-ms and wake-ms: StopBackground (returns once the worker's bridge
//     is gone), then Background (wakes it; returns once its bridge is
//     connected) and an Eval there.
//
// In Firefox, where Puppeteer cannot load extensions, each round also
// times the same calls' floor in a Firefox without extbridge (the
// benchmark extension installed as it is), straight over WebDriver BiDi:
// floor-newtab-ms is browsingContext.create and browsingContext.navigate
// to the page, waiting for its load; floor-eval-ms a script.evaluate in the
// page (BiDi reaches no extension realm), floor-eval-again-ms a second one
// there; floor-close-ms browsingContext.close.
//
// The Puppeteer peer (bench/peer) does the same calls its own way.
func BenchmarkControl(b *testing.B) {
	e := newEnv(b)
	for _, kind := range drivertest.Browsers() {
		b.Run(string(kind), func(b *testing.B) {
			br := e.browser(b, kind)
			ext := br.Extensions()[0]
			page := e.srv.URL() + "index.html"
			ctx := ctxFor(b)
			bg, err := ext.Background(ctx)
			if err != nil {
				b.Fatal(err)
			}
			metrics := map[string][]float64{}
			timed := func(name string, f func() error) {
				b.Helper()
				t0 := time.Now()
				if err := f(); err != nil {
					b.Fatalf("%s: %v", name, err)
				}
				metrics[name] = append(metrics[name], ms(time.Since(t0)))
			}
			var floor *bareFirefox
			if kind == driver.Firefox {
				floor = e.bare(b, kind).(*bareFirefox)
			}
			round := func() {
				if floor != nil {
					floorRound(ctx, floor, page, timed)
				}
				var tab *driver.Tab
				timed("newtab-ms", func() (err error) {
					tab, err = br.NewTab(ctx, page)
					return err
				})
				timed("evalbg-ms", func() error {
					var n int
					return bg.Eval(ctx, "20 + 22", &n)
				})
				var cs *bridge.Context
				timed("evalcs-ms", func() (err error) {
					if cs, err = ext.ContentScript(ctx, tab.ID(), 0); err != nil {
						return err
					}
					var s string
					return cs.Eval(ctx, "document.title", &s)
				})
				timed("evalcs-again-ms", func() error {
					var s string
					return cs.Eval(ctx, "location.href", &s)
				})
				timed("close-ms", func() error { return tab.Close(ctx) })
				timed("typical-ms", func() error {
					return typicalTest(ctx, br, ext, page, func(name string, d time.Duration) {
						metrics["typical-"+name+"-ms"] = append(metrics["typical-"+name+"-ms"], ms(d))
					})
				})
				timed("stop-ms", func() error { return ext.StopBackground(ctx) })
				timed("wake-ms", func() error {
					bg, err := ext.Background(ctx)
					if err != nil {
						return err
					}
					var n int
					return bg.Eval(ctx, "20 + 22", &n)
				})
			}
			for range controlWarm {
				round()
			}
			clear(metrics)
			b.ResetTimer()
			for range b.N {
				round()
			}
			b.StopTimer()
			for k, v := range metrics {
				b.ReportMetric(benchkit.Median(v), k)
			}
		})
	}
}

// floorRound times the floor of NewTab, Eval and Close in a Firefox
// without extbridge, over BiDi.
func floorRound(ctx context.Context, f *bareFirefox, page string, timed func(string, func() error)) {
	c := f.p.BiDi()
	var id string
	timed("floor-newtab-ms", func() (err error) {
		if id, err = c.BrowsingContextCreate(ctx, bidi.CreateParams{Type: "tab"}); err != nil {
			return err
		}
		_, err = c.BrowsingContextNavigate(ctx, bidi.NavigateParams{Context: id, URL: page, Wait: "complete"})
		return err
	})
	timed("floor-eval-ms", func() error {
		v, err := c.ScriptEvaluate(ctx, bidi.EvaluateParams{Expression: "20 + 22", Target: bidi.Target{Context: id}, AwaitPromise: true})
		if err == nil && v.Type != "number" {
			err = fmt.Errorf("script.evaluate gave a %s", v.Type)
		}
		return err
	})
	timed("floor-eval-again-ms", func() error {
		_, err := c.ScriptEvaluate(ctx, bidi.EvaluateParams{Expression: "location.href", Target: bidi.Target{Context: id}, AwaitPromise: true})
		return err
	})
	timed("floor-close-ms", func() error { return c.BrowsingContextClose(ctx, id) })
}

// typicalTest is what an e2e test of an extension does around its ports:
// open a tab, look at the background and the content script, one port
// round trip, close the tab.
//
// step, if not nil, is called after each step with its name and duration.
func typicalTest(ctx context.Context, br *driver.Browser, ext *bridge.Extension, page string, step func(string, time.Duration)) error {
	t0 := time.Now()
	mark := func(name string) {
		if step != nil {
			step(name, time.Since(t0))
		}
		t0 = time.Now()
	}
	tab, err := br.NewTab(ctx, page)
	mark("newtab")
	if err != nil {
		return err
	}
	defer tab.Close(ctx)
	bg, err := ext.Background(ctx)
	if err != nil {
		return err
	}
	var n int
	if err := bg.Eval(ctx, "20 + 22", &n); err != nil {
		return err
	}
	mark("evalbg")
	cs, err := ext.ContentScript(ctx, tab.ID(), 0)
	if err != nil {
		return err
	}
	var s string
	if err := cs.Eval(ctx, "document.title", &s); err != nil {
		return err
	}
	mark("evalcs")
	p, err := cs.Connect(ctx, bridge.ConnectInfo{Name: "typical"})
	if err != nil {
		return err
	}
	mark("connect")
	if err := roundTrip(ctx, p, 1); err != nil {
		return err
	}
	mark("roundtrip")
	if err := p.Disconnect(); err != nil {
		return err
	}
	if err := tab.Close(ctx); err != nil {
		return err
	}
	mark("close")
	return nil
}
