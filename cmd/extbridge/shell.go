package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/extbridge/extbridge/bridge"
	"github.com/extbridge/extbridge/driver"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// common are the flags of run and watch.
type common struct {
	browser string
	headful bool
	exts    stringList
	url     string
	timeout time.Duration
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.browser, "browser", "chromium", "browser: chromium or firefox")
	fs.BoolVar(&c.headful, "headful", false, "show the browser window")
	fs.Var(&c.exts, "ext", "unpacked extension folder (repeatable)")
	fs.StringVar(&c.url, "url", "", "open a tab at this URL after launch")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "bound for each browser operation")
}

// start parses the flags of a subcommand and launches the browser; the
// context ends on an interrupt.
func (c *common) start(name string, args []string) (context.Context, context.CancelFunc, *driver.Browser, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	b, err := c.launch(ctx)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return ctx, cancel, b, nil
}

func (c *common) launch(ctx context.Context) (*driver.Browser, error) {
	if len(c.exts) == 0 {
		return nil, errors.New("no extension: give -ext DIR")
	}
	lctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return driver.Launch(lctx, driver.Options{Browser: driver.Kind(c.browser), Extensions: c.exts, Headful: c.headful})
}

// shell is `extbridge run`: a line-oriented probe of the extension's ports.
type shellState struct {
	out     io.Writer
	b       *driver.Browser
	timeout time.Duration

	mu        sync.Mutex
	ports     map[int]*bridge.Port
	nextPort  int
	tabs      map[int]*driver.Tab
	listeners []*bridge.Listener
	wg        sync.WaitGroup
	stop      chan struct{}
}

const shellHelp = `commands (EXT is an extension index, default 0; TAB a tab id; FRAME a frame id, default 0):
  exts                              list the extensions
  open URL                          open a tab; prints its tab id
  tabs                              list the tabs opened here
  frames TAB [EXT]                  list a tab's frames
  connect bg NAME [EXT]             runtime.connect from the background
  connect cs TAB FRAME NAME [EXT]   runtime.connect from a content script
  tconnect TAB NAME [FRAME] [EXT]   tabs.connect from the background
  listen bg [EXT]                   accept ports connecting to the background
  listen cs TAB FRAME [EXT]         accept ports connecting to a content script
  post PORT JSON                    post a message on a port
  disconnect PORT                   disconnect a port
  ports                             list the open ports
  eval bg JS [EXT] | eval cs TAB FRAME JS   evaluate in a realm (JS is the rest of the line)
  click TAB [EXT]                   click the extension's toolbar button on a tab
  stop [EXT]                        stop the background (service worker)
  help | quit
Messages that arrive on any port are printed as they come.`

func shell(args []string, stdin io.Reader, stdout io.Writer) error {
	var c common
	ctx, cancel, b, err := c.start("run", args)
	if err != nil {
		return err
	}
	defer cancel()
	defer b.Close()
	s := &shellState{out: stdout, b: b, timeout: c.timeout, ports: map[int]*bridge.Port{}, tabs: map[int]*driver.Tab{}, stop: make(chan struct{})}
	defer func() {
		close(s.stop)
		s.mu.Lock()
		for _, l := range s.listeners {
			l.Close()
		}
		s.mu.Unlock()
		b.Close()
		s.wg.Wait()
	}()
	for i, e := range b.Extensions() {
		s.printf("extension %d: %s (id %s)", i, e.Name(), e.ID())
	}
	if c.url != "" {
		s.exec(ctx, "open "+c.url)
	}
	s.printf("type help for the commands")
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if strings.TrimSpace(line) == "quit" || strings.TrimSpace(line) == "exit" {
				return nil
			}
			s.exec(ctx, line)
		}
	}
}

func (s *shellState) printf(format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.out, format+"\n", a...)
}

// addPort registers a port and prints what arrives on it.
func (s *shellState) addPort(p *bridge.Port, how string) {
	s.mu.Lock()
	s.nextPort++
	n := s.nextPort
	s.ports[n] = p
	s.mu.Unlock()
	desc := fmt.Sprintf("port %d %q (%s)", n, p.Name(), how)
	if snd := p.Sender(); snd != nil {
		desc += " from " + snd.URL
		if snd.Tab != nil {
			desc += fmt.Sprintf(" tab %d frame %d", snd.Tab.ID, snd.FrameID)
		}
	}
	s.printf("%s", desc)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-s.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		for {
			m, err := p.Recv(ctx)
			if err != nil {
				if errors.Is(err, bridge.ErrDisconnected) {
					if e := p.Err(); e != nil {
						s.printf("port %d disconnected: %v", n, e)
					} else {
						s.printf("port %d disconnected", n)
					}
				}
				s.mu.Lock()
				delete(s.ports, n)
				s.mu.Unlock()
				return
			}
			s.printf("port %d <- %s", n, m)
		}
	}()
}

