// Command benchtable reads the output of extbridge's benchmarks (go test
// -bench ./bench) and of the Puppeteer peer (bench/peer, JSON), and prints
// the comparison table in Markdown, then one line:
//
//	RESULT rtt_vs_floor=A rtt_vs_puppeteer=B tput_vs_inbrowser=C launch_vs_bare=D overhead=E
//
// for Chromium. Every figure is the median over the runs (one line per
// round, or -count) of the benchmark's own median. The bridge's overhead
// comes from BenchmarkOverhead, which runs the extension's own port with
// and without the bridge in pairs: overhead is its overhead-rtt (the median
// of bridge ÷ no bridge over the pairs) minus 1, and the overhead rows show
// its paired figures and ratios. BenchmarkFloor gives the floor of the
// other rows.
//
//	benchtable -go bench.txt -peer peer.json [-load "1.02 0.80 0.61"]
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/extbridge/extbridge/bench/internal/benchkit"
)

func main() {
	goFile := flag.String("go", "", "go test -bench output (several files: comma-separated)")
	peerFile := flag.String("peer", "", "the Puppeteer peer's JSON output (several runs: comma-separated)")
	load := flag.String("load", "", "load average when the run started")
	flag.Parse()
	res, err := parseBench(strings.Split(*goFile, ","))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	peer, err := readPeers(strings.Split(*peerFile, ","))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable: peer:", err)
	}
	printTable(os.Stdout, res, peer, *load)
}

// Peer is the Puppeteer peer's output.
type Peer struct {
	Puppeteer   string             `json:"puppeteer"`
	LaunchMs    float64            `json:"launch_ms"`
	LaunchExtMs float64            `json:"launch_ext_ms"` // with the extension, to its worker up and the first page loaded
	RTTms       float64            `json:"rtt_ms"`
	Pipe        map[string]float64 `json:"pipe"`
	Control     map[string]float64 `json:"control"` // the control calls, medians (BenchmarkControl's names, _ for -)
	UA          string             `json:"ua"`
	Error       string             `json:"error"`
}

// readPeers reads the peer's runs and combines them by median. A run may
// hold only some figures (the control calls run on their own, beside
// BenchmarkControl); each figure is the median of the runs that have it.
func readPeers(files []string) (Peer, error) {
	var out Peer
	vals := map[string][]float64{}
	add := func(k string, v float64) {
		if v > 0 {
			vals[k] = append(vals[k], v)
		}
	}
	for _, f := range files {
		if f == "" {
			continue
		}
		var p Peer
		data, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(data, &p)
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", f, err)
		}
		if p.Error != "" {
			out.Error = p.Error
			continue
		}
		out.Puppeteer = p.Puppeteer
		if p.UA != "" {
			out.UA = p.UA
		}
		add("launch", p.LaunchMs)
		add("launch_ext", p.LaunchExtMs)
		add("rtt", p.RTTms)
		add("pipe1", p.Pipe["1"])
		add("pipe16", p.Pipe["16"])
		for k, v := range p.Control {
			add("control "+k, v)
		}
	}
	med := func(k string) float64 { return benchkit.Median(vals[k]) }
	out.LaunchMs, out.LaunchExtMs, out.RTTms = med("launch"), med("launch_ext"), med("rtt")
	if len(vals["pipe1"]) > 0 {
		out.Pipe = map[string]float64{"1": med("pipe1"), "16": med("pipe16")}
	}
	for k := range vals {
		if name, ok := strings.CutPrefix(k, "control "); ok {
			if out.Control == nil {
				out.Control = map[string]float64{}
			}
			out.Control[name] = med(k)
		}
	}
	return out, nil
}

// Results maps "Benchmark/sub unit" to the values of each run.
type Results map[string][]float64

// Get returns the median value of a benchmark's metric, NaN when missing.
func (r Results) Get(name, unit string) float64 {
	v := r[name+" "+unit]
	if len(v) == 0 {
		return math.NaN()
	}
	return benchkit.Median(v)
}

