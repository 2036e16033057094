package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/extbridge/extbridge/bridge"
)

// watch is `extbridge watch`: print every port event of the extensions'
// own code, and their console output, until interrupted (or -for ends).
func watch(args []string, std stdio) error {
	var c common
	fs := newFlags("watch", "usage: extbridge watch [flags] -ext DIR [-url URL]\n\n"+
		"Prints every port the extension's own code opens, every message, disconnect and\n"+
		"console line, from launch on, until interrupted (or -for ends). -json prints one\n"+
		"JSON object per event.", &c, std)
	dur := fs.Duration("for", 0, "stop after this long (0: until interrupted)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("watch: unexpected argument %q", fs.Arg(0))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := newSignals(cancel)
	defer sig.stop()
	l, err := c.launch(ctx, std.err)
	if err != nil {
		return err
	}
	defer l.close()
	if *dur > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, *dur)
		defer stop()
	}
	out := &printer{w: std.out, json: c.json, onFail: func(error) { cancel() }} // stdout closed: stop
	ids := &portIDs{m: map[*bridge.Port]int{}}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, stopWatching := context.WithCancel(ctx)
	defer stopWatching() // before wg.Wait, on every return
	exts := l.b.Extensions()
	for i, e := range exts {
		w, err := e.Watch(ctx)
		if err != nil {
			return err
		}
		defer w.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ev, err := w.Next(ctx)
				if err != nil {
					return
				}
				n := 0
				if ev.Port != nil {
					var isNew bool
					if n, isNew = ids.id(ev.Port); isNew {
						wg.Add(1)
						go func() { defer wg.Done(); drain(ctx, ev.Port) }()
					}
				}
				out.emit(eventRecord(ev, i, n), eventText(ev, label(len(exts), e.Name()), n))
			}
		}()
	}
	if l.url != "" {
		tctx, tcancel := context.WithTimeout(ctx, c.timeout)
		start := time.Now()
		t, err := l.b.NewTab(tctx, l.url)
		tcancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted (or -for ended) while the tab opened
			}
			return err
		}
		if l.progress.core.verbose {
			fmt.Fprintf(std.err, "extbridge: %7s  opened tab %d at %s\n", "+"+roundDur(time.Since(start)), t.ID(), l.url)
		}
	}
	<-ctx.Done()
	return nil
}

// portIDs numbers the ports a watch or the shell sees, 1, 2, … in the
// order they first appear, so the output (and the shell's commands) can
// refer to them.
type portIDs struct {
	mu   sync.Mutex
	m    map[*bridge.Port]int
	next int
}

func (p *portIDs) id(port *bridge.Port) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n, ok := p.m[port]; ok {
		return n, false
	}
	p.next++
	p.m[port] = p.next
	return p.next, true
}

// drain reads and drops what a watched port receives (the watch shows it),
// so its queue does not grow for as long as the watch runs.
func drain(ctx context.Context, p *bridge.Port) {
	for {
		if _, err := p.Recv(ctx); err != nil {
			return
		}
	}
}
