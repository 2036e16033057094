package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/extbridge/extbridge/driver"
	"github.com/extbridge/extbridge/extfixtures"
	"github.com/extbridge/extbridge/internal/leakcheck"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// common are the flags of run and watch.
type common struct {
	browser  string
	headful  bool
	exts     stringList
	fixtures stringList
	url      string
	timeout  time.Duration
	verbose  bool
	json     bool
	natives  stringList
}

// newFlags makes the flag set of a subcommand that launches a browser,
// with the common flags registered into c: usage errors and -h go to
// std.err, headed by usage.
func newFlags(name, usage string, c *common, std stdio) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(std.err)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage+"\n\nflags:\n")
		fs.PrintDefaults()
	}
	c.register(fs)
	return fs
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.browser, "browser", "chromium", "browser: chromium or firefox")
	fs.BoolVar(&c.headful, "headful", false, "show the browser window")
	fs.Var(&c.exts, "ext", "unpacked extension folder (repeatable)")
	fs.Var(&c.fixtures, "fixture", "an embedded fixture extension, e.g. pingpong or echo (repeatable); serves the test pages and opens index.html unless -url")
	fs.StringVar(&c.url, "url", "", "open a tab at this URL after launch")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "bound for each browser operation (and for the launch)")
	fs.BoolVar(&c.verbose, "v", false, "print the launch steps even when stderr is not a terminal")
	fs.BoolVar(&c.json, "json", false, "print one JSON object per event or result (see the README)")
	fs.Var(&c.natives, "native", "a native messaging host the extensions may reach (repeatable): NAME, served by the shell (listen native NAME), or NAME=PATH, a host program the browser runs (fixture:FILE for an embedded one, e.g. fixture:ping_pong.py)")
}

// nativeHosts turns the -native flags into driver.NativeHosts, writing the
// embedded host programs that fixture:FILE names into tmp (made when
// needed, removed by the launch's cleanup).
func (c *common) nativeHosts(l *launched) ([]driver.NativeHost, error) {
	var hosts []driver.NativeHost
	var tmp string
	for _, v := range c.natives {
		name, path, _ := strings.Cut(v, "=")
		if file, ok := strings.CutPrefix(path, "fixture:"); ok {
			if tmp == "" {
				var err error
				if tmp, err = os.MkdirTemp("", leakcheck.TempPrefix()+"cli-hosts-"); err != nil {
					return nil, fmt.Errorf("failed to make a folder for the host programs: %w", err)
				}
				l.cleanup = append(l.cleanup, func() { os.RemoveAll(tmp) })
			}
			p, err := extfixtures.MaterializeHost(file, tmp)
			if err != nil {
				return nil, fmt.Errorf("-native %s: %w", v, err)
			}
			path = p
		}
		hosts = append(hosts, driver.NativeHost{Name: name, Path: path})
	}
	return hosts, nil
}

// launched is a running browser with what the CLI set up around it.
type launched struct {
	b        *driver.Browser
	progress *progress
	url      string // the tab to open first, or ""
	pages    string // the fixture pages' base URL, or ""
	cleanup  []func()
}

// close ends the browser and removes what the launch made; the browser's
// error, if any, is returned.
func (l *launched) close() error {
	var err error
	if l.b != nil {
		err = l.b.Close()
	}
	for i := len(l.cleanup) - 1; i >= 0; i-- {
		l.cleanup[i]()
	}
	l.cleanup = nil
	return err
}

// launch starts the browser with the extensions of -ext and -fixture,
// printing the steps to stderr when it is a terminal or -v is given.
func (c *common) launch(ctx context.Context, stderr io.Writer) (*launched, error) {
	if len(c.exts) == 0 && len(c.fixtures) == 0 {
		return nil, errors.New("no extension: give -ext DIR (an unpacked extension folder) or -fixture NAME (one of " + strings.Join(extfixtures.Names(), ", ") + ")")
	}
	if c.browser != string(driver.Chromium) && c.browser != string(driver.Firefox) {
		return nil, fmt.Errorf("unknown -browser %q: want chromium or firefox", c.browser)
	}
	l := &launched{url: c.url, progress: newProgress(stderr, c.verbose || isTerminal(stderr))}
	dirs := append([]string(nil), c.exts...)
	if len(c.fixtures) > 0 {
		tmp, err := os.MkdirTemp("", leakcheck.TempPrefix()+"cli-") // found by the leak checks, like the driver's
		if err != nil {
			return nil, fmt.Errorf("failed to make a folder for the fixtures: %w", err)
		}
		l.cleanup = append(l.cleanup, func() { os.RemoveAll(tmp) })
		for _, name := range c.fixtures {
			dir, err := extfixtures.Materialize(name, tmp)
			if err != nil {
				l.close()
				return nil, fmt.Errorf("-fixture %s: %w", name, err)
			}
			dirs = append(dirs, dir)
		}
		srv, base, err := servePages()
		if err != nil {
			l.close()
			return nil, fmt.Errorf("failed to serve the fixture pages: %w", err)
		}
		l.cleanup = append(l.cleanup, func() { srv.Close() })
		l.pages = base
		if l.url == "" {
			l.url = base + "index.html"
		}
	}
	natives, err := c.nativeHosts(l)
	if err != nil {
		l.close()
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	b, err := driver.Launch(lctx, driver.Options{
		Browser:     driver.Kind(c.browser),
		Extensions:  dirs,
		Headful:     c.headful,
		Logger:      slog.New(l.progress),
		NativeHosts: natives,
	})
	if err != nil {
		l.close()
		return nil, err
	}
	l.b = b
	var names []string
	for _, e := range b.Extensions() {
		names = append(names, fmt.Sprintf("%q", e.Name()))
	}
	l.progress.done(fmt.Sprintf("ready: %s with %s", c.browser, strings.Join(names, ", ")))
	return l, nil
}