// parseBench reads the standard benchmark format: a name, an iteration
// count, then value-unit pairs.
func parseBench(files []string) (Results, error) {
	res := Results{}
	for _, f := range files {
		if f == "" {
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		parseLines(fh, res)
		fh.Close()
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("no benchmark results in %v", files)
	}
	return res, nil
}

func parseLines(r io.Reader, res Results) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			key := name + " " + f[i+1]
			res[key] = append(res[key], v)
		}
	}
}

// Figures is one browser's figures.
type Figures struct {
	RTT, PortRTT, WireRTT float64
	Pipe1, Pipe16         float64
	Floor1, Floor16       float64
	Wire1, Wire16         float64
	Launch, Bare          float64
	MemKiB                float64
	Paired                Paired
	Control               map[string]float64 // BenchmarkControl's medians, by metric name without "-ms"
}

// controlMetrics are BenchmarkControl's metrics (each NAME-ms).
var controlMetrics = []string{
	"newtab", "evalbg", "evalcs", "evalcs-again", "close", "typical", "stop", "wake",
	"typical-newtab", "typical-evalbg", "typical-evalcs", "typical-connect", "typical-roundtrip", "typical-close",
	"floor-newtab", "floor-eval", "floor-eval-again", "floor-close",
}

// Paired is BenchmarkOverhead's figures: the extension's own port without
// and with the bridge, and the ratios within a pair.
type Paired struct {
	NoBridgeRTT, BridgeRTT        float64
	NoBridge1, NoBridge16         float64
	Bridge1, Bridge16             float64
	OverheadRTT                   float64 // bridge ÷ no bridge
	OverheadPipe1, OverheadPipe16 float64 // no bridge ÷ bridge
}

func figures(r Results, kind string) Figures {
	return Figures{
		RTT:     r.Get("BenchmarkRoundTrip/"+kind, "rtt-ms"),
		PortRTT: r.Get("BenchmarkFloor/"+kind, "port-rtt-ms"),
		WireRTT: r.Get("BenchmarkFloor/"+kind, "wire-rtt-ms"),
		Pipe1:   r.Get("BenchmarkPipelined/"+kind+"/ports=1", "msgs/s"),
		Pipe16:  r.Get("BenchmarkPipelined/"+kind+"/ports=16", "msgs/s"),
		Floor1:  r.Get("BenchmarkFloor/"+kind, "port-msgs/s-1"),
		Floor16: r.Get("BenchmarkFloor/"+kind, "port-msgs/s-16"),
		Wire1:   r.Get("BenchmarkFloor/"+kind, "wire-msgs/s-1"),
		Wire16:  r.Get("BenchmarkFloor/"+kind, "wire-msgs/s-16"),
		Launch:  r.Get("BenchmarkLaunch/"+kind, "launch-ms"),
		Bare:    r.Get("BenchmarkLaunch/"+kind, "bare-ms"),
		MemKiB:  r.Get("BenchmarkMemory/"+kind, "KiB/1000ports"),
		Control: control(r, kind),
		Paired: Paired{
			NoBridgeRTT:    r.Get("BenchmarkOverhead/"+kind, "nobridge-rtt-ms"),
			BridgeRTT:      r.Get("BenchmarkOverhead/"+kind, "bridge-rtt-ms"),
			NoBridge1:      r.Get("BenchmarkOverhead/"+kind, "nobridge-msgs/s-1"),
			NoBridge16:     r.Get("BenchmarkOverhead/"+kind, "nobridge-msgs/s-16"),
			Bridge1:        r.Get("BenchmarkOverhead/"+kind, "bridge-msgs/s-1"),
			Bridge16:       r.Get("BenchmarkOverhead/"+kind, "bridge-msgs/s-16"),
			OverheadRTT:    r.Get("BenchmarkOverhead/"+kind, "overhead-rtt"),
			OverheadPipe1:  r.Get("BenchmarkOverhead/"+kind, "overhead-pipe-1"),
			OverheadPipe16: r.Get("BenchmarkOverhead/"+kind, "overhead-pipe-16"),
		},
	}
}

