package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/localcases/localcases"
)

// indexLogTests check localcases.IndexLogTx.
var indexLogTests = []struct {
	name string
	fn   func(t *testing.T, s localcases.Store)
}{
	{"IndexLogNamesChangedOwners", testIndexLogChangedOwners},
	{"IndexLogMarkIsTheViewsSnapshot", testIndexLogMarkIsSnapshot},
	{"IndexLogNamesBulkOwners", testIndexLogBulkOwners},
}

// mark returns the index mark a View sees.
func mark(t *testing.T, s localcases.Store) (m string) {
	t.Helper()
	view(t, s, func(tx localcases.Tx) error {
		var err error
		m, err = tx.IndexMark()
		return err
	})
	return m
}

// changedSince returns IndexChangedSince(m, limit) in a new View, sorted
// and without repeats.
func changedSince(t *testing.T, s localcases.Store, m string, limit int) (owners []string, ok bool) {
	t.Helper()
	view(t, s, func(tx localcases.Tx) error {
		var err error
		owners, ok, err = tx.IndexChangedSince(m, limit)
		return err
	})
	slices.Sort(owners)
	return slices.Compact(owners), ok
}

func testIndexLogChangedOwners(t *testing.T, s localcases.Store) {
	setIndex(t, s, "i", "o", "a")
	m0 := mark(t, s)
	if got, ok := changedSince(t, s, m0, 10); !ok || len(got) != 0 {
		t.Fatalf("changed since the current mark: %v %v, want none", got, ok)
	}
	setIndex(t, s, "i", "o", "b")
	setIndex(t, s, "j", "p", "c")
	setIndex(t, s, "i", "q")
	// A rolled-back change may be named, or not; a committed one must be.
	err := s.Update(ctx(t), func(tx localcases.Tx) error {
		if err := tx.SetIndex("i", "r", keys("d")); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("failed update: %v", err)
	}
	got, ok := changedSince(t, s, m0, 10)
	got = slices.DeleteFunc(got, func(o string) bool { return o == "r" })
	if !ok || !slices.Equal(got, []string{"o", "p", "q"}) {
		t.Fatalf("changed since: %v %v, want [o p q] true", got, ok)
	}
	if got, ok := changedSince(t, s, m0, 1); ok {
		t.Fatalf("changed since with limit 1: %v ok, want not ok", got)
	}
	m1 := mark(t, s)
	if got, ok := changedSince(t, s, m1, 10); !ok || len(got) != 0 {
		t.Fatalf("changed since the newer mark: %v %v, want none", got, ok)
	}
}

// testIndexLogMarkIsSnapshot: a View's mark and changes are its snapshot's,
// whatever commits meanwhile.
func testIndexLogMarkIsSnapshot(t *testing.T, s localcases.Store) {
	setIndex(t, s, "i", "o", "a")
	m0 := mark(t, s)
	setIndex(t, s, "i", "p", "b")
	updated := make(chan error, 1)
	var inside []string
	var m1 string
	view(t, s, func(tx localcases.Tx) error {
		l := tx
		var err error
		if m1, err = l.IndexMark(); err != nil {
			return err
		}
		go func() {
			updated <- s.Update(ctx(t), func(tx localcases.Tx) error { return tx.SetIndex("i", "q", keys("c")) })
		}()
		select {
		case err := <-updated:
			updated <- err
		case <-time.After(200 * time.Millisecond):
		}
		owners, ok, err := l.IndexChangedSince(m0, 10)
		if err != nil || !ok {
			return errors.Join(err, errors.New("changes since m0 not known"))
		}
		slices.Sort(owners)
		inside = slices.Compact(owners)
		return nil
	})
	if err := <-updated; err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(inside, []string{"p"}) {
		t.Fatalf("changes inside the view: %v, want [p]", inside)
	}
	if got, ok := changedSince(t, s, m1, 10); !ok || !slices.Equal(got, []string{"q"}) {
		t.Fatalf("changes since the view's mark: %v %v, want [q] true", got, ok)
	}
}

// testIndexLogBulkOwners: SetIndexMany into an index that holds nothing yet
// (the bulk path of an import) names its owners in the log too, so that a
// reader's mark from before the import does not hide them.
func testIndexLogBulkOwners(t *testing.T, s localcases.Store) {
	m0 := mark(t, s)
	err := s.Update(ctx(t), func(tx localcases.Tx) error {
		bt, ok := tx.(localcases.BulkTx)
		if !ok {
			return errors.New("the transaction is not a localcases.BulkTx")
		}
		return bt.SetIndexMany("bulk", []localcases.IndexKeys{{Owner: "x", Keys: keys("a")}, {Owner: "y", Keys: keys("b", "c")}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := changedSince(t, s, m0, 10); !ok || !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("changed since the mark before SetIndexMany: %v %v, want [x y] true", got, ok)
	}
}
