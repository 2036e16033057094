package bench

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/extbridge/extbridge/bench/internal/benchkit"
	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver/drivertest"
)

// watchFloodMessages and watchFloodSize make the traffic of
// BenchmarkWatchMemory: that many messages of that many bytes, each way.
const (
	watchFloodMessages = 40000
	watchFloodSize     = 2048
)

// BenchmarkWatchMemory is a Watch read with Next alone (no Recv on any
// port) while the extension's own port carries watchFloodMessages
// messages of watchFloodSize bytes each way (160 MiB in all, counting both
// directions): the Go heap's growth while it runs (heap-MiB), and after the
// port closed and the watch was closed (after-MiB). The peak is read
// without collecting garbage first, so it counts garbage too: an upper
// bound.
func BenchmarkWatchMemory(b *testing.B) {
	e := newEnv(b)
	for _, kind := range drivertest.Browsers() {
		b.Run(string(kind), func(b *testing.B) {
			cs := e.contentScript(b, kind)
			ext := e.browser(b, kind).Extensions()[0]
			ctx := ctxFor(b)
			live := liveHeap
			// heap reads the heap without collecting first (a collection
			// pauses the reader long enough for the watch to fall behind).
			heap := func() uint64 {
				var st runtime.MemStats
				runtime.ReadMemStats(&st)
				return st.HeapAlloc
			}
			var during, after []float64
			for i := range b.N {
				w, err := ext.Watch(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for { // catch up with the history first
					if _, ok := w.TryNext(); !ok {
						break
					}
				}
				before := live()
				name := fmt.Sprintf("flood-%d", i)
				// The extension's own code (here: code Go evaluates in its
				// content script) opens the port and floods it; the
				// background echoes every message.
				pump := fmt.Sprintf(`(() => {
  const api = globalThis.browser ?? globalThis.chrome;
  const p = api.runtime.connect({name: %q});
  const s = "x".repeat(%d);
  let got = 0;
  p.onMessage.addListener(() => { if (++got === %d) p.disconnect(); });
  for (let i = 0; i < %d; i++) p.postMessage(s);
  return true;
})()`, name, watchFloodSize, watchFloodMessages, watchFloodMessages)
				if err := cs.Eval(ctx, pump, nil); err != nil {
					b.Fatal(err)
				}
				var peak uint64
				seen, lost, ends := 0, 0, 0
				for ends < 2 { // both ends of the port report their disconnect
					ev, err := w.Next(ctx)
					if err != nil {
						b.Fatal(err)
					}
					switch {
					case ev.Kind == bridge.EventOverflow:
						lost += ev.Dropped
					case ev.Port == nil || ev.Port.Name() != name:
					case ev.Kind == bridge.EventMessage:
						seen++
						if seen%1000 == 0 {
							peak = max(peak, heap())
						}
					case ev.Kind == bridge.EventDisconnect:
						ends++
					}
				}
				peak = max(peak, heap())
				w.Close()
				end := live()
				during = append(during, float64(int64(peak)-int64(before))/(1<<20))
				after = append(after, float64(int64(end)-int64(before))/(1<<20))
				b.Logf("%s: %d message events seen, %d events lost by the watch; heap %+.1f MiB at the peak, %+.1f MiB after", kind, seen, lost, during[len(during)-1], after[len(after)-1])
			}
			b.ReportMetric(benchkit.Median(during), "heap-MiB")
			b.ReportMetric(benchkit.Median(after), "after-MiB")
		})
	}
}

// liveHeap is the Go heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	return st.HeapAlloc
}