func (s *shellState) exec(parent context.Context, line string) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(parent, s.timeout)
	defer cancel()
	if err := s.do(ctx, f, line); err != nil {
		s.printf("error: %v", err)
	}
}

func atoi(f []string, i, def int) (int, error) {
	if i >= len(f) {
		return def, nil
	}
	n, err := strconv.Atoi(f[i])
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", f[i])
	}
	return n, nil
}

func (s *shellState) ext(f []string, i int) (*bridge.Extension, error) {
	n, err := atoi(f, i, 0)
	if err != nil {
		return nil, err
	}
	exts := s.b.Extensions()
	if n < 0 || n >= len(exts) {
		return nil, fmt.Errorf("no extension %d (there are %d)", n, len(exts))
	}
	return exts[n], nil
}

// realm parses "bg" or "cs TAB FRAME" at f[i:], and returns the context and
// the index after it.
func (s *shellState) realm(ctx context.Context, f []string, i int, extAt func(next int) int) (*bridge.Context, int, error) {
	if i >= len(f) {
		return nil, 0, errors.New("want bg or cs TAB FRAME")
	}
	switch f[i] {
	case "bg":
		e, err := s.ext(f, extAt(i+1))
		if err != nil {
			return nil, 0, err
		}
		c, err := e.Background(ctx)
		return c, i + 1, err
	case "cs":
		tab, err := atoi(f, i+1, -1)
		if err != nil || tab < 0 {
			return nil, 0, errors.New("cs wants TAB FRAME")
		}
		frame, err := atoi(f, i+2, 0)
		if err != nil {
			return nil, 0, err
		}
		e, err := s.ext(f, extAt(i+3))
		if err != nil {
			return nil, 0, err
		}
		c, err := e.ContentScript(ctx, tab, frame)
		return c, i + 3, err
	}
	return nil, 0, fmt.Errorf("want bg or cs, not %q", f[i])
}

