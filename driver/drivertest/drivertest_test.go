package drivertest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/driver/drivertest"
)

func TestMain(m *testing.M) { drivertest.Main(m) }

// The leak check must see a browser that was not closed, and nothing once
// it is.
func TestLeaksSeesAnUnclosedBrowser(t *testing.T) {
	before := drivertest.TempDirs()
	b, err := driver.Launch(context.Background(), driver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	leaks := drivertest.Leaks(before)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(leaks, "processes:") || !strings.Contains(leaks, "temporary folder:") {
		t.Errorf("an open browser is not reported as a leak:\n%s", leaks)
	}
	if l := drivertest.Leaks(before); l != "" {
		t.Errorf("leaks after Close:\n%s", l)
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		pat, v any
		want   bool
	}{
		{map[string]any{"a": 1.0}, map[string]any{"a": 1.0, "b": 2.0}, true},
		{map[string]any{"a": 1.0}, map[string]any{"b": 2.0}, false},
		{[]any{1.0}, []any{1.0, 2.0}, false},
		{"x", "x", true},
		{map[string]any{"a": map[string]any{"b": true}}, map[string]any{"a": map[string]any{"b": true, "c": 1.0}}, true},
	}
	for _, c := range cases {
		if got := drivertest.Match(c.pat, c.v); got != c.want {
			t.Errorf("Match(%v, %v) = %v", c.pat, c.v, got)
		}
	}
}
