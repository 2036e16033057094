package chromium

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"golang.org/x/sys/unix"
)

// mux is extbridge's own end of the DevTools pipe, beside chromedp's.
//
// chromedp's ExecAllocator starts Chromium and owns its life (flags,
// Pdeathsig, the graceful close, the leftovers), and its Browser reads and
// writes the pipe. But chromedp reaches a target only through a Target,
// whose attach sends a dozen commands one after another (Runtime.enable, an
// evaluate, Log, Network, Inspector, Page, DOM, CSS, target discovery,
// auto-attach, lifecycle events), each of which extbridge then had to turn
// off again, and it opens every tab in a window of its own. extbridge's
// tabs and Eval sessions need one attach and the few commands they use.
//
// So Launch puts the mux between the browser and chromedp: chromedp's
// ModifyCmdFunc hands it the ends of the pipe that the browser would get as
// its file descriptors 3 and 4, and the browser gets the mux's instead.
// Every message chromedp writes goes to the browser as it is; every message
// from the browser goes to chromedp as it is, except the replies to the
// mux's own commands (ids from muxFirstID up) and the messages of the
// mux's own sessions, which stay with the mux. Browser-level events go to
// chromedp and are also shown to the mux's watchers.
type mux struct {
	toBrowser    *os.File // the mux's end of the browser's fd 3 (commands)
	fromBrowser  *os.File // the mux's end of the browser's fd 4 (replies, events)
	fromChromedp *os.File // what chromedp writes for the browser's fd 3
	toChromedp   *os.File // what chromedp reads as the browser's fd 4
	childEnds    []*os.File

	wmu sync.Mutex // one whole message at a time into toBrowser

	next atomic.Int64

	mu       sync.Mutex
	pending  map[int64]func(res jsonv2.Value, err error)
	sessions map[target.SessionID]*session
	watchers map[*watcher]struct{}

	autoAttach bool                   // the browser attaches the mux to every page
	auto       map[target.ID]*session // those sessions, by page
	err        error                  // set once the pipe is gone
	done       chan struct{}

	wg sync.WaitGroup
}

// muxFirstID is the first id of the mux's own commands. chromedp numbers
// its commands from 1, and Chromium reads an id as a 32-bit int.
const muxFirstID = 1 << 30

// errPipeClosed is the error of a command that the pipe ended under.
var errPipeClosed = errors.New("the DevTools pipe to the browser is closed")

func newMux() *mux {
	m := &mux{
		pending:  make(map[int64]func(jsonv2.Value, error)),
		sessions: make(map[target.SessionID]*session),
		watchers: make(map[*watcher]struct{}),
		auto:     make(map[target.ID]*session),
		done:     make(chan struct{}),
	}
	m.next.Store(muxFirstID)
	return m
}

// install is the ExecAllocator's ModifyCmdFunc: it takes the browser's ends
// of chromedp's pipe (cmd.ExtraFiles, fds 3 and 4), gives the browser the
// mux's instead and starts relaying. It also does what chromedp's own
// default does there: the browser gets SIGKILL when the Go process dies.
func (m *mux) install(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = new(syscall.SysProcAttr)
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if len(cmd.ExtraFiles) != 2 || cmd.ExtraFiles[0] == nil || cmd.ExtraFiles[1] == nil {
		return fmt.Errorf("chromedp gave the browser %d extra files, not the two ends of its pipe", len(cmd.ExtraFiles))
	}
	// chromedp closes its ends once the browser runs: keep copies.
	// Non-blocking, so that closing them ends a read in progress.
	dup := func(f *os.File) (*os.File, error) {
		fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err == nil {
			err = unix.SetNonblock(fd, true)
		}
		if err != nil {
			return nil, fmt.Errorf("failed to duplicate the DevTools pipe: %w", err)
		}
		return os.NewFile(uintptr(fd), f.Name()), nil
	}
	var err error
	if m.fromChromedp, err = dup(cmd.ExtraFiles[0]); err != nil {
		return err
	}
	if m.toChromedp, err = dup(cmd.ExtraFiles[1]); err != nil {
		return err
	}
	browserR, toBrowser, err := os.Pipe()
	if err != nil {
		return err
	}
	fromBrowser, browserW, err := os.Pipe()
	if err != nil {
		browserR.Close()
		toBrowser.Close()
		return err
	}
	m.toBrowser, m.fromBrowser = toBrowser, fromBrowser
	m.childEnds = []*os.File{browserR, browserW}
	cmd.ExtraFiles = []*os.File{browserR, browserW}
	m.wg.Add(2)
	go m.fromChromedpLoop()
	go m.fromBrowserLoop()
	return nil
}

// started closes the parent's copies of the browser's ends, once it runs,
// so that the mux sees the pipe end when the browser exits.
func (m *mux) started() {
	for _, f := range m.childEnds {
		f.Close()
	}
	m.childEnds = nil
}

