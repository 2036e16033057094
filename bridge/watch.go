package bridge

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/extbridge/extbridge/internal/queue"
)

// HistorySize is how many events an extension keeps for watches that start
// later, and how far one Watch may fall behind. Older events are dropped,
// and a Watch reports the gap as an [EventOverflow] event.
const HistorySize = 8192

// history is the bounded log of an extension's events, and the queues of
// the watches open on it.
type history struct {
	mu      sync.Mutex
	events  []Event // ring of HistorySize
	next    int64   // how many events were ever added
	watches map[*Watch]struct{}
	closed  bool
}

func (h *history) add(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	if h.events == nil {
		h.events = make([]Event, HistorySize)
	}
	h.events[h.next%HistorySize] = ev
	h.next++
	for w := range h.watches {
		w.events.Push(ev)
	}
}

// open registers a watch and fills its queue with the events kept so far.
func (h *history) open(w *Watch) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	first := max(h.next-HistorySize, 0)
	if first > 0 {
		w.lost = int(first) // the history dropped these before the watch began
	}
	for seq := first; seq < h.next; seq++ {
		w.events.Push(h.events[seq%HistorySize])
	}
	if h.watches == nil {
		h.watches = map[*Watch]struct{}{}
	}
	h.watches[w] = struct{}{}
	return true
}

func (h *history) remove(w *Watch) {
	h.mu.Lock()
	delete(h.watches, w)
	h.mu.Unlock()
}

// close ends every watch: the browser session is over.
func (h *history) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for w := range h.watches {
		w.events.Close(&endedError{what: "watch", sentinel: ErrWatchClosed, cause: errors.New("the browser session ended")})
	}
	h.watches = nil
}

func (e *Extension) record(ev Event) {
	if ev.Realm.Kind == realmNative {
		return // the host end of a native port Go serves: the extension's own end is on the Watch
	}
	ev.Time = time.Now()
	e.history.add(ev)
}

// Watch follows every event of an extension, in every realm, from the
// extension's first instruction: the port events, and the extension's
// console output and uncaught errors ([EventLog]). It starts with the
// events kept since launch (at most [HistorySize]) and goes on with new
// ones. Events come in the order they happened within each realm.
//
// The bridge reports the extension's own port traffic and console output in
// batches, off the extension's critical path: within about 4 ms while a Watch
// of the extension is open, and within 50 ms (or at 1 MiB) while none is,
// which is cheaper for an extension nobody watches. Opening a Watch makes
// every realm send what it holds at once. Events of ports Go opened or
// accepted are never delayed. A page sends what it holds when it is hidden,
// and [Extension.StopBackground] takes the background's; only a realm that
// dies abruptly (a crash) can take its last batch with it.
//
// A Watch holds at most [HistorySize] events that Next has not returned
// yet; when it falls further behind, it drops the oldest and Next reports
// them with an [EventOverflow]. The Port of an open event keeps a bounded
// buffer of what it receives until Go calls [Port.Recv] on it (see
// [Port]), so a Watch read with Next alone stays bounded however much
// traffic it sees.
//
// A Watch is safe for concurrent use; each event goes to one Next call.
type Watch struct {
	e      *Extension
	events *queue.Queue[Event]

	mu   sync.Mutex
	lost int    // dropped before the watch began, reported first
	held *Event // the event that followed an overflow report
}

// Watch starts a watch at the oldest event the extension kept.
func (e *Extension) Watch(ctx context.Context) (*Watch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := &Watch{e: e, events: queue.New[Event](HistorySize)}
	if !e.history.open(w) {
		return nil, &endedError{what: "watch", sentinel: ErrWatchClosed, cause: errors.New("the browser session ended")}
	}
	e.setWatching(+1)
	return w, nil
}

// Next returns the next event, waiting for one. If events were lost since
// the last one (the history or this watch fell behind), it first returns an
// [EventOverflow] event that counts them.
func (w *Watch) Next(ctx context.Context) (Event, error) {
	for {
		if ev, ok := w.TryNext(); ok {
			return ev, nil
		}
		// Wait for an event, then take it as TryNext does (another Next
		// may take it first; then wait again).
		if err := w.events.Wait(ctx); err != nil {
			return Event{}, err
		}
	}
}

func (w *Watch) deliver(ev Event) Event {
	if ev.Kind == EventOpen && ev.Port != nil {
		ev.Port.watched()
	}
	return ev
}

// Close ends the watch; a Next that waits returns [ErrWatchClosed]. It is
// idempotent.
func (w *Watch) Close() error {
	if w.events.Close(ErrWatchClosed) {
		w.events.Drain()
		w.e.history.remove(w)
		w.e.setWatching(-1)
	}
	return nil
}

// TryNext returns the next event if one is there, without waiting, as Next
// would.
func (w *Watch) TryNext() (Event, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lost > 0 {
		n := w.lost
		w.lost = 0
		return Event{Time: time.Now(), Kind: EventOverflow, Dropped: n}, true
	}
	if w.held != nil {
		ev := *w.held
		w.held = nil
		return w.deliver(ev), true
	}
	ev, dropped, ok := w.events.TryPopCounting()
	if !ok {
		return Event{}, false
	}
	if dropped > 0 {
		w.held = &ev
		return Event{Time: time.Now(), Kind: EventOverflow, Dropped: dropped}, true
	}
	return w.deliver(ev), true
}