// control reads BenchmarkControl's figures of one browser.
func control(r Results, kind string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range controlMetrics {
		out[m] = r.Get("BenchmarkControl/"+kind, m+"-ms")
	}
	return out
}

func num(v float64, unit string) string {
	switch {
	case math.IsNaN(v) || v == 0:
		return "—"
	case unit == "ms" && v < 10:
		return fmt.Sprintf("%.3f ms", v)
	case unit == "ms":
		return fmt.Sprintf("%.0f ms", v)
	case unit == "msgs/s":
		return fmt.Sprintf("%.0f /s", v)
	case unit == "KiB":
		return fmt.Sprintf("%.0f KiB", v)
	}
	return fmt.Sprintf("%.3g %s", v, unit)
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || a == 0 || b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// rtt is the overhead rows' round trip: bridge and no bridge, and the
// paired ratio bridge ÷ no bridge.
func (p Paired) rtt() (bridge, noBridge, ratio string) {
	return num(p.BridgeRTT, "ms"), num(p.NoBridgeRTT, "ms") + " (no bridge)", paired(p.OverheadRTT)
}

// pipe is the overhead rows' pipelined rates on 1 / 16 ports: bridge and
// no bridge, and the paired ratios bridge ÷ no bridge (the inverse of
// overhead-pipe-N, so that the column reads like the others).
func (p Paired) pipe() (bridge, noBridge, ratio string) {
	return num(p.Bridge1, "msgs/s") + " / " + num(p.Bridge16, "msgs/s"),
		num(p.NoBridge1, "msgs/s") + " / " + num(p.NoBridge16, "msgs/s") + " (no bridge)",
		paired(1/p.OverheadPipe1) + " / " + paired(1/p.OverheadPipe16)
}

// paired formats a ratio measured within pairs.
func paired(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", v)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func version(cmd string, args ...string) string {
	out, err := exec.Command(cmd, args...).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func printTable(w io.Writer, r Results, peer Peer, load string) {
	endLoad, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(w, "Run %s on %d cores; %s; %s; Puppeteer %s (puppeteer-core)\n",
		time.Now().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), version("chromium", "--version"), version("firefox-esr", "--version"), peer.Puppeteer)
	if load != "" {
		fmt.Fprintf(w, "Load average (1, 5, 15 min): %s at the start, %s at the end.\n", load, strings.Join(strings.Fields(string(endLoad))[:3], " "))
	}
	printFigures(w, r, peer)
}

// printFigures prints the tables, the targets and the RESULT line.
func printFigures(w io.Writer, r Results, peer Peer) {
	if peer.Error != "" {
		fmt.Fprintf(w, "\nThe Puppeteer peer failed: %s\n", peer.Error)
	}
	c := figures(r, "chromium")
	floorRTT := c.PortRTT + c.WireRTT
	fmt.Fprintf(w, "\n### Chromium (medians)\n\n")
	fmt.Fprintln(w, "| operation | extbridge | floor | Puppeteer | extbridge ÷ floor | Puppeteer ÷ extbridge |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	fmt.Fprintf(w, "| round trip Go → port → echo → Go | %s | %s (in-browser %s + wire %s) | %s | %s | %s |\n",
		num(c.RTT, "ms"), num(floorRTT, "ms"), num(c.PortRTT, "ms"), num(c.WireRTT, "ms"), num(peer.RTTms, "ms"), ratio(c.RTT, floorRTT), ratio(peer.RTTms, c.RTT))
	fmt.Fprintf(w, "| pipelined, 1 port | %s | %s (in-browser) | %s | %s | %s |\n",
		num(c.Pipe1, "msgs/s"), num(c.Floor1, "msgs/s"), num(peer.Pipe["1"], "msgs/s"), ratio(c.Pipe1, c.Floor1), ratio(peer.Pipe["1"], c.Pipe1))
	fmt.Fprintf(w, "| pipelined, 16 ports | %s | %s (in-browser) | %s | %s | %s |\n",
		num(c.Pipe16, "msgs/s"), num(c.Floor16, "msgs/s"), num(peer.Pipe["16"], "msgs/s"), ratio(c.Pipe16, c.Floor16), ratio(peer.Pipe["16"], c.Pipe16))
	fmt.Fprintf(w, "| launch to ready (worker up, bridge connected, first tab loaded) | %s | %s (bare start, first page) | %s (bare start, first page) | %s | %s |\n",
		num(c.Launch, "ms"), num(c.Bare, "ms"), num(peer.LaunchMs, "ms"), ratio(c.Launch, c.Bare), ratio(peer.LaunchMs, c.Launch))
	a, b, x := c.Paired.rtt()
	fmt.Fprintf(w, "| the extension's own port round trip, bridge installed (paired with no bridge) | %s | %s | | %s | |\n", a, b, x)
	a, b, x = c.Paired.pipe()
	fmt.Fprintf(w, "| the extension's own pipelined port, 1 / 16 ports, bridge installed (paired with no bridge) | %s | %s | | %s | |\n", a, b, x)
	fmt.Fprintf(w, "| the wire alone (content script ⇄ Go WebSocket echo), round trip; pipelined 1 / 16 | | %s; %s / %s | | | |\n",
		num(c.WireRTT, "ms"), num(c.Wire1, "msgs/s"), num(c.Wire16, "msgs/s"))
	fmt.Fprintf(w, "| Go heap per 1,000 open ports | %s | | | | |\n", num(c.MemKiB, "KiB"))

	printControl(w, c, peer)

	f := figures(r, "firefox")
	if !math.IsNaN(f.RTT) || !math.IsNaN(f.PortRTT) || !math.IsNaN(f.Paired.OverheadRTT) {
		ffFloor := f.PortRTT + f.WireRTT
		fmt.Fprintf(w, "\n### Firefox (medians; Puppeteer has no Firefox extension support to compare with)\n\n")
		fmt.Fprintln(w, "| operation | extbridge | floor | extbridge ÷ floor |")
		fmt.Fprintln(w, "| --- | --- | --- | --- |")
		fmt.Fprintf(w, "| round trip Go → port → echo → Go | %s | %s (in-browser %s + wire %s) | %s |\n",
			num(f.RTT, "ms"), num(ffFloor, "ms"), num(f.PortRTT, "ms"), num(f.WireRTT, "ms"), ratio(f.RTT, ffFloor))
		fmt.Fprintf(w, "| pipelined, 1 port | %s | %s (in-browser) | %s |\n", num(f.Pipe1, "msgs/s"), num(f.Floor1, "msgs/s"), ratio(f.Pipe1, f.Floor1))
		fmt.Fprintf(w, "| pipelined, 16 ports | %s | %s (in-browser) | %s |\n", num(f.Pipe16, "msgs/s"), num(f.Floor16, "msgs/s"), ratio(f.Pipe16, f.Floor16))
		fmt.Fprintf(w, "| launch to ready | %s | %s (bare start, first page) | %s |\n", num(f.Launch, "ms"), num(f.Bare, "ms"), ratio(f.Launch, f.Bare))
		a, b, x := f.Paired.rtt()
		fmt.Fprintf(w, "| the extension's own port round trip, bridge installed (paired with no bridge) | %s | %s | %s |\n", a, b, x)
		a, b, x = f.Paired.pipe()
		fmt.Fprintf(w, "| the extension's own pipelined port, 1 / 16 ports, bridge installed (paired with no bridge) | %s | %s | %s |\n", a, b, x)
		fmt.Fprintf(w, "| the wire alone, round trip; pipelined 1 / 16 | | %s; %s / %s | |\n", num(f.WireRTT, "ms"), num(f.Wire1, "msgs/s"), num(f.Wire16, "msgs/s"))
		fmt.Fprintf(w, "| Go heap per 1,000 open ports | %s | | |\n", num(f.MemKiB, "KiB"))
	}
	printFirefoxControl(w, f)

	rttFloor := c.RTT / floorRTT
	rttPptr := peer.RTTms / c.RTT
	tput := c.Pipe1 / c.Floor1
	launch := c.Launch / c.Bare
	overhead := c.Paired.OverheadRTT - 1
	fmt.Fprintf(w, "\n### Targets (Chromium)\n\n")
	fmt.Fprintf(w, "- round trip ≤ 1.25× the floor: %.2f× — %s\n", rttFloor, verdict(rttFloor <= 1.25))
	fmt.Fprintf(w, "- round trip ≥ 2.5× faster than Puppeteer: %.2f× — %s\n", rttPptr, verdict(rttPptr >= 2.5))
	fmt.Fprintf(w, "- pipelined ≥ 0.8× the in-browser throughput: %.2f× — %s\n", tput, verdict(tput >= 0.8))
	pp := c.Pipe1 / peer.Pipe["1"]
	fmt.Fprintf(w, "- pipelined ≥ 3× Puppeteer's: %.2f× — %s\n", pp, verdict(pp >= 3))
	fmt.Fprintf(w, "- launch to ready ≤ 1.3× a bare start: %.2f× — %s\n", launch, verdict(launch <= 1.3))
	fmt.Fprintf(w, "- bridge overhead on the extension's own round trip ≤ 10 %%: %+.0f %% — %s\n", overhead*100, verdict(overhead <= 0.10))
	pc := func(m string) float64 { return c.Control[m] / peer.Control[strings.ReplaceAll(m, "-", "_")+"_ms"] }
	for _, t := range controlTargets {
		v := pc(t.metric)
		fmt.Fprintf(w, "- %s ≤ %.1f× Puppeteer's: %.2f× — %s\n", t.what, t.max, v, verdict(v <= t.max))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "RESULT rtt_vs_floor=%.2f rtt_vs_puppeteer=%.2f tput_vs_inbrowser=%.2f launch_vs_bare=%.2f overhead=%.2f",
		rttFloor, rttPptr, tput, launch, overhead)
	for _, t := range controlTargets {
		fmt.Fprintf(w, " %s_vs_pptr=%.2f", strings.ReplaceAll(t.metric, "-", "_"), pc(t.metric))
	}
	fmt.Fprintf(w, " launch_vs_pptr=%.2f stop_vs_pptr=%.2f wake_vs_pptr=%.2f\n", c.Launch/peer.LaunchExtMs, pc("stop"), pc("wake"))
}

// controlTargets are issue 15's targets for the control calls, against
// Puppeteer's same calls in the same run.
var controlTargets = []struct {
	metric, what string
	max          float64
}{
	{"newtab", "new tab", 1.0},
	{"evalbg", "eval in the service worker", 1.0},
	{"evalcs", "ContentScript + eval in the content script", 1.0},
	{"close", "close the tab", 1.0},
	{"typical", "a typical test", 0.7},
}

// printControl prints the control calls of Chromium beside Puppeteer's.
func printControl(w io.Writer, c Figures, peer Peer) {
	if math.IsNaN(c.Control["newtab"]) && len(peer.Control) == 0 {
		return
	}
	pp := func(m string) float64 { return peer.Control[strings.ReplaceAll(m, "-", "_")+"_ms"] }
	fmt.Fprintf(w, "\n### Control calls (Chromium, medians; BenchmarkControl interleaved with the peer's same calls)\n\n")
	fmt.Fprintln(w, "| call | extbridge | Puppeteer | extbridge ÷ Puppeteer |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	row := func(what, m string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", what, num(c.Control[m], "ms"), num(pp(m), "ms"), ratio(c.Control[m], pp(m)))
	}
	row("new tab, loaded (NewTab, with its tab id, vs newPage + goto)", "newtab")
	row("evaluate in the service worker (Eval vs worker.evaluate)", "evalbg")
	row("evaluate in the content script (ContentScript + Eval vs extensionRealms() + evaluate)", "evalcs")
	row("evaluate there again (Eval vs evaluate)", "evalcs-again")
	row("close the tab (Close vs page.close)", "close")
	row("a typical test: new tab, both evals, connect + one round trip, close", "typical")
	fmt.Fprintf(w, "| launch to ready (Launch + NewTab vs launch with the extension, its worker up, newPage + goto) | %s | %s | %s |\n",
		num(c.Launch, "ms"), num(peer.LaunchExtMs, "ms"), ratio(c.Launch, peer.LaunchExtMs))
	row("stop the worker (StopBackground vs worker.close, until it is gone)", "stop")
	row("wake it (Background + Eval vs ServiceWorker.startWorker, waitForTarget, evaluate)", "wake")
	fmt.Fprintf(w, "| the typical test's steps: new tab / evals / connect / round trip / close | %s / %s + %s / %s / %s / %s | | |\n",
		num(c.Control["typical-newtab"], "ms"), num(c.Control["typical-evalbg"], "ms"), num(c.Control["typical-evalcs"], "ms"),
		num(c.Control["typical-connect"], "ms"), num(c.Control["typical-roundtrip"], "ms"), num(c.Control["typical-close"], "ms"))
}

