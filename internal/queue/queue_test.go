package queue

import (
	"context"
	"errors"
	"sync"
	"testing"
)

func TestOrderAndClose(t *testing.T) {
	q := New[int](0)
	for i := range 3000 {
		q.Push(i)
	}
	end := errors.New("end")
	q.Close(end)
	if q.Push(-1) {
		t.Error("Push after Close accepted")
	}
	ctx := context.Background()
	for i := range 3000 {
		v, err := q.Pop(ctx)
		if err != nil || v != i {
			t.Fatalf("Pop = %d, %v; want %d", v, err, i)
		}
	}
	if _, err := q.Pop(ctx); err != end {
		t.Fatalf("Pop after the end = %v, want %v", err, end)
	}
	if q.Close(errors.New("again")) {
		t.Error("second Close reported first")
	}
	if q.Err() != end {
		t.Errorf("Err = %v", q.Err())
	}
	select {
	case <-q.Done():
	default:
		t.Error("Done not closed")
	}
}

func TestCloseWithoutError(t *testing.T) {
	q := New[int](0)
	q.Close(nil)
	if _, err := q.Pop(context.Background()); err != ErrClosed {
		t.Fatalf("err = %v", err)
	}
}

func TestPopContext(t *testing.T) {
	q := New[int](0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Pop(ctx); err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
	q.Push(7)
	if v, ok := q.TryPop(); !ok || v != 7 {
		t.Fatalf("TryPop = %d, %v", v, ok)
	}
	if _, ok := q.TryPop(); ok {
		t.Fatal("TryPop on empty queue")
	}
}

func TestBounded(t *testing.T) {
	q := New[int](3)
	for i := range 10 {
		q.Push(i)
	}
	v, dropped, err := q.PopCounting(context.Background())
	if err != nil || v != 7 || dropped != 7 {
		t.Fatalf("PopCounting = %d, %d, %v; want 7, 7", v, dropped, err)
	}
	v, dropped, _ = q.PopCounting(context.Background())
	if v != 8 || dropped != 0 {
		t.Fatalf("PopCounting = %d, %d; want 8, 0", v, dropped)
	}
	q.SetLimit(0)
	for i := range 10 {
		q.Push(i)
	}
	if q.Len() != 11 {
		t.Fatalf("Len = %d", q.Len())
	}
	if d := q.Drain(); len(d) != 11 || d[0] != 9 {
		t.Fatalf("Drain = %v", d)
	}
}

// Several goroutines wait at once; every value goes to exactly one of them,
// and Close wakes them all.
func TestManyWaiters(t *testing.T) {
	q := New[int](0)
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				v, err := q.Pop(context.Background())
				if err != nil {
					return
				}
				mu.Lock()
				got[v]++
				mu.Unlock()
			}
		}()
	}
	for i := range 10000 {
		q.Push(i)
	}
	q.Close(nil) // the waiters still take every queued value first
	wg.Wait()
	if len(got) != 10000 {
		t.Fatalf("%d distinct values, want 10000", len(got))
	}
	for v, n := range got {
		if n != 1 {
			t.Fatalf("value %d popped %d times", v, n)
		}
	}
}
