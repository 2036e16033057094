package hub

import (
	"container/list"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// MaxFrame is the largest frame either side accepts. Chromium refuses port
// messages above 64 MiB, so a frame that carries one fits with room.
const MaxFrame = 128 << 20

// HelloTimeout bounds how long a new connection may take to prove it holds
// the token: from the TCP connection to its hello.
const HelloTimeout = 10 * time.Second

// HelloLimit is the largest first frame (the hello) a connection may send
// before it proved it holds the token, so that anyone who finds the port
// cannot make the Go process buffer MaxFrame bytes per connection. A hello
// carries the realm's URL, which Chromium caps at 2 MiB.
const HelloLimit = 4 << 20

// MaxUnauthenticated is how many connections may wait for their hello at
// once. When one more arrives, the oldest waiting one is closed: a real
// bridge sends its hello within milliseconds of connecting, so a flood of
// idle connections cannot keep it out.
const MaxUnauthenticated = 64

// Options configures [New].
type Options struct {
	Logger *slog.Logger // nil: discard

	// Accept is called for every authenticated connection, on that
	// connection's goroutine, before any frame after the hello is read. It
	// returns the connection's handler, or an error to refuse it.
	Accept func(c *Conn) (Handler, error)
}

// Handler receives what one connection's realm sends. Its methods run on
// the connection's read loop, one at a time, and must not block on anything
// user code controls.
type Handler interface {
	// Frame is called for every frame but replies to calls, in order.
	Frame(f *Frame)
	// Ended is called once, when the connection ends: cause is the error
	// given to [Conn.End] or [Server.Close], or a [*WireError] when the
	// WebSocket broke or the realm closed it. It returns the error the
	// connection reports from then on ([Conn.Err], pending calls).
	Ended(cause error) error
}

// WireError is the end of a connection that Go did not ask for.
type WireError struct{ Err error }

func (e *WireError) Error() string { return "the wire failed: " + e.Err.Error() }
func (e *WireError) Unwrap() error { return e.Err }

// Server is the loopback WebSocket server of one launch.
//
// A Server is safe for concurrent use. Close ends every connection.
type Server struct {
	token  string
	ln     net.Listener
	srv    *http.Server
	logger *slog.Logger
	accept func(*Conn) (Handler, error)

	mu      sync.Mutex
	conns   map[*Conn]struct{}
	waiting *list.List // of net.Conn, oldest first: connections without a hello yet
	inList  map[net.Conn]*list.Element
	closed  bool
	wg      sync.WaitGroup
}

type connKey struct{}

// New starts a server on 127.0.0.1 with a fresh 128-bit token.
func New(opts Options) (*Server, error) {
	if opts.Accept == nil {
		return nil, errors.New("hub: Options.Accept is nil")
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("failed to make a token: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen on loopback: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		token:   hex.EncodeToString(raw[:]),
		ln:      ln,
		logger:  logger,
		accept:  opts.Accept,
		conns:   make(map[*Conn]struct{}),
		waiting: list.New(),
		inList:  make(map[net.Conn]*list.Element),
	}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveWire),
		ReadHeaderTimeout: HelloTimeout,
		ConnContext: func(ctx context.Context, nc net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, nc)
		},
		ConnState: func(nc net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				s.admit(nc)
			case http.StateClosed:
				s.authenticated(nc)
			}
		},
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// URL is the WebSocket address the bridge scripts dial.
func (s *Server) URL() string { return "ws://" + s.ln.Addr().String() + "/" }

// Token is the secret every connection's hello must carry.
func (s *Server) Token() string { return s.token }

// admit records a new TCP connection as waiting for its hello, closing the
// oldest waiting one when there are too many.
func (s *Server) admit(nc net.Conn) {
	s.mu.Lock()
	s.inList[nc] = s.waiting.PushBack(nc)
	var evict net.Conn
	if s.waiting.Len() > MaxUnauthenticated {
		oldest := s.waiting.Front()
		evict = oldest.Value.(net.Conn)
		s.waiting.Remove(oldest)
		delete(s.inList, evict)
	}
	s.mu.Unlock()
	if evict != nil {
		s.logger.Warn("extbridge: dropped a wire connection that sent no hello (too many waiting)", "remote", evict.RemoteAddr())
		evict.Close()
	}
}

// authenticated stops counting nc as waiting for its hello.
func (s *Server) authenticated(nc net.Conn) {
	s.mu.Lock()
	if e, ok := s.inList[nc]; ok {
		s.waiting.Remove(e)
		delete(s.inList, nc)
	}
	s.mu.Unlock()
}

func (s *Server) serveWire(w http.ResponseWriter, r *http.Request) {
	nc, _ := r.Context().Value(connKey{}).(net.Conn)
	defer s.authenticated(nc) // whatever happens, it no longer waits
	// Content scripts connect with the page's origin, so the origin says
	// nothing; the token is the authentication.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	ws.SetReadLimit(HelloLimit)
	ctx, cancel := context.WithTimeout(context.Background(), HelloTimeout)
	_, data, err := ws.Read(ctx)
	cancel()
	if err != nil {
		s.logger.Warn("extbridge: rejected a wire connection without a hello", "remote", r.RemoteAddr, "err", err)
		ws.CloseNow()
		return
	}
	var hi Hello
	if json.Unmarshal(data, &hi) != nil || hi.T != "hello" ||
		subtle.ConstantTimeCompare([]byte(hi.Token), []byte(s.token)) != 1 {
		s.logger.Warn("extbridge: rejected a wire connection without the token", "remote", r.RemoteAddr)
		ws.Close(websocket.StatusPolicyViolation, "")
		return
	}
	s.authenticated(nc)
	hi.Token = ""
	ws.SetReadLimit(MaxFrame)
	c := newConn(s, ws, hi)
	h, err := s.accept(c)
	if err != nil {
		s.logger.Warn("extbridge: refused a realm", "realm", hi.Realm, "url", hi.URL, "err", err)
		ws.Close(websocket.StatusPolicyViolation, "")
		return
	}
	c.h = h
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.End(errors.New("the browser session ended"))
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(2) // the read loop (this goroutine) and the write loop
	s.mu.Unlock()
	go c.writeLoop()
	c.readLoop()
}

func (s *Server) forget(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Close stops the server, ends every connection with cause (nil: "the
// browser session ended") and waits for all of the server's goroutines. It
// is idempotent.
func (s *Server) Close(cause error) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.srv.Close()
	if cause == nil {
		cause = errors.New("the browser session ended")
	}
	s.EndAll(cause)
	s.wg.Wait()
	return err
}

// EndAll ends every connection with cause.
func (s *Server) EndAll(cause error) {
	s.mu.Lock()
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.End(cause)
	}
}
