package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/extbridge/extbridge/bench/internal/benchkit"
	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// TestMain checks for leaks. It launches nothing itself: only the Benchmark
// functions start browsers, so `go test ./...` runs the unit tests alone.
func TestMain(m *testing.M) { drivertest.Main(m) }

// benchTimeout bounds each browser operation of a benchmark.
const benchTimeout = 3 * time.Minute

// env holds what the sub-benchmarks of one Benchmark function share: the
// server, the benchmark extension and one browser per kind. Everything is
// made on first use and ends with the parent benchmark, so the body of a
// sub-benchmark, which testing calls more than once, launches nothing twice.
type env struct {
	parent *testing.B
	mu     sync.Mutex
	dir    string
	ext    string
	srv    *benchkit.Server
	live   map[string]any
}

func newEnv(b *testing.B) *env {
	e := &env{parent: b, live: map[string]any{}}
	b.Cleanup(e.close)
	return e
}

func (e *env) close() {
	for k, v := range e.live {
		switch v := v.(type) {
		case *driver.Browser:
			if err := v.Close(); err != nil {
				e.parent.Errorf("closing %s: %v", k, err)
			}
		case interface{ Close() error }:
			if err := v.Close(); err != nil {
				e.parent.Errorf("closing %s: %v", k, err)
			}
		}
	}
	if e.srv != nil {
		e.srv.Close()
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// setup makes the folder, the extension and the server once.
func (e *env) setup(b *testing.B) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv != nil {
		return
	}
	dir, err := os.MkdirTemp("", "extbridge-bench-")
	if err != nil {
		b.Fatal(err)
	}
	e.dir = dir
	if e.ext, err = benchkit.Extension(dir); err != nil {
		b.Fatal(err)
	}
	if e.srv, err = benchkit.NewServer(); err != nil {
		b.Fatal(err)
	}
}

// get returns the value under key, making it with mk on first use.
func get[T any](b *testing.B, e *env, key string, mk func() (T, error)) T {
	b.Helper()
	e.setup(b)
	e.mu.Lock()
	v, ok := e.live[key]
	e.mu.Unlock()
	if ok {
		return v.(T)
	}
	t, err := mk()
	if err != nil {
		b.Fatalf("%s: %v", key, err)
	}
	e.mu.Lock()
	e.live[key] = t
	e.mu.Unlock()
	return t
}

func ctxFor(b *testing.B) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), benchTimeout)
	b.Cleanup(cancel)
	return ctx
}

// browser is an extbridge browser with the benchmark extension.
func (e *env) browser(b *testing.B, kind driver.Kind) *driver.Browser {
	return get(b, e, "extbridge "+string(kind), func() (*driver.Browser, error) {
		return driver.Launch(ctxFor(b), driver.Options{Browser: kind, Extensions: []string{e.ext}})
	})
}

// contentScript is Go acting as the benchmark extension's content script in
// a tab at index.html of an extbridge browser.
func (e *env) contentScript(b *testing.B, kind driver.Kind) *bridge.Context {
	br := e.browser(b, kind)
	type tabCS struct {
		cs *bridge.Context
	}
	v := get(b, e, "cs "+string(kind), func() (*tabCS, error) {
		ctx := ctxFor(b)
		tab, err := br.NewTab(ctx, e.srv.URL()+"index.html")
		if err != nil {
			return nil, err
		}
		cs, err := br.Extensions()[0].ContentScript(ctx, tab.ID(), 0)
		if err != nil {
			return nil, err
		}
		return &tabCS{cs}, nil
	})
	return v.cs
}

// ports opens n ports from Go's content script to the echoing background.
func (e *env) ports(b *testing.B, kind driver.Kind, n int) []*bridge.Port {
	return get(b, e, fmt.Sprintf("ports %s %d", kind, n), func() ([]*bridge.Port, error) {
		cs := e.contentScript(b, kind)
		var ps []*bridge.Port
		for i := range n {
			p, err := cs.Connect(ctxFor(b), bridge.ConnectInfo{Name: fmt.Sprintf("go-%d-%d", n, i)})
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		// One round trip each, so the background has accepted them all.
		for i, p := range ps {
			if err := roundTrip(ctxFor(b), p, i); err != nil {
				return nil, err
			}
		}
		return ps, nil
	})
}

func roundTrip(ctx context.Context, p *bridge.Port, i int) error {
	if err := p.PostMessage(ctx, i); err != nil {
		return err
	}
	got, err := p.Recv(ctx)
	if err != nil {
		return err
	}
	if string(got) != strconv.Itoa(i) {
		return fmt.Errorf("echo of %d was %s", i, got)
	}
	return nil
}

// BenchmarkRoundTrip is Go → port → the background's echo → Go: Go acts as
// the content script, posts one message and waits for its echo. rtt-ms is
// the median over batches of benchkit.Batch round trips of the mean within a batch.
func BenchmarkRoundTrip(b *testing.B) {
	e := newEnv(b)
	for _, kind := range drivertest.Browsers() {
		b.Run(string(kind), func(b *testing.B) {
			p := e.ports(b, kind, 1)[0]
			ctx := ctxFor(b)
			for i := range 200 { // warm up
				if err := roundTrip(ctx, p, i); err != nil {
					b.Fatal(err)
				}
			}
			samples := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				if err := roundTrip(ctx, p, i); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(t0))
			}
			b.StopTimer()
			b.ReportMetric(ms(benchkit.BatchMedian(samples, benchkit.Batch)), "rtt-ms")
		})
	}
}