// printFirefoxControl prints the control calls of Firefox beside the same
// calls' floor over BiDi in a Firefox without extbridge.
func printFirefoxControl(w io.Writer, f Figures) {
	if math.IsNaN(f.Control["newtab"]) {
		return
	}
	fc := f.Control
	fmt.Fprintf(w, "\n### Control calls (Firefox, medians; the floor is the same call over BiDi in a Firefox without extbridge, interleaved)\n\n")
	fmt.Fprintln(w, "| call | extbridge | floor | extbridge ÷ floor |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	row := func(what, m, floorWhat, fm string) {
		fmt.Fprintf(w, "| %s | %s | %s%s | %s |\n", what, num(fc[m], "ms"), num(fc[fm], "ms"), floorWhat, ratio(fc[m], fc[fm]))
	}
	row("new tab, loaded (NewTab, with its tab id)", "newtab", " (browsingContext.create + navigate)", "floor-newtab")
	row("evaluate in the background (Eval)", "evalbg", " (a second script.evaluate in a page)", "floor-eval-again")
	row("evaluate in the content script (ContentScript + Eval)", "evalcs", " (a first script.evaluate in a new page)", "floor-eval")
	row("evaluate there again (Eval)", "evalcs-again", " (a second script.evaluate)", "floor-eval-again")
	row("close the tab (Close)", "close", " (browsingContext.close)", "floor-close")
	fmt.Fprintf(w, "| a typical test: new tab, both evals, connect + one round trip, close | %s | | |\n", num(fc["typical"], "ms"))
	fmt.Fprintf(w, "| the typical test's steps: new tab / evals / connect / round trip / close | %s / %s + %s / %s / %s / %s | | |\n",
		num(fc["typical-newtab"], "ms"), num(fc["typical-evalbg"], "ms"), num(fc["typical-evalcs"], "ms"),
		num(fc["typical-connect"], "ms"), num(fc["typical-roundtrip"], "ms"), num(fc["typical-close"], "ms"))
	fmt.Fprintf(w, "| stop the event page / wake it (StopBackground / Background + Eval) | %s / %s | | |\n", num(fc["stop"], "ms"), num(fc["wake"], "ms"))
}