// close closes every file of the mux and waits for its loops.
func (m *mux) close() {
	m.started()
	for _, f := range []*os.File{m.toBrowser, m.fromBrowser, m.fromChromedp, m.toChromedp} {
		if f != nil {
			f.Close()
		}
	}
	m.wg.Wait()
}

// fromChromedpLoop relays chromedp's commands to the browser.
func (m *mux) fromChromedpLoop() {
	defer m.wg.Done()
	r := bufio.NewReaderSize(m.fromChromedp, 64<<10)
	for {
		msg, err := r.ReadSlice(0)
		if errors.Is(err, bufio.ErrBufferFull) {
			big := append([]byte(nil), msg...)
			var rest []byte
			rest, err = r.ReadBytes(0)
			msg = append(big, rest...)
		}
		if err != nil {
			// chromedp closed the pipe: the browser sees it end too.
			m.toBrowser.Close()
			return
		}
		if err := m.write(msg); err != nil {
			return
		}
	}
}

// write writes one message, with its zero byte, to the browser.
func (m *mux) write(msg []byte) error {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	_, err := m.toBrowser.Write(msg)
	return err
}

// envelope is what the mux reads of every message from the browser.
type envelope struct {
	ID        int64            `json:"id"`
	SessionID target.SessionID `json:"sessionId"`
	Method    string           `json:"method"`
}

// reply is a reply to one of the mux's commands.
type reply struct {
	Result jsonv2.Value   `json:"result"`
	Error  *cdproto.Error `json:"error"`
}

// fromBrowserLoop routes the browser's messages.
func (m *mux) fromBrowserLoop() {
	defer m.wg.Done()
	r := bufio.NewReaderSize(m.fromBrowser, 1<<20)
	for {
		msg, err := r.ReadBytes(0)
		if err != nil {
			m.end(errPipeClosed)
			m.toChromedp.Close()
			return
		}
		body := bytes.TrimSuffix(msg, []byte{0})
		var env envelope
		if jsonv2.Unmarshal(body, &env, chromedp.DefaultUnmarshalOptions) == nil {
			if m.route(env, body) {
				continue
			}
		}
		if _, err := m.toChromedp.Write(msg); err != nil {
			m.end(errPipeClosed)
			return
		}
	}
}

// route handles a message of the mux's and reports whether it was one.
func (m *mux) route(env envelope, body []byte) bool {
	if env.ID >= muxFirstID {
		m.mu.Lock()
		done := m.pending[env.ID]
		delete(m.pending, env.ID)
		m.mu.Unlock()
		if done != nil {
			var rep reply
			if err := jsonv2.Unmarshal(body, &rep, chromedp.DefaultUnmarshalOptions); err != nil {
				done(nil, err)
			} else if rep.Error != nil {
				done(nil, rep.Error)
			} else {
				done(rep.Result, nil)
			}
		}
		return true
	}
	if env.SessionID != "" {
		m.mu.Lock()
		s := m.sessions[env.SessionID]
		m.mu.Unlock()
		if s == nil {
			return false
		}
		if env.Method != "" {
			s.event(env.Method, body)
		}
		return true
	}
	if env.Method == "" {
		return false
	}
	detach := env.Method == target.DetachedFromTarget.Method
	if env.Method == target.AttachedToTarget.Method {
		return m.attached(body)
	}
	ws := m.watchersSnapshot()
	if !detach && len(ws) == 0 {
		return false
	}
	var p struct {
		Params jsonv2.Value `json:"params"`
	}
	if jsonv2.Unmarshal(body, &p, chromedp.DefaultUnmarshalOptions) != nil {
		return false
	}
	for _, w := range ws {
		w.fn(env.Method, p.Params)
	}
	if detach {
		var ev target.EventDetachedFromTarget
		if jsonv2.Unmarshal(p.Params, &ev, chromedp.DefaultUnmarshalOptions) == nil {
			m.mu.Lock()
			s := m.sessions[ev.SessionID]
			delete(m.sessions, ev.SessionID)
			if s != nil && m.auto[s.target] == s {
				delete(m.auto, s.target)
			}
			m.mu.Unlock()
			if s != nil {
				s.detached(errDetached)
				return true // chromedp never knew this session
			}
		}
	}
	return false
}

// attached handles a browser-level Target.attachedToTarget: a page target
// the browser attached the mux to by itself (see autoAttachPages) gets a session
// of the mux, which takes every message of it. It reports whether the
// session is the mux's.
func (m *mux) attached(body []byte) bool {
	var ev struct {
		Params target.EventAttachedToTarget `json:"params"`
	}
	if jsonv2.Unmarshal(body, &ev, chromedp.DefaultUnmarshalOptions) != nil || ev.Params.TargetInfo == nil {
		return false
	}
	info := ev.Params.TargetInfo
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.autoAttach || info.Type != "page" || m.err != nil {
		return false
	}
	s := m.sessions[ev.Params.SessionID]
	if s == nil {
		s = newSession(m, ev.Params.SessionID, info.TargetID)
		m.sessions[s.id] = s
	}
	if old := m.auto[info.TargetID]; old == nil || !old.alive() {
		m.auto[info.TargetID] = s
	}
	return true
}

