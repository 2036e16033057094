// Package queue is the one queue behind every pulled event stream of
// extbridge: a port's messages (Port.Recv), a listener's ports
// (Listener.Accept), a watch's events (Watch.Next) and the BiDi client's
// events. Producers never block and never run consumer code; consumers pull
// with a context.
package queue

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is what Pop returns after a Close that gave no error.
var ErrClosed = errors.New("queue closed")

// Queue is a FIFO of T values. Push never blocks. Pop waits for a value,
// the end of the queue or the caller's context. Any number of goroutines may
// push and pop at once: a change wakes every waiter, and each value goes to
// exactly one Pop.
//
// A Queue may be bounded: then Push drops the oldest value when it is full
// and counts it, and [Queue.PopCounting] reports the count.
//
// After [Queue.Close], Pop still returns the values already queued, then the
// error Close was given.
type Queue[T any] struct {
	mu      sync.Mutex
	items   []T
	head    int // items[head:] are queued
	limit   int
	dropped int
	err     error
	closed  bool
	changed chan struct{} // closed and replaced when the queue changes
	done    chan struct{} // closed by Close
}

// New returns an empty queue that keeps at most limit values (0: no limit).
func New[T any](limit int) *Queue[T] {
	return &Queue[T]{limit: limit, changed: make(chan struct{}), done: make(chan struct{})}
}

// Push adds v at the end. It reports false, and drops v, once the queue is
// closed.
func (q *Queue[T]) Push(v T) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if q.limit > 0 && len(q.items)-q.head >= q.limit {
		var zero T
		q.items[q.head] = zero
		q.head++
		q.dropped++
	}
	q.items = append(q.items, v)
	q.wakeLocked()
	return true
}

// SetLimit changes the bound (0: no limit). A lower bound drops the oldest
// values at the next Push, not at once.
func (q *Queue[T]) SetLimit(limit int) {
	q.mu.Lock()
	q.limit = limit
	q.mu.Unlock()
}

func (q *Queue[T]) wakeLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// popLocked takes the first value, compacting the slice now and then so a
// long-lived queue does not keep a large backing array.
func (q *Queue[T]) popLocked() T {
	var zero T
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head++
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
		if cap(q.items) > 1024 {
			q.items = nil
		}
	case q.head > 1024 && q.head*2 > len(q.items):
		q.items = append(q.items[:0:0], q.items[q.head:]...)
		q.head = 0
	}
	return v
}

// Pop returns the first value, waiting until there is one. Once the queue
// is closed and empty it returns the error given to Close. If ctx ends
// first it returns ctx.Err() and the queue is unchanged.
func (q *Queue[T]) Pop(ctx context.Context) (T, error) {
	v, _, err := q.PopCounting(ctx)
	return v, err
}

// PopCounting is Pop that also returns how many values a bounded queue
// dropped since the last value it returned.
func (q *Queue[T]) PopCounting(ctx context.Context) (v T, dropped int, err error) {
	for {
		q.mu.Lock()
		if q.head < len(q.items) {
			v = q.popLocked()
			dropped, q.dropped = q.dropped, 0
			q.mu.Unlock()
			return v, dropped, nil
		}
		if q.closed {
			err := q.err
			q.mu.Unlock()
			return v, 0, err
		}
		ch := q.changed
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return v, 0, ctx.Err()
		}
	}
}

// TryPop returns the first value without waiting; ok is false when the queue
// is empty.
func (q *Queue[T]) TryPop() (v T, ok bool) {
	v, _, ok = q.TryPopCounting()
	return v, ok
}

// TryPopCounting is TryPop that also returns how many values a bounded
// queue dropped, as PopCounting does.
func (q *Queue[T]) TryPopCounting() (v T, dropped int, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.items) {
		return v, 0, false
	}
	dropped, q.dropped = q.dropped, 0
	return q.popLocked(), dropped, true
}

// Wait waits until the queue holds a value, returning nil, or until it is
// closed and empty (the error given to Close) or ctx ends (ctx.Err()).
func (q *Queue[T]) Wait(ctx context.Context) error {
	for {
		q.mu.Lock()
		if q.head < len(q.items) {
			q.mu.Unlock()
			return nil
		}
		if q.closed {
			err := q.err
			q.mu.Unlock()
			return err
		}
		ch := q.changed
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Drain removes and returns every queued value.
func (q *Queue[T]) Drain() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := append([]T(nil), q.items[q.head:]...)
	clear(q.items)
	q.items, q.head = nil, 0
	if len(out) > 0 {
		q.wakeLocked()
	}
	return out
}

// Len is the number of queued values.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

// Close ends the queue with err: later pushes are dropped, and Pop returns
// err once the queued values are taken. Only the first Close counts; it
// reports whether it was the first.
func (q *Queue[T]) Close(err error) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if err == nil {
		err = ErrClosed
	}
	q.closed, q.err = true, err
	close(q.done)
	q.wakeLocked()
	return true
}

// Done is closed by Close.
func (q *Queue[T]) Done() <-chan struct{} { return q.done }

// Err is the error given to Close, or nil while the queue is open.
func (q *Queue[T]) Err() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}
