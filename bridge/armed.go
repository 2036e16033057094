package bridge

import (
	"errors"
	"slices"
	"sync"

	"github.com/extbridge/extbridge/internal/hub"
)

// armed is a Go listener of the background (a Listener or an Inbox) that
// outlives each background realm.
type armed interface {
	slotID() int
	joinRealm(rc *realmConn) error // puts it in the realm's table
	rearm() hub.Command
	end(cause error)
}

// newSlot gives a listener its id, unique in the extension.
func (e *Extension) newSlot(background bool) slot {
	e.armMu.Lock()
	defer e.armMu.Unlock()
	e.nextL++
	return slot{ext: e, id: e.nextL, background: background}
}

// arm records a background listener, for the backgrounds to come.
func (e *Extension) arm(id int, a armed) {
	e.armMu.Lock()
	defer e.armMu.Unlock()
	if e.armed == nil {
		e.armed = map[int]armed{}
	}
	e.armed[id] = a
}

func (e *Extension) disarm(id int) {
	e.armMu.Lock()
	delete(e.armed, id)
	e.armMu.Unlock()
}

// rearm gives a background that has just connected the background
// listeners Go has: each goes into the realm at once, and the listeners the
// bridge did not add by itself before the extension's first event (its
// hello says which) are added now, off the realm's read loop. rc.armed is
// closed once they all are (or failed: the realm ended, or RealmTimeout),
// so that Background returns only then: a message sent after it finds
// Go's listeners in place.
func (e *Extension) rearm(rc *realmConn) {
	e.armMu.Lock()
	var todo []armed
	for _, a := range e.armed {
		todo = append(todo, a)
	}
	e.armMu.Unlock()
	already := rc.c.Hello().Armed
	var cmds []hub.Command
	for _, id := range already {
		if !slices.ContainsFunc(todo, func(a armed) bool { return a.slotID() == id }) {
			// Closed while no background ran: the realm's storage still
			// had it.
			cmds = append(cmds, hub.Unlisten{L: id})
		}
	}
	for _, a := range todo {
		_ = a.joinRealm(rc)
		if slices.Contains(already, a.slotID()) {
			continue
		}
		cmds = append(cmds, a.rearm())
	}
	if len(cmds) == 0 {
		close(rc.armed)
		return
	}
	rc.later(func() {
		defer close(rc.armed)
		var wg sync.WaitGroup
		for _, cmd := range cmds {
			wg.Go(func() { _ = call(rc.s.closing(), rc, cmd, nil) })
		}
		wg.Wait()
	})
}

// endArmed ends the background listeners: the browser session is over.
func (e *Extension) endArmed() {
	e.armMu.Lock()
	all := e.armed
	e.armed = nil
	e.armMu.Unlock()
	for _, a := range all {
		a.end(errors.New("the browser session ended"))
	}
}
