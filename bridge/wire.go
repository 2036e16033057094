package bridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

//go:embed js/bridge.js
var bridgeJS string

// maxFrame is the largest wire frame either side accepts. Chromium refuses
// port messages above 64 MiB, so a frame that carries one fits with room.
const maxFrame = 128 << 20

// helloTimeout bounds how long a new wire connection may take to prove it
// holds the token.
const helloTimeout = 10 * time.Second

// helloLimit is the largest first frame (the hello) a connection may send
// before it proved it holds the token, so that anyone who finds the port
// cannot make the Go process buffer maxFrame bytes per connection. A hello
// carries the realm's URL, which Chromium caps at 2 MiB.
const helloLimit = 4 << 20

// Hub is the Go end of the wire: a loopback WebSocket server that every
// bridge realm of one browser connects to. Package driver creates one per
// [driver.Launch]; most programs never use it directly.
//
// A Hub is safe for concurrent use. Close ends every realm connection and
// every port.
type Hub struct {
	token  string
	ln     net.Listener
	srv    *http.Server
	logger *slog.Logger
	driver Driver

	mu      sync.Mutex
	exts    []*Extension
	conns   map[*realmConn]struct{}
	closed  bool
	closeCh chan struct{}
	wg      sync.WaitGroup
}

// Driver is what a Hub needs from the browser driver: the parts of the
// work that only the browser's own protocol (CDP or BiDi) can do.
type Driver interface {
	// StopBackground stops the extension's background the way the browser
	// does when it is idle. It returns errors.ErrUnsupported where the
	// browser cannot do that.
	StopBackground(ctx context.Context, e *Extension) error
	// WakeBackground starts the extension's background (service worker or
	// event page) if it is not running. The bridge then connects by itself.
	WakeBackground(ctx context.Context, e *Extension) error
	// Eval evaluates js in a realm of the extension and returns its JSON
	// value. realm is "background" or "content"; tabID and frameID name the
	// content-script world. It returns errors.ErrUnsupported to let the
	// bridge evaluate the code itself.
	Eval(ctx context.Context, e *Extension, realm string, tabID, frameID int, contentRealmID, js string) (json.RawMessage, error)
}

// HubOptions configures NewHub.
type HubOptions struct {
	Logger *slog.Logger // nil: discard
	Driver Driver       // may be set later with SetDriver
}

// NewHub starts a wire server on 127.0.0.1 with a fresh 128-bit token.
func NewHub(opts HubOptions) (*Hub, error) {
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
	h := &Hub{
		token:   hex.EncodeToString(raw[:]),
		ln:      ln,
		logger:  logger,
		driver:  opts.Driver,
		conns:   make(map[*realmConn]struct{}),
		closeCh: make(chan struct{}),
	}
	h.srv = &http.Server{
		Handler:           http.HandlerFunc(h.serveWire),
		ReadHeaderTimeout: helloTimeout,
		ErrorLog:          nil,
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		_ = h.srv.Serve(ln)
	}()
	return h, nil
}

// SetDriver sets the driver once the browser runs.
func (h *Hub) SetDriver(d Driver) {
	h.mu.Lock()
	h.driver = d
	h.mu.Unlock()
}

func (h *Hub) getDriver() Driver {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.driver
}

// URL is the WebSocket address the bridge scripts dial.
func (h *Hub) URL() string { return "ws://" + h.ln.Addr().String() + "/" }

// Close stops the server, ends every realm connection (their ports end with
// an error) and waits for all of the Hub's goroutines. It is idempotent.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	close(h.closeCh)
	conns := make([]*realmConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	err := h.srv.Close()
	for _, c := range conns {
		c.end(errors.New("the browser session ended"))
	}
	h.wg.Wait()
	for _, e := range h.extensions() {
		e.hubClosed()
	}
	return err
}

