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