func (s *shellState) do(ctx context.Context, f []string, line string) error {
	switch f[0] {
	case "help":
		s.printf("%s", shellHelp)
	case "exts":
		for i, e := range s.b.Extensions() {
			s.printf("%d: %s id %s; added: %s", i, e.Name(), e.ID(), strings.Join(e.Added(), ", "))
		}
	case "open":
		if len(f) < 2 {
			return errors.New("open wants a URL")
		}
		t, err := s.b.NewTab(ctx, f[1])
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.tabs[t.ID()] = t
		s.mu.Unlock()
		s.printf("tab %d: %s", t.ID(), f[1])
	case "tabs":
		s.mu.Lock()
		ids := make([]int, 0, len(s.tabs))
		for id := range s.tabs {
			ids = append(ids, id)
		}
		s.mu.Unlock()
		sort.Ints(ids)
		for _, id := range ids {
			s.printf("tab %d", id)
		}
	case "frames":
		tab, err := atoi(f, 1, -1)
		if err != nil || tab < 0 {
			return errors.New("frames wants TAB")
		}
		e, err := s.ext(f, 2)
		if err != nil {
			return err
		}
		frames, err := e.Frames(ctx, tab)
		if err != nil {
			return err
		}
		for _, fr := range frames {
			s.printf("frame %d (parent %d) %s", fr.ID, fr.ParentID, fr.URL)
		}
	case "connect":
		c, next, err := s.realm(ctx, f, 1, func(n int) int { return n + 1 })
		if err != nil {
			return err
		}
		if next >= len(f) {
			return errors.New("connect wants a NAME")
		}
		p, err := c.Connect(ctx, bridge.ConnectInfo{Name: f[next]})
		if err != nil {
			return err
		}
		s.addPort(p, "runtime.connect")
	case "tconnect":
		tab, err := atoi(f, 1, -1)
		if err != nil || tab < 0 || len(f) < 3 {
			return errors.New("tconnect wants TAB NAME [FRAME] [EXT]")
		}
		info := bridge.ConnectInfo{Name: f[2]}
		if len(f) > 3 {
			fr, err := atoi(f, 3, 0)
			if err != nil {
				return err
			}
			info.FrameID = &fr
		}
		e, err := s.ext(f, 4)
		if err != nil {
			return err
		}
		bg, err := e.Background(ctx)
		if err != nil {
			return err
		}
		p, err := bg.TabsConnect(ctx, tab, info)
		if err != nil {
			return err
		}
		s.addPort(p, "tabs.connect")
	case "listen":
		c, _, err := s.realm(ctx, f, 1, func(n int) int { return n })
		if err != nil {
			return err
		}
		l, err := c.Listen(ctx)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.listeners = append(s.listeners, l)
		s.mu.Unlock()
		s.printf("listening in %s", c)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				p, err := l.Accept(context.Background())
				if err != nil {
					return
				}
				s.addPort(p, "accepted")
			}
		}()
	case "post":
		n, err := atoi(f, 1, -1)
		if err != nil || len(f) < 3 {
			return errors.New("post wants PORT JSON")
		}
		p := s.port(n)
		if p == nil {
			return fmt.Errorf("no open port %d", n)
		}
		raw := restAfter(line, 2)
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return fmt.Errorf("the message is not JSON: %v", err)
		}
		if err := p.PostMessage(ctx, v); err != nil {
			return err
		}
		s.printf("port %d -> %s", n, raw)
	case "disconnect":
		n, err := atoi(f, 1, -1)
		if err != nil {
			return err
		}
		p := s.port(n)
		if p == nil {
			return fmt.Errorf("no open port %d", n)
		}
		return p.Disconnect()
	case "ports":
		s.mu.Lock()
		ids := make([]int, 0, len(s.ports))
		for id := range s.ports {
			ids = append(ids, id)
		}
		sort.Ints(ids)
		for _, id := range ids {
			fmt.Fprintf(s.out, "port %d: %s\n", id, s.ports[id])
		}
		s.mu.Unlock()
	case "eval":
		c, next, err := s.realm(ctx, f, 1, func(int) int { return len(f) })
		if err != nil {
			return err
		}
		js := restAfter(line, next)
		if js == "" {
			return errors.New("eval wants JS after the realm")
		}
		var v json.RawMessage
		if err := c.Eval(ctx, js, &v); err != nil {
			return err
		}
		s.printf("%s", v)
	case "click":
		tab, err := atoi(f, 1, -1)
		if err != nil {
			return err
		}
		s.mu.Lock()
		t := s.tabs[tab]
		s.mu.Unlock()
		if t == nil {
			return fmt.Errorf("no tab %d opened here", tab)
		}
		e, err := s.ext(f, 2)
		if err != nil {
			return err
		}
		return t.ClickAction(ctx, e)
	case "stop":
		e, err := s.ext(f, 1)
		if err != nil {
			return err
		}
		return e.StopBackground(ctx)
	default:
		return fmt.Errorf("unknown command %q; type help", f[0])
	}
	return nil
}

// restAfter returns what follows the first n fields of line, as typed.
func restAfter(line string, n int) string {
	rest := strings.TrimSpace(line)
	for range n {
		i := strings.IndexFunc(rest, func(r rune) bool { return r == ' ' || r == '\t' })
		if i < 0 {
			return ""
		}
		rest = strings.TrimSpace(rest[i:])
	}
	return rest
}

func (s *shellState) port(n int) *bridge.Port {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ports[n]
}

// watch is `extbridge watch`: print every port event until interrupted.
func watch(args []string, stdout io.Writer) error {
	var c common
	ctx, cancel, b, err := c.start("watch", args)
	if err != nil {
		return err
	}
	defer cancel()
	defer b.Close()
	var wg sync.WaitGroup
	for i, e := range b.Extensions() {
		w, err := e.Watch(ctx)
		if err != nil {
			return err
		}
		defer w.Close()
		var mu sync.Mutex
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ev, err := w.Next(ctx)
				if err != nil {
					return
				}
				mu.Lock()
				fmt.Fprintf(stdout, "[%d %s] %s\n", i, e.Name(), ev)
				mu.Unlock()
			}
		}()
	}
	if c.url != "" {
		tctx, tcancel := context.WithTimeout(ctx, c.timeout)
		_, err := b.NewTab(tctx, c.url)
		tcancel()
		if err != nil {
			return err
		}
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}
