package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/extbridge/extbridge/internal/bridgeinternal"
	"github.com/extbridge/extbridge/internal/hub"
	"github.com/extbridge/extbridge/internal/instrument"
	"github.com/extbridge/extbridge/internal/js"
)

func init() {
	bridgeinternal.NewSession = func(logger *slog.Logger) (bridgeinternal.Session, error) { return newSession(logger) }
}

// session is the bridge of one launch: the hub every realm connects to, and
// the extensions. Package driver holds it through bridgeinternal.Session.
type session struct {
	hub    *hub.Server
	logger *slog.Logger
	wg     sync.WaitGroup  // work moved off read loops
	life   context.Context // ends when the session closes
	stop   context.CancelFunc

	mu      sync.Mutex
	exts    []*Extension
	browser bridgeinternal.Browser
	closed  bool

	native nativeHosts // the native hosts Go serves
}

func newSession(logger *slog.Logger) (*session, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &session{logger: logger}
	s.life, s.stop = context.WithCancel(context.Background())
	h, err := hub.New(hub.Options{Logger: logger, Accept: s.accept})
	if err != nil {
		return nil, err
	}
	s.hub = h
	return s, nil
}

// accept registers a realm that connected.
func (s *session) accept(c *hub.Conn) (hub.Handler, error) {
	hi := c.Hello()
	if RealmKind(hi.Realm) == realmNative {
		return s.acceptNative(c)
	}
	s.mu.Lock()
	if hi.Ext < 0 || hi.Ext >= len(s.exts) {
		s.mu.Unlock()
		return nil, fmt.Errorf("no extension %d", hi.Ext)
	}
	e := s.exts[hi.Ext]
	s.mu.Unlock()
	switch RealmKind(hi.Realm) {
	case RealmBackground, RealmContent, RealmPage:
	default:
		return nil, fmt.Errorf("unknown realm kind %q", hi.Realm)
	}
	rc := newRealmConn(s, e, c)
	e.addRealm(rc)
	e.syncWatch(rc)
	if rc.info.Kind == RealmBackground {
		e.rearm(rc)
	}
	return rc, nil
}

// script returns the bridge script of one realm kind of one extension.
func (s *session) script(ext int, realm string) []byte {
	return js.Bridge(js.Config{URL: s.hub.URL(), Token: s.hub.Token(), Ext: ext, Realm: realm})
}

func (s *session) AddExtension(src, dst, browser string) (any, bridgeinternal.Facts, error) {
	e, err := s.addExtension(src, dst, browser)
	if err != nil {
		return nil, bridgeinternal.Facts{}, err
	}
	return e, bridgeinternal.Facts{Index: e.index, ID: e.ID(), Name: e.Name(), HasBackground: e.hasBackground()}, nil
}

func (s *session) addExtension(src, dst, browser string) (*Extension, error) {
	s.mu.Lock()
	index := len(s.exts)
	s.mu.Unlock()
	in, err := instrument.Copy(src, dst, instrument.Options{
		Browser: browser,
		Script:  func(realm string) []byte { return s.script(index, realm) },
	})
	if err != nil {
		return nil, err
	}
	e := newExtension(s, index, in, browser)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("failed to add an extension: the browser session is closed")
	}
	if len(s.exts) != index {
		return nil, errors.New("failed to add an extension: extensions must be added one at a time")
	}
	s.exts = append(s.exts, e)
	return e, nil
}

func (s *session) extension(index int) *Extension {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exts[index]
}

func (s *session) SetBrowser(b bridgeinternal.Browser) {
	s.mu.Lock()
	s.browser = b
	s.mu.Unlock()
}

func (s *session) getBrowser() bridgeinternal.Browser {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.browser
}

// browserExited reports whether the driver saw the browser process go.
func (s *session) browserExited() bool {
	b := s.getBrowser()
	return b != nil && b.Exited()
}

func (s *session) WaitBackground(ctx context.Context, index int) error {
	e := s.extension(index)
	_, err := e.waitRealm(ctx, "the background", func() *realmConn { return e.bg })
	return err
}

func (s *session) DebuggerTargets(ctx context.Context, index int) ([]bridgeinternal.DebuggerTarget, error) {
	var list []bridgeinternal.DebuggerTarget
	err := s.extension(index).backgroundCall(ctx, hub.DebuggerTargets{}, &list)
	return list, err
}

func (s *session) Shutdown(cause error) {
	s.shutdownNative(cause)
	s.hub.EndAll(cause)
}

func (s *session) Close() error {
	s.mu.Lock()
	s.closed = true
	exts := append([]*Extension(nil), s.exts...)
	s.mu.Unlock()
	s.stop()
	err := s.hub.Close(nil)
	s.wg.Wait()
	for _, e := range exts {
		e.sessionClosed()
	}
	return err
}

// closing is a context that ends when the session closes, for work moved
// off a read loop.
func (s *session) closing() context.Context { return s.life }
