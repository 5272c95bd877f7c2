package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/localcases/localcases"
)

var outboxTests = []struct {
	name string
	fn   func(t *testing.T, s localcases.Store)
}{
	{"OutboxAppendAndList", testOutboxAppendAndList},
	{"OutboxRollbackWritesNone", testOutboxRollback},
	{"OutboxRollbackAmongConcurrent", testOutboxRollbackAmongConcurrent},
	{"OutboxPollerMissesNothing", testOutboxPollerMissesNothing},
	{"OutboxTrim", testOutboxTrim},
	{"OutboxWritesInViewFail", testOutboxWritesInViewFail},
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func appendEvents(t *testing.T, s localcases.Store, domain string, at time.Time, data ...string) []int64 {
	t.Helper()
	var seqs []int64
	update(t, s, func(tx localcases.Tx) error {
		for _, d := range data {
			seq, err := tx.AppendEvent(domain, at, []byte(d))
			if err != nil {
				return err
			}
			seqs = append(seqs, seq)
		}
		return nil
	})
	return seqs
}

func listEvents(t *testing.T, s localcases.Store, after int64, domain string, limit int) (out []localcases.OutboxEvent) {
	t.Helper()
	view(t, s, func(tx localcases.Tx) (err error) {
		out, err = tx.ListEvents(after, domain, limit)
		return err
	})
	return out
}

func eventData(evs []localcases.OutboxEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.Data)
	}
	return out
}

func lastSeq(t *testing.T, s localcases.Store) (n int64) {
	t.Helper()
	view(t, s, func(tx localcases.Tx) (err error) {
		n, err = tx.LastEventSeq()
		return err
	})
	return n
}

func testOutboxAppendAndList(t *testing.T, s localcases.Store) {
	if n := lastSeq(t, s); n != 0 {
		t.Fatalf("LastEventSeq of an empty store = %d, want 0", n)
	}
	a := appendEvents(t, s, "d1", t0, `{"n":1}`, `{"n":2}`)
	b := appendEvents(t, s, "d2", t0.Add(time.Second), `{"n":3}`)
	c := appendEvents(t, s, "d1", t0.Add(2*time.Second), `{"n":4}`)
	seqs := append(append(a, b...), c...)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("sequence numbers %v do not grow", seqs)
		}
	}
	all := listEvents(t, s, 0, "", 100)
	wantIDs(t, "all events", eventData(all), `{"n":1}`, `{"n":2}`, `{"n":3}`, `{"n":4}`)
	if all[2].DomainID != "d2" || !all[2].Time.Equal(t0.Add(time.Second)) || all[2].Seq != seqs[2] {
		t.Errorf("event 3 = %+v, want domain d2, time %v, seq %d", all[2], t0.Add(time.Second), seqs[2])
	}
	wantIDs(t, "d1's events", eventData(listEvents(t, s, 0, "d1", 100)), `{"n":1}`, `{"n":2}`, `{"n":4}`)
	wantIDs(t, "after the second", eventData(listEvents(t, s, seqs[1], "", 100)), `{"n":3}`, `{"n":4}`)
	wantIDs(t, "d1 after the second", eventData(listEvents(t, s, seqs[1], "d1", 100)), `{"n":4}`)
	wantIDs(t, "limit 2", eventData(listEvents(t, s, 0, "", 2)), `{"n":1}`, `{"n":2}`)
	wantIDs(t, "none after the last", eventData(listEvents(t, s, seqs[3], "", 100)))
	if n := lastSeq(t, s); n != seqs[3] {
		t.Errorf("LastEventSeq = %d, want %d", n, seqs[3])
	}
}

func testOutboxRollback(t *testing.T, s localcases.Store) {
	first := appendEvents(t, s, "d", t0, "kept")
	err := s.Update(ctx(t), func(tx localcases.Tx) error {
		if _, err := tx.AppendEvent("d", t0, []byte("lost")); err != nil {
			return err
		}
		if err := tx.Put(cA, "s", "x", item{Name: "x"}); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want errBoom", err)
	}
	later := appendEvents(t, s, "d", t0, "later")
	wantIDs(t, "events", eventData(listEvents(t, s, 0, "", 100)), "kept", "later")
	if later[0] <= first[0] {
		t.Errorf("seq after a rollback %d is not above %d", later[0], first[0])
	}
	if _, ok := get(t, s, cA, "s", "x"); ok {
		t.Error("the rolled-back record is there")
	}
}

// testOutboxRollbackAmongConcurrent: a failed update beside successful ones
// (which SQLite commits in one batch) loses only its own events.
func testOutboxRollbackAmongConcurrent(t *testing.T, s localcases.Store) {
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Update(ctx(t), func(tx localcases.Tx) error {
				if _, err := tx.AppendEvent("d", t0, fmt.Appendf(nil, "e%02d", i)); err != nil {
					return err
				}
				if i%3 == 0 {
					return errBoom
				}
				return nil
			})
		}()
	}
	wg.Wait()
	got := map[string]bool{}
	for _, d := range eventData(listEvents(t, s, 0, "", 100)) {
		got[d] = true
	}
	for i := range 20 {
		name := fmt.Sprintf("e%02d", i)
		if got[name] == (i%3 == 0) {
			t.Errorf("event %s present = %v, want %v", name, got[name], i%3 != 0)
		}
	}
}