// Shutdown ends every realm connection with cause, so every port that is
// still open ends with a [*DisconnectError] that carries it. The driver calls
// it when the browser goes away, before Close.
func (h *Hub) Shutdown(cause error) {
	h.mu.Lock()
	conns := make([]*realmConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.end(cause)
	}
}

func (h *Hub) extensions() []*Extension {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*Extension(nil), h.exts...)
}

// script returns the bridge script of one realm kind of one extension.
func (h *Hub) script(ext int, realm string) []byte {
	cfg, _ := json.Marshal(map[string]any{"url": h.URL(), "token": h.token, "ext": ext, "realm": realm})
	return []byte(strings.Replace(bridgeJS, "/*EXTBRIDGE_CONFIG*/ null", string(cfg), 1))
}

// hello is the first frame of every realm connection.
type hello struct {
	T     string `json:"t"`
	Token string `json:"token"`
	Ext   int    `json:"ext"`
	Realm string `json:"realm"`
	ID    string `json:"id"`
	URL   string `json:"url"`
	Top   bool   `json:"top"`
	RID   string `json:"rid"`
}

func (h *Hub) serveWire(w http.ResponseWriter, r *http.Request) {
	// Content scripts connect with the page's origin, so the origin says
	// nothing; the token is the authentication.
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	c.SetReadLimit(helloLimit)
	ctx, cancel := context.WithTimeout(context.Background(), helloTimeout)
	_, data, err := c.Read(ctx)
	cancel()
	if err != nil {
		h.logger.Warn("extbridge: rejected a wire connection without a hello", "remote", r.RemoteAddr, "err", err)
		c.CloseNow()
		return
	}
	var hi hello
	if json.Unmarshal(data, &hi) != nil || hi.T != "hello" ||
		subtle.ConstantTimeCompare([]byte(hi.Token), []byte(h.token)) != 1 {
		h.logger.Warn("extbridge: rejected a wire connection without the token", "remote", r.RemoteAddr)
		c.Close(websocket.StatusPolicyViolation, "")
		return
	}
	h.mu.Lock()
	if h.closed || hi.Ext < 0 || hi.Ext >= len(h.exts) {
		h.mu.Unlock()
		c.Close(websocket.StatusPolicyViolation, "")
		return
	}
	c.SetReadLimit(maxFrame)
	e := h.exts[hi.Ext]
	rc := newRealmConn(h, e, c, hi)
	h.conns[rc] = struct{}{}
	h.wg.Add(2)
	h.mu.Unlock()
	go rc.writeLoop()
	e.addRealm(rc)
	e.syncWatch(rc)
	rc.readLoop() // this handler's goroutine is one of the two
}

// realmConn is one bridge realm's wire connection.
type realmConn struct {
	hub  *Hub
	ext  *Extension
	ws   *websocket.Conn
	info hello

	out  chan []byte
	done chan struct{}

	mu        sync.Mutex
	err       error // why the realm ended
	nextReq   int64
	pending   map[int64]chan reply
	ports     map[int]*Port
	listeners map[int]*Listener
	nextL     int
	opened    map[int64]*Port // ports Go opened, by request id, until taken
}

type reply struct {
	ok  json.RawMessage
	err error
}

func newRealmConn(h *Hub, e *Extension, ws *websocket.Conn, hi hello) *realmConn {
	return &realmConn{
		hub:       h,
		ext:       e,
		ws:        ws,
		info:      hi,
		out:       make(chan []byte, 256),
		done:      make(chan struct{}),
		pending:   make(map[int64]chan reply),
		ports:     make(map[int]*Port),
		listeners: make(map[int]*Listener),
		opened:    make(map[int64]*Port),
	}
}

// describe names the realm for error messages.
func (rc *realmConn) describe() string {
	switch rc.info.Realm {
	case "background":
		return "the background of " + rc.ext.label()
	case "content":
		return fmt.Sprintf("the content script of %s in %s", rc.ext.label(), rc.info.URL)
	default:
		return fmt.Sprintf("the extension page %s", rc.info.URL)
	}
}