// BenchmarkPipelined posts bursts of benchkit.Burst messages at once, spread
// round-robin over 1 or 16 ports, and waits for every echo. msgs/s is the
// median over bursts; b.N is the number of messages.
func BenchmarkPipelined(b *testing.B) {
	e := newEnv(b)
	for _, kind := range drivertest.Browsers() {
		for _, n := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/ports=%d", kind, n), func(b *testing.B) {
				ps := e.ports(b, kind, n)
				ctx := ctxFor(b)
				burst := func(size int) time.Duration {
					t0 := time.Now()
					var wg sync.WaitGroup
					for j, p := range ps {
						want := size / n
						if j < size%n {
							want++
						}
						wg.Go(func() {
							for range want {
								if _, err := p.Recv(ctx); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					for i := range size {
						if err := ps[i%n].PostMessage(ctx, i); err != nil {
							b.Fatal(err)
						}
					}
					wg.Wait()
					return time.Since(t0)
				}
				burst(benchkit.Burst) // warm up
				b.ResetTimer()
				var rates []float64
				for left := b.N; left > 0; left -= benchkit.Burst {
					size := min(left, benchkit.Burst)
					d := burst(size)
					rates = append(rates, float64(size)/d.Seconds())
				}
				b.StopTimer()
				b.ReportMetric(benchkit.Median(rates), "msgs/s")
			})
		}
	}
}

// BenchmarkLaunch times Launch with the benchmark extension to ready (the
// background's bridge connected, which Launch waits for, and a first tab
// loaded) against a bare start of the same browser with no extension to its
// first page load. Each iteration does both, so drift hits both alike.
func BenchmarkLaunch(b *testing.B) {
	e := newEnv(b)
	for _, kind := range drivertest.Browsers() {
		b.Run(string(kind), func(b *testing.B) {
			e.setup(b)
			page := e.srv.URL() + "index.html"
			start := func(exts []string) time.Duration {
				ctx := ctxFor(b)
				t0 := time.Now()
				br, err := driver.Launch(ctx, driver.Options{Browser: kind, Extensions: exts})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := br.NewTab(ctx, page); err != nil {
					br.Close()
					b.Fatal(err)
				}
				d := time.Since(t0)
				if err := br.Close(); err != nil {
					b.Fatal(err)
				}
				return d
			}
			var ours, bare []float64
			b.ResetTimer()
			for range b.N {
				ours = append(ours, ms(start([]string{e.ext})))
				bare = append(bare, ms(start(nil)))
			}
			b.StopTimer()
			b.ReportMetric(benchkit.Median(ours), "launch-ms")
			b.ReportMetric(benchkit.Median(bare), "bare-ms")
		})
	}
}

// BenchmarkMemory opens 1,000 ports from Go's content script to the
// background and reports the Go heap they hold (live bytes after a GC).
func BenchmarkMemory(b *testing.B) {
	e := newEnv(b)
	for _, kind := range drivertest.Browsers() {
		b.Run(string(kind), func(b *testing.B) {
			cs := e.contentScript(b, kind)
			e.ports(b, kind, 1) // the event history and the wire are warm
			ctx := ctxFor(b)
			live := liveHeap
			var per []float64
			b.ResetTimer()
			for range b.N {
				before := live()
				ps := make([]*bridge.Port, 0, 1000)
				for i := range 1000 {
					p, err := cs.Connect(ctx, bridge.ConnectInfo{Name: "mem-" + strconv.Itoa(i)})
					if err != nil {
						b.Fatal(err)
					}
					ps = append(ps, p)
				}
				if err := roundTrip(ctx, ps[len(ps)-1], 1); err != nil {
					b.Fatal(err)
				}
				after := live()
				per = append(per, float64(int64(after)-int64(before))/1024)
				runtime.KeepAlive(ps)
				for _, p := range ps {
					p.Disconnect()
				}
			}
			b.StopTimer()
			b.ReportMetric(benchkit.Median(per), "KiB/1000ports")
		})
	}
}

// BenchmarkFloor is the browser's own cost, with no bridge: the benchmark
// extension loaded as it is into a browser started without extbridge, its
// content script timing the port to the background (port-*) and a
// WebSocket to a Go echo (wire-*). Each iteration runs the runner once.
func BenchmarkFloor(b *testing.B) {
	e := newEnv(b)
	for _, kind := range drivertest.Browsers() {
		b.Run(string(kind), func(b *testing.B) {
			runRunner(b, e, true, e.bare(b, kind).open)
		})
	}
}

// BenchmarkOverhead is the bridge's overhead on the extension's own port,
// measured in pairs: a browser without the bridge (as for BenchmarkFloor)
// and an extbridge browser, where the bridge reports every message to Go,
// stay open side by side, and each iteration runs the in-browser runner
// (port only, no wire) in one and then the other, the order alternating, so
// that both halves of a pair see the same machine. It reports the medians
// over the pairs of each figure (nobridge-*, bridge-*) and of the ratio
// within a pair: overhead-rtt is bridge ÷ no bridge, overhead-pipe-N no
// bridge ÷ bridge, so 1.10 means 10 % slower either way.
func BenchmarkOverhead(b *testing.B) {
	e := newEnv(b)
	for _, kind := range drivertest.Browsers() {
		b.Run(string(kind), func(b *testing.B) {
			bare := e.bare(b, kind)
			bridged := tabOpener(e.browser(b, kind))
			cfg := benchkit.DefaultRunner()
			metrics := map[string][]float64{}
			add := func(k string, v float64) { metrics[k] = append(metrics[k], v) }
			b.ResetTimer()
			for i := range b.N {
				var without, with *benchkit.Figures
				if i%2 == 0 {
					without = runOnce(b, e, cfg, false, bare.open).Port
					with = runOnce(b, e, cfg, false, bridged).Port
				} else {
					with = runOnce(b, e, cfg, false, bridged).Port
					without = runOnce(b, e, cfg, false, bare.open).Port
				}
				add("nobridge-rtt-ms", without.RTTms)
				add("bridge-rtt-ms", with.RTTms)
				add("overhead-rtt", with.RTTms/without.RTTms)
				for _, n := range cfg.Ports {
					k := strconv.Itoa(n)
					v0, v1 := without.Pipe[k], with.Pipe[k]
					if v0 == 0 || v1 == 0 {
						b.Fatalf("no pipelined rate on %d ports: %v without the bridge, %v with", n, v0, v1)
					}
					add("nobridge-msgs/s-"+k, v0)
					add("bridge-msgs/s-"+k, v1)
					add("overhead-pipe-"+k, v0/v1)
				}
			}
			b.StopTimer()
			for k, v := range metrics {
				b.ReportMetric(benchkit.Median(v), k)
			}
		})
	}
}

// bare is a browser without extbridge, with the benchmark extension loaded
// as it is.
func (e *env) bare(b *testing.B, kind driver.Kind) bareBrowser {
	return get(b, e, "bare "+string(kind), func() (bareBrowser, error) {
		return launchBare(ctxFor(b), kind, e.ext)
	})
}

// tabOpener opens the runner's pages in an extbridge browser.
func tabOpener(br *driver.Browser) func(ctx context.Context, url string) (func(), error) {
	return func(ctx context.Context, url string) (func(), error) {
		tab, err := br.NewTab(ctx, url)
		if err != nil {
			return nil, err
		}
		return func() { tab.Close(context.Background()) }, nil
	}
}

// runRunner opens the runner page b.N times with open and reports the
// medians of its figures.
func runRunner(b *testing.B, e *env, wire bool, open func(ctx context.Context, url string) (func(), error)) {
	cfg := benchkit.DefaultRunner()
	metrics := map[string][]float64{}
	add := func(prefix string, f *benchkit.Figures) {
		if f == nil {
			return
		}
		metrics[prefix+"-rtt-ms"] = append(metrics[prefix+"-rtt-ms"], f.RTTms)
		for n, v := range f.Pipe {
			k := prefix + "-msgs/s-" + n
			metrics[k] = append(metrics[k], v)
		}
	}
	b.ResetTimer()
	for range b.N {
		res := runOnce(b, e, cfg, wire, open)
		add("port", res.Port)
		add("wire", res.Wire)
	}
	b.StopTimer()
	for k, v := range metrics {
		b.ReportMetric(benchkit.Median(v), k)
	}
}

// runOnce opens the runner page with cfg (and the wire, if asked) with
// open, waits for its result and closes the tab.
func runOnce(b *testing.B, e *env, cfg benchkit.RunnerConfig, wire bool, open func(ctx context.Context, url string) (func(), error)) benchkit.RunnerResult {
	b.Helper()
	ctx := ctxFor(b)
	url, wait := e.srv.RunnerURL(cfg, wire)
	closeTab, err := open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	res, err := wait(ctx)
	closeTab()
	if err != nil {
		b.Fatal(err)
	}
	return res
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