// autoAttachPages makes the browser attach the mux to every page target, those
// that exist and every new one, before it answers the command that made it
// (Target.createTarget answers after its Target.attachedToTarget). So a
// tab's session costs no Target.attachToTarget of its own. chromedp must
// attach to no page after this: its attachedToTarget would be the mux's.
// Service workers are left out: an attached session keeps a worker from
// its idle stop.
func (m *mux) autoAttachPages(ctx context.Context) error {
	m.mu.Lock()
	m.autoAttach = true
	m.mu.Unlock()
	flat := true
	_, err := browserCall(ctx, m, target.SetAutoAttach, target.SetAutoAttachParams{
		AutoAttach: true, Flatten: &flat,
		Filter: target.Filter{{Type: "page"}, {Exclude: true}},
	})
	return err
}

// autoSession returns the session the browser attached to a page target
// by itself, or nil.
func (m *mux) autoSession(id target.ID) *session {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.auto[id]; s != nil && s.alive() {
		return s
	}
	return nil
}

// anyPage returns the session of some page the browser attached the mux
// to by itself, or nil.
func (m *mux) anyPage() *session {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.auto {
		if s.alive() {
			return s
		}
	}
	return nil
}

// end fails every pending command and session once the pipe is gone.
func (m *mux) end(err error) {
	m.mu.Lock()
	if m.err != nil {
		m.mu.Unlock()
		return
	}
	m.err = err
	close(m.done)
	pending := m.pending
	m.pending = nil
	sessions := m.sessions
	m.sessions = map[target.SessionID]*session{}
	m.mu.Unlock()
	for _, done := range pending {
		done(nil, err)
	}
	for _, s := range sessions {
		s.detached(err)
	}
}

// send writes a command for the session sid ("" for the browser) and
// calls done with its reply, on the mux's read loop: done must not block.
func (m *mux) send(sid target.SessionID, method string, params any, done func(jsonv2.Value, error)) {
	id := m.next.Add(1)
	msg := cdproto.Message{ID: id, SessionID: sid, Method: cdproto.MethodType(method)}
	if params != nil {
		buf, err := jsonv2.Marshal(params, chromedp.DefaultMarshalOptions)
		if err != nil {
			done(nil, err)
			return
		}
		msg.Params = buf
	}
	buf, err := jsonv2.Marshal(&msg, chromedp.DefaultMarshalOptions)
	if err != nil {
		done(nil, err)
		return
	}
	m.mu.Lock()
	if m.err != nil {
		err := m.err
		m.mu.Unlock()
		done(nil, err)
		return
	}
	m.pending[id] = done
	m.mu.Unlock()
	if err := m.write(append(buf, 0)); err != nil {
		m.mu.Lock()
		d := m.pending[id]
		delete(m.pending, id)
		m.mu.Unlock()
		if d != nil {
			d(nil, errPipeClosed)
		}
	}
}

// call sends a command and waits for its reply, decoding the result into
// res (res may be nil). A context that ends leaves the command running.
func (m *mux) call(ctx context.Context, sid target.SessionID, method string, params, res any) error {
	type result struct {
		v   jsonv2.Value
		err error
	}
	ch := make(chan result, 1)
	m.send(sid, method, params, func(v jsonv2.Value, err error) { ch <- result{v, err} })
	select {
	case r := <-ch:
		if r.err != nil || res == nil || len(r.v) == 0 {
			return r.err
		}
		return jsonv2.Unmarshal(r.v, res, chromedp.DefaultUnmarshalOptions)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// browserCall runs a typed command on the browser itself.
func browserCall[P, R any](ctx context.Context, m *mux, c cdp.Command[P, R], params P) (R, error) {
	var res R
	err := m.call(ctx, "", c.Method, params, &res)
	return res, err
}

// watcher sees the browser-level events while it is registered. fn runs on
// the mux's read loop, in the browser's order: it must not block.
type watcher struct {
	fn func(method string, params jsonv2.Value)
}

func (m *mux) watch(fn func(method string, params jsonv2.Value)) (stop func()) {
	w := &watcher{fn: fn}
	m.mu.Lock()
	m.watchers[w] = struct{}{}
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		delete(m.watchers, w)
		m.mu.Unlock()
	}
}

func (m *mux) watchersSnapshot() []*watcher {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.watchers) == 0 {
		return nil
	}
	out := make([]*watcher, 0, len(m.watchers))
	for w := range m.watchers {
		out = append(out, w)
	}
	return out
}
