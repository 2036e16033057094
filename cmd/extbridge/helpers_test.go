package main

import (
	"testing"

	"github.com/extbridge/extbridge/extfixtures"
)

func materialize(t *testing.T, name string) string {
	t.Helper()
	dir, err := extfixtures.Materialize(name, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func servePagesForTest(t *testing.T) string {
	t.Helper()
	srv, url, err := servePages()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return url
}
