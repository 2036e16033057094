package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseLines(t *testing.T) {
	in := `goos: linux
BenchmarkRoundTrip/chromium-2    	    3000	   1117644 ns/op	         1.084 rtt-ms
BenchmarkRoundTrip/chromium-2    	    3000	    929766 ns/op	         0.8684 rtt-ms
BenchmarkRoundTrip/chromium-2    	    3000	    929766 ns/op	         0.9 rtt-ms
BenchmarkFloor/chromium-2        	       1	6042000008 ns/op	      9054 port-msgs/s-1	         0.5020 port-rtt-ms
PASS
`
	res := Results{}
	parseLines(strings.NewReader(in), res)
	if got := res.Get("BenchmarkRoundTrip/chromium", "rtt-ms"); got != 0.9 {
		t.Errorf("median rtt-ms = %v, want 0.9", got)
	}
	if got := res.Get("BenchmarkFloor/chromium", "port-msgs/s-1"); got != 9054 {
		t.Errorf("port-msgs/s-1 = %v, want 9054", got)
	}
	if got := res.Get("BenchmarkFloor/firefox", "port-rtt-ms"); got == got {
		t.Errorf("a missing figure = %v, want NaN", got)
	}
}

// TestOverhead checks that the overhead comes from BenchmarkOverhead's
// paired ratio, its median over the rounds minus 1, and that the overhead
// rows show the paired figures.
func TestOverhead(t *testing.T) {
	in := `BenchmarkFloor/chromium-2 	       1	6042000008 ns/op	      9054 port-msgs/s-1	         0.5020 port-rtt-ms
BenchmarkOverhead/chromium-2 	       4	7000000000 ns/op	 1.25 overhead-rtt	 0.50 nobridge-rtt-ms	 0.62 bridge-rtt-ms	 1.25 overhead-pipe-1	 10000 nobridge-msgs/s-1	 8000 bridge-msgs/s-1	 2 overhead-pipe-16	 12000 nobridge-msgs/s-16	 7500 bridge-msgs/s-16
BenchmarkOverhead/chromium-2 	       4	7000000000 ns/op	 1.10 overhead-rtt	 0.40 nobridge-rtt-ms	 0.44 bridge-rtt-ms	 1.25 overhead-pipe-1	 10000 nobridge-msgs/s-1	 8000 bridge-msgs/s-1	 2 overhead-pipe-16	 12000 nobridge-msgs/s-16	 7500 bridge-msgs/s-16
BenchmarkOverhead/chromium-2 	       4	7000000000 ns/op	 1.15 overhead-rtt	 0.45 nobridge-rtt-ms	 0.52 bridge-rtt-ms	 1.25 overhead-pipe-1	 10000 nobridge-msgs/s-1	 8000 bridge-msgs/s-1	 2 overhead-pipe-16	 12000 nobridge-msgs/s-16	 7500 bridge-msgs/s-16
`
	res := Results{}
	parseLines(strings.NewReader(in), res)
	p := figures(res, "chromium").Paired
	if p.OverheadRTT != 1.15 || p.NoBridgeRTT != 0.45 || p.BridgeRTT != 0.52 {
		t.Errorf("paired round trip = %+v, want the medians 1.15, 0.45, 0.52", p)
	}
	var out strings.Builder
	printFigures(&out, res, Peer{})
	for _, want := range []string{
		"| the extension's own port round trip, bridge installed (paired with no bridge) | 0.520 ms | 0.450 ms (no bridge) | | 1.15× | |",
		"| the extension's own pipelined port, 1 / 16 ports, bridge installed (paired with no bridge) | 8000 /s / 7500 /s | 10000 /s / 12000 /s (no bridge) | | 0.80× / 0.50× | |",
		"bridge overhead on the extension's own round trip ≤ 10 %: +15 % — MISSED",
		" overhead=0.15 newtab_vs_pptr=",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "### Firefox") {
		t.Errorf("a Firefox table with no Firefox figures:\n%s", out.String())
	}
}

// TestControl checks the control calls' table and their ratios to
// Puppeteer's in the RESULT line, and that the peer's runs combine by
// median, each figure over the runs that have it.
func TestControl(t *testing.T) {
	in := `BenchmarkControl/chromium-2 	      15	 300000000 ns/op	 12 close-ms	 1 evalbg-ms	 0.8 evalcs-again-ms	 3 evalcs-ms	 70 newtab-ms	 14 stop-ms	 100 typical-ms	 50 wake-ms	 75 typical-newtab-ms	 1.5 typical-evalbg-ms	 4 typical-evalcs-ms	 3 typical-connect-ms	 2.5 typical-roundtrip-ms	 13 typical-close-ms
BenchmarkControl/chromium-2 	      15	 300000000 ns/op	 14 close-ms	 3 evalbg-ms	 0.8 evalcs-again-ms	 5 evalcs-ms	 90 newtab-ms	 14 stop-ms	 120 typical-ms	 50 wake-ms	 75 typical-newtab-ms	 1.5 typical-evalbg-ms	 4 typical-evalcs-ms	 3 typical-connect-ms	 2.5 typical-roundtrip-ms	 13 typical-close-ms
BenchmarkLaunch/chromium-2 	5	1 ns/op	 700 launch-ms	 560 bare-ms
BenchmarkControl/firefox-2 	      15	 300000000 ns/op	 20 close-ms	 4 evalbg-ms	 3 evalcs-again-ms	 9 evalcs-ms	 230 newtab-ms	 20 stop-ms	 260 typical-ms	 30 wake-ms	 140 floor-newtab-ms	 22 floor-eval-ms	 1 floor-eval-again-ms	 19 floor-close-ms
`
	res := Results{}
	parseLines(strings.NewReader(in), res)
	dir := t.TempDir()
	write := func(name, body string) string {
		f := dir + "/" + name
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	peer, err := readPeers([]string{
		write("p1.json", `{"puppeteer":"25.16.0","launch_ms":560,"launch_ext_ms":800,"rtt_ms":1.2,"pipe":{"1":4000,"16":5000}}`),
		write("c1.json", `{"puppeteer":"25.16.0","control":{"newtab_ms":100,"evalbg_ms":2,"evalcs_ms":4,"evalcs_again_ms":2,"close_ms":15,"typical_ms":150,"stop_ms":10,"wake_ms":50}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if peer.RTTms != 1.2 || peer.Control["typical_ms"] != 150 || peer.LaunchExtMs != 800 {
		t.Errorf("peer = %+v", peer)
	}
	var out strings.Builder
	printFigures(&out, res, peer)
	for _, want := range []string{
		"| new tab, loaded (NewTab, with its tab id, vs newPage + goto) | 80 ms | 100 ms | 0.80× |",
		"| a typical test: new tab, both evals, connect + one round trip, close | 110 ms | 150 ms | 0.73× |",
		"| launch to ready (Launch + NewTab vs launch with the extension, its worker up, newPage + goto) | 700 ms | 800 ms | 0.88× |",
		"- a typical test ≤ 0.7× Puppeteer's: 0.73× — MISSED",
		"- eval in the service worker ≤ 1.0× Puppeteer's: 1.00× — met",
		"| new tab, loaded (NewTab, with its tab id) | 230 ms | 140 ms (browsingContext.create + navigate) | 1.64× |",
		" newtab_vs_pptr=0.80 evalbg_vs_pptr=1.00 evalcs_vs_pptr=1.00 close_vs_pptr=0.87 typical_vs_pptr=0.73 launch_vs_pptr=0.88 stop_vs_pptr=1.40 wake_vs_pptr=1.00\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
}
