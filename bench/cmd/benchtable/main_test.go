package main

import (
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
		" overhead=0.15\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "### Firefox") {
		t.Errorf("a Firefox table with no Firefox figures:\n%s", out.String())
	}
}
