package bidi_test

import (
	"testing"

	"github.com/extbridge/extbridge/driver/drivertest"
)

// TestMain fails the run on leaked goroutines, browser processes and temp
// dirs, as in every package that launches a browser.
func TestMain(m *testing.M) { drivertest.Main(m) }
