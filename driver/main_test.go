package driver_test

import (
	"testing"

	"github.com/extbridge/extbridge/driver/drivertest"
)

// TestMain fails the run on leaked browsers, goroutines and temp dirs.
func TestMain(m *testing.M) { drivertest.Main(m) }
