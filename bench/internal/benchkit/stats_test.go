package benchkit

import (
	"os"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestBatchMedian(t *testing.T) {
	ms := time.Millisecond
	// Batches of 2: means 1, 2, 10 (and a short last batch, dropped).
	s := []time.Duration{1 * ms, 1 * ms, 1 * ms, 3 * ms, 10 * ms, 10 * ms, 50 * ms}
	if got := BatchMedian(s, 2); got != 2*ms {
		t.Errorf("BatchMedian = %v, want 2ms", got)
	}
	if got := BatchMedian(s[:1], 2); got != ms {
		t.Errorf("BatchMedian of less than a batch = %v, want the mean 1ms", got)
	}
}

func TestExtension(t *testing.T) {
	dir, err := Extension(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"manifest.json", "background.js", "content-script.js", "runner.js"} {
		if _, err := os.Stat(dir + "/" + f); err != nil {
			t.Error(err)
		}
	}
}