// send queues a frame. It never writes with the caller's context, because
// a write cut short by a context would break the whole connection.
func (rc *realmConn) send(ctx context.Context, frame []byte) error {
	select {
	case <-rc.done:
		return rc.endErr()
	default:
	}
	select {
	case rc.out <- frame:
		return nil
	case <-rc.done:
		return rc.endErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sendControl sends a command that has no reply. It gives up after a few
// seconds (a realm that takes nothing is stuck or going away).
func (rc *realmConn) sendControl(frame []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rc.send(ctx, frame)
}

func (rc *realmConn) endErr() error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.err
}

func (rc *realmConn) writeLoop() {
	defer rc.hub.wg.Done()
	var batch []byte
	for {
		var f []byte
		select {
		case <-rc.done:
			return
		case f = <-rc.out:
		}
		// Whatever else is queued goes in the same frame, as a JSON array:
		// one WebSocket message for a burst of posts.
		frame := f
		if len(rc.out) > 0 {
			batch = append(batch[:0], '[')
			batch = append(batch, f...)
		more:
			for len(batch) < batchBytes {
				select {
				case g := <-rc.out:
					batch = append(batch, ',')
					batch = append(batch, g...)
				default:
					break more
				}
			}
			frame = append(batch, ']')
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := rc.ws.Write(ctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			rc.end(rc.closeCause(err))
			return
		}
		if cap(batch) > 4*batchBytes {
			batch = nil // do not keep a huge buffer after a burst of large messages
		}
	}
}

// batchBytes is where the write loop stops adding frames to a batch.
const batchBytes = 256 << 10

// parsePortMessage reads the bridge's most frequent frames, a port message
// in or out, {"t":"msg"|"out","p":N,"d":DATA}, exactly as the bridge's
// JSON.stringify writes them (that key order, no spaces). ok is false for
// anything else, which then goes through encoding/json. DATA is checked to
// be valid JSON and shares data's memory.
func parsePortMessage(data []byte) (t string, p int, d json.RawMessage, ok bool) {
	const head = `{"t":"msg","p":`
	if len(data) < len(head) || !bytes.HasPrefix(data[len(`{"t":"msg"`):], []byte(`,"p":`)) {
		return "", 0, nil, false
	}
	switch string(data[:len(`{"t":"msg"`)]) {
	case `{"t":"msg"`:
		t = "msg"
	case `{"t":"out"`:
		t = "out"
	default:
		return "", 0, nil, false
	}
	rest := data[len(head):]
	n := 0
	for n < len(rest) && n < 9 && rest[n] >= '0' && rest[n] <= '9' {
		p = p*10 + int(rest[n]-'0')
		n++
	}
	rest = rest[n:]
	const mid = `,"d":`
	if n == 0 || (n > 1 && data[len(head)] == '0') || !bytes.HasPrefix(rest, []byte(mid)) || rest[len(rest)-1] != '}' {
		return "", 0, nil, false
	}
	d = rest[len(mid) : len(rest)-1]
	if !json.Valid(d) {
		return "", 0, nil, false
	}
	return t, p, d, true
}

// frameIn is every frame a bridge sends after its hello.
type frameIn struct {
	T      string          `json:"t"`
	I      int64           `json:"i"`
	OK     json.RawMessage `json:"ok"`
	Err    *string         `json:"err"`
	P      int             `json:"p"`
	L      int             `json:"l"`
	D      json.RawMessage `json:"d"`
	E      string          `json:"e"`
	Self   bool            `json:"self"`
	How    string          `json:"how"`
	Name   string          `json:"name"`
	Sender *MessageSender  `json:"sender"`
	Go     bool            `json:"go"`
	Level  string          `json:"level"`
	Text   string          `json:"text"`
}

func (rc *realmConn) readLoop() {
	defer rc.hub.wg.Done()
	for {
		_, data, err := rc.ws.Read(context.Background())
		if err != nil {
			rc.end(rc.closeCause(err))
			return
		}
		// A frame is one event or a batch of them, in order, one per line.
		for len(data) > 0 {
			line := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				line, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			rc.dispatchRaw(line)
		}
	}
}

// browserGone returns the error every port gets when the browser process
// exited, if the driver can tell (it implements Alive) and it did; else nil.
func (h *Hub) browserGone() error {
	a, ok := h.getDriver().(interface{ Alive(context.Context) error })
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if a.Alive(ctx) != nil {
		return errors.New("the browser process exited")
	}
	return nil
}

// closeCause says why a realm's wire closed: the browser's death, else
// with a close frame the realm going away by itself, else a broken
// connection.
func (rc *realmConn) closeCause(err error) error {
	var what string
	switch rc.info.Realm {
	case "background":
		what = "stopped (the service worker or background page ended)"
	case "content":
		what = "went away (the page was closed, navigated or its frame removed)"
	default:
		what = "closed"
	}
	// The realm may have gone with the whole browser (its network process
	// may still send a close frame as it dies). Then say that.
	if gone := rc.hub.browserGone(); gone != nil {
		return gone
	}
	// A close frame, or a socket the browser dropped as the realm died, is
	// the realm going away; anything else is worth showing.
	if websocket.CloseStatus(err) != -1 || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("%s %s", rc.describe(), what)
	}
	return fmt.Errorf("%s %s: %w", rc.describe(), what, err)
}

func (rc *realmConn) dispatchRaw(data []byte) {
	var f frameIn
	if t, p, d, ok := parsePortMessage(data); ok { // the common case, without reflection
		f.T, f.P, f.D = t, p, d
		rc.dispatch(&f)
		return
	}
	if err := json.Unmarshal(data, &f); err != nil {
		rc.hub.logger.Warn("extbridge: bad frame from bridge", "realm", rc.describe(), "err", err)
		return
	}
	rc.dispatch(&f)
}

func (rc *realmConn) dispatch(f *frameIn) {
	switch f.T {
	case "r":
		rc.mu.Lock()
		ch := rc.pending[f.I]
		delete(rc.pending, f.I)
		rc.mu.Unlock()
		if ch == nil {
			return
		}
		if f.Err != nil {
			ch <- reply{err: errors.New(*f.Err)}
		} else {
			ch <- reply{ok: f.OK}
		}
	case "open":
		p := newPort(rc, f.P, f.Name, f.Sender)
		p.how = f.How
		rc.mu.Lock()
		abandoned := false
		if f.Go {
			p.claimed = true // before any message can arrive
			// The call that opened it may have given up (its context
			// ended): then nobody will take the port, so it is closed.
			if _, waiting := rc.pending[f.I]; waiting {
				rc.opened[f.I] = p
			} else {
				abandoned = true
			}
		}
		old := rc.ports[f.P]
		rc.ports[f.P] = p
		rc.mu.Unlock()
		if old != nil { // a bridge never reuses an id; end the old port rather than lose it
			old.finish(&DisconnectError{Message: fmt.Sprintf("the bridge reused port id %d", f.P)})
		}
		rc.ext.record(Event{Kind: EventOpen, Realm: rc.realm(), Port: p, How: f.How, Name: f.Name, Sender: f.Sender, ByGo: f.Go})
		if abandoned {
			_ = p.Disconnect()
		}
	case "msg":
		if p := rc.port(f.P); p != nil {
			d := f.D
			if len(d) == 0 {
				d = json.RawMessage("null")
			}
			p.deliver(d)
			rc.ext.record(Event{Kind: EventMessage, Realm: rc.realm(), Port: p, Data: d})
		}
	case "out":
		if p := rc.port(f.P); p != nil {
			rc.ext.record(Event{Kind: EventMessage, Realm: rc.realm(), Port: p, Data: f.D, Outgoing: true})
		}
	case "disc":
		rc.mu.Lock()
		p := rc.ports[f.P]
		delete(rc.ports, f.P)
		rc.mu.Unlock()
		if p != nil {
			var err error
			if f.E != "" {
				err = &DisconnectError{Message: f.E}
			}
			p.finish(err)
			rc.ext.record(Event{Kind: EventDisconnect, Realm: rc.realm(), Port: p, Err: err, Local: f.Self})
		}
	case "log":
		rc.ext.record(Event{Kind: EventLog, Realm: rc.realm(), Level: f.Level, Text: f.Text})
	case "perr":
		if p := rc.port(f.P); p != nil {
			p.setPostErr(&DisconnectError{Message: f.E})
		}
	case "acc":
		rc.mu.Lock()
		l := rc.listeners[f.L]
		p := rc.ports[f.P]
		rc.mu.Unlock()
		switch {
		case l != nil && p != nil:
			p.claim()
			l.deliver(p)
		case p != nil:
			// The listener was closed while the port was on its way: no one
			// will accept it, so it must not stay open in the realm.
			rc.hub.wg.Add(1)
			go func() {
				defer rc.hub.wg.Done()
				_ = p.Disconnect()
			}()
		}
	}
}

// takeOpened returns the port that the command with request id opened.
func (rc *realmConn) takeOpened(req int64) *Port {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	p := rc.opened[req]
	delete(rc.opened, req)
	return p
}

func (rc *realmConn) realm() Realm {
	return Realm{Kind: rc.info.Realm, URL: rc.info.URL, Top: rc.info.Top}
}

func (rc *realmConn) port(id int) *Port {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.ports[id]
}

// end closes the realm connection once; every port and listener in it ends
// with cause.
func (rc *realmConn) end(cause error) {
	rc.mu.Lock()
	if rc.err != nil {
		rc.mu.Unlock()
		return
	}
	rc.err = cause
	ports := rc.ports
	rc.ports = map[int]*Port{}
	pending := rc.pending
	rc.pending = map[int64]chan reply{}
	listeners := rc.listeners
	rc.listeners = map[int]*Listener{}
	rc.mu.Unlock()

	// The extension forgets the realm before anyone waiting on done wakes,
	// so Background never hands out a realm that has ended.
	rc.ext.removeRealm(rc)
	rc.hub.mu.Lock()
	delete(rc.hub.conns, rc)
	rc.hub.mu.Unlock()
	close(rc.done)

	rc.ws.CloseNow()
	for _, ch := range pending {
		ch <- reply{err: cause}
	}
	for _, p := range ports {
		err := &DisconnectError{Message: cause.Error(), cause: cause}
		p.finish(err)
		rc.ext.record(Event{Kind: EventDisconnect, Realm: rc.realm(), Port: p, Err: err})
	}
	for _, l := range listeners {
		l.end(cause)
	}
}

// call sends a command and waits for its reply.
func (rc *realmConn) call(ctx context.Context, cmd map[string]any, out any) error {
	ch := make(chan reply, 1)
	rc.mu.Lock()
	if rc.err != nil {
		err := rc.err
		rc.mu.Unlock()
		return err
	}
	rc.nextReq++
	id := rc.nextReq
	rc.pending[id] = ch
	rc.mu.Unlock()
	cmd["i"] = id
	frame, err := json.Marshal(cmd)
	if err != nil {
		rc.forget(id)
		return err
	}
	if err := rc.send(ctx, frame); err != nil {
		rc.forget(id)
		return err
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return r.err
		}
		if out != nil {
			return json.Unmarshal(r.ok, out)
		}
		return nil
	case <-ctx.Done():
		rc.forget(id)
		return ctx.Err()
	}
}

func (rc *realmConn) forget(id int64) {
	rc.mu.Lock()
	delete(rc.pending, id)
	rc.mu.Unlock()
}