// testOutboxPollerMissesNothing holds the outbox to commit order: a poller
// that moves its cursor to the last event it saw, while writers append,
// must end up having seen every event.
func testOutboxPollerMissesNothing(t *testing.T, s localcases.Store) {
	ReadersMissNothing(t, s)
}

// ReadersMissNothing holds List and the outbox to commit order: while
// writers spread over stores (one, or several on one shared database, as
// several processes) each put a record and append an event per Update,
// a reader of the first store that moves its List and ListEvents cursors
// to the last record and event it saw must end up having seen each one
// exactly once.
func ReadersMissNothing(t *testing.T, stores ...localcases.Store) {
	const writers, each = 4, 25
	var wg sync.WaitGroup
	for w := range writers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				err := s.Update(ctx(t), func(tx localcases.Tx) error {
					if err := tx.Put("c", "readers", id, map[string]int{"i": i}); err != nil {
						return err
					}
					_, err := tx.AppendEvent("d", t0, []byte(id))
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	events, records := map[string]int{}, map[string]int{}
	var cursor, recCursor int64
	poll := func() {
		for _, e := range listEvents(t, stores[0], cursor, "", 7) {
			if e.Seq <= cursor {
				t.Fatalf("event seq %d at or below the cursor %d", e.Seq, cursor)
			}
			cursor = e.Seq
			events[string(e.Data)]++
		}
		err := stores[0].View(ctx(t), func(tx localcases.Tx) error {
			return tx.List("c", "readers", recCursor, func(r localcases.Raw) (bool, error) {
				recCursor = r.Seq
				records[r.ID]++
				return true, nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		poll()
	}
	poll()
	for len(listEvents(t, stores[0], cursor, "", 1)) > 0 {
		poll()
	}
	for what, seen := range map[string]map[string]int{"events": events, "records": records} {
		if len(seen) != writers*each {
			t.Errorf("reader saw %d distinct %s, want %d", len(seen), what, writers*each)
		}
		for d, n := range seen {
			if n != 1 {
				t.Errorf("%s: %s seen %d times", what, d, n)
			}
		}
	}
}

func testOutboxTrim(t *testing.T, s localcases.Store) {
	var seqs []int64
	for i := range 10 {
		seqs = append(seqs, appendEvents(t, s, "d", t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("e%d", i))...)
	}
	trim := func(p localcases.TrimPolicy) (n int) {
		t.Helper()
		update(t, s, func(tx localcases.Tx) (err error) {
			n, err = tx.TrimEvents(p)
			return err
		})
		return n
	}
	const all = int64(1) << 62
	if n := trim(localcases.TrimPolicy{UpTo: all}); n != 0 {
		t.Errorf("trim with no bounds dropped %d", n)
	}
	// Keep the newest 8, but a reader still needs everything after e0.
	if n := trim(localcases.TrimPolicy{KeepLast: 8, UpTo: seqs[0]}); n != 1 {
		t.Errorf("trim pinned at e0 dropped %d, want 1", n)
	}
	wantIDs(t, "after a pinned trim", eventData(listEvents(t, s, 0, "", 100)), "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9")
	if n := trim(localcases.TrimPolicy{KeepLast: 8, UpTo: all}); n != 1 {
		t.Errorf("trim to 8 dropped %d, want 1", n)
	}
	// Age: e0..e4 were appended before t0+5m.
	if n := trim(localcases.TrimPolicy{KeepLast: 8, Before: t0.Add(5 * time.Minute), UpTo: all}); n != 3 {
		t.Errorf("trim by age dropped %d, want 3 (e2..e4)", n)
	}
	wantIDs(t, "after the age trim", eventData(listEvents(t, s, 0, "", 100)), "e5", "e6", "e7", "e8", "e9")
	if n := trim(localcases.TrimPolicy{Before: t0.Add(time.Hour), UpTo: all}); n != 5 {
		t.Errorf("trim of everything dropped %d, want 5", n)
	}
	if n := lastSeq(t, s); n != seqs[9] {
		t.Errorf("LastEventSeq after trimming all = %d, want %d", n, seqs[9])
	}
	next := appendEvents(t, s, "d", t0, "next")
	if next[0] <= seqs[9] {
		t.Errorf("seq after a full trim %d reuses one at or below %d", next[0], seqs[9])
	}
	// A trim that fails with its transaction drops nothing.
	err := s.Update(ctx(t), func(tx localcases.Tx) error {
		if _, err := tx.TrimEvents(localcases.TrimPolicy{Before: t0.Add(time.Hour), UpTo: all}); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want errBoom", err)
	}
	wantIDs(t, "after a rolled-back trim", eventData(listEvents(t, s, 0, "", 100)), "next")
}

func testOutboxWritesInViewFail(t *testing.T, s localcases.Store) {
	s.View(ctx(t), func(tx localcases.Tx) error {
		if _, err := tx.AppendEvent("d", t0, []byte("x")); err == nil {
			t.Error("AppendEvent in a View succeeded")
		}
		if _, err := tx.TrimEvents(localcases.TrimPolicy{UpTo: 1}); err == nil {
			t.Error("TrimEvents in a View succeeded")
		}
		return nil
	})
	if n := lastSeq(t, s); n != 0 {
		t.Errorf("LastEventSeq = %d after writes in a View", n)
	}
}
