package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/localcases/localcases"
)

// Opener returns a new, empty store. The store is the test's own: the
// suite closes it when the test ends (Close must tolerate a second call if
// the opener also registers one).
type Opener func(t *testing.T) localcases.Store

// RunStoreTests runs the contract suite against the engine open returns.
func RunStoreTests(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s localcases.Store)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"KeysAreIndependent", testKeysAreIndependent},
		{"NotFoundWrapsSentinel", testNotFound},
		{"SequenceOrder", testSequenceOrder},
		{"SequenceIsPerStore", testSequenceIsPerStore},
		{"ListAfter", testListAfter},
		{"ListEarlyStop", testListEarlyStop},
		{"ListReadsDuringIteration", testListReadsDuringIteration},
		{"ListManyPages", testListManyPages},
		{"CountAndDeleteScope", testCountAndDeleteScope},
		{"ReadYourWrites", testReadYourWrites},
		{"FailedUpdateLeavesNoWrite", testFailedUpdateLeavesNoWrite},
		{"FailedUpdateAmongConcurrentOnes", testFailedUpdateAmongConcurrent},
		{"ViewSeesCommittedStateOnly", testViewSeesCommittedOnly},
		{"ViewIsASnapshot", testViewIsSnapshot},
		{"ConcurrentIncrements", testConcurrentIncrements},
		{"RecordsAreCopies", testRecordsAreCopies},
		{"WritesInViewFail", testWritesInViewFail},
		{"CanceledContext", testCanceledContext},
		{"LargeRecord", testLargeRecord},
		{"Kind", testKind},
	}
	tests = append(tests, indexTests...)
	tests = append(tests, indexLogTests...)
	tests = append(tests, outboxTests...)
	tests = append(tests, textTests...)
	tests = append(tests, bulkTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

// item is the record the suite stores. The map and slice make aliasing
// between a caller's value and the stored one visible.
type item struct {
	Name  string            `json:"name"`
	N     int               `json:"n"`
	Tags  map[string]string `json:"tags,omitempty"`
	Parts []string          `json:"parts,omitempty"`
}

var errBoom = errors.New("boom")

const (
	cA = localcases.Collection("alpha")
	cB = localcases.Collection("beta")
)

func ctx(t *testing.T) context.Context { return t.Context() }

func update(t *testing.T, s localcases.Store, fn func(localcases.Tx) error) {
	t.Helper()
	if err := s.Update(ctx(t), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func view(t *testing.T, s localcases.Store, fn func(localcases.Tx) error) {
	t.Helper()
	if err := s.View(ctx(t), fn); err != nil {
		t.Fatalf("view: %v", err)
	}
}

func put(t *testing.T, s localcases.Store, c localcases.Collection, scope, id string, v any) {
	t.Helper()
	update(t, s, func(tx localcases.Tx) error { return tx.Put(c, scope, id, v) })
}

// get returns the record, or ok=false if it does not exist.
func get(t *testing.T, s localcases.Store, c localcases.Collection, scope, id string) (v item, ok bool) {
	t.Helper()
	view(t, s, func(tx localcases.Tx) error {
		err := tx.Get(c, scope, id, &v)
		if errors.Is(err, localcases.ErrNotFound) {
			return nil
		}
		ok = err == nil
		return err
	})
	return v, ok
}

// ids lists the IDs of (c, scope) in List order.
func ids(t *testing.T, s localcases.Store, c localcases.Collection, scope string) []string {
	t.Helper()
	var out []string
	view(t, s, func(tx localcases.Tx) error {
		out = listIDs(t, tx, c, scope, 0)
		return nil
	})
	return out
}

func listIDs(t *testing.T, tx localcases.Tx, c localcases.Collection, scope string, after int64) []string {
	t.Helper()
	out := []string{}
	var last int64
	err := tx.List(c, scope, after, func(r localcases.Raw) (bool, error) {
		if r.Seq <= last || r.Seq <= after {
			return false, fmt.Errorf("List yielded seq %d after %d (after=%d)", r.Seq, last, after)
		}
		last = r.Seq
		out = append(out, r.ID)
		return true, nil
	})
	if err != nil {
		t.Fatalf("list %s/%s: %v", c, scope, err)
	}
	return out
}

func seqs(t *testing.T, s localcases.Store, c localcases.Collection, scope string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	view(t, s, func(tx localcases.Tx) error {
		return tx.List(c, scope, 0, func(r localcases.Raw) (bool, error) {
			out[r.ID] = r.Seq
			return true, nil
		})
	})
	return out
}

func count(t *testing.T, s localcases.Store, c localcases.Collection, scope string) int {
	t.Helper()
	var n int
	view(t, s, func(tx localcases.Tx) (err error) {
		n, err = tx.Count(c, scope)
		return err
	})
	return n
}

func wantIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func testGetPutDelete(t *testing.T, s localcases.Store) {
	if _, ok := get(t, s, cA, "s", "x"); ok {
		t.Fatal("empty store has a record")
	}
	in := item{Name: "first", N: 1, Tags: map[string]string{"k": "v"}, Parts: []string{"a", "b"}}
	put(t, s, cA, "s", "x", in)
	if got, ok := get(t, s, cA, "s", "x"); !ok || !reflect.DeepEqual(got, in) {
		t.Fatalf("get after put = %+v %v, want %+v", got, ok, in)
	}
	put(t, s, cA, "s", "x", item{Name: "second", N: 2})
	if got, _ := get(t, s, cA, "s", "x"); got.Name != "second" || got.N != 2 || got.Tags != nil {
		t.Fatalf("get after replace = %+v", got)
	}
	if n := count(t, s, cA, "s"); n != 1 {
		t.Errorf("count after replace = %d, want 1", n)
	}
	update(t, s, func(tx localcases.Tx) error { return tx.Delete(cA, "s", "x") })
	if _, ok := get(t, s, cA, "s", "x"); ok {
		t.Fatal("record survives Delete")
	}
	if n := count(t, s, cA, "s"); n != 0 {
		t.Errorf("count after delete = %d", n)
	}
	// The list yields the raw document that Get decodes.
	put(t, s, cA, "s", "y", item{Name: "raw"})
	view(t, s, func(tx localcases.Tx) error {
		return tx.List(cA, "s", 0, func(r localcases.Raw) (bool, error) {
			if r.ID != "y" || !strings.Contains(string(r.Data), `"raw"`) || r.Seq <= 0 {
				t.Errorf("raw = %d %q %s", r.Seq, r.ID, r.Data)
			}
			return true, nil
		})
	})
}

func testKeysAreIndependent(t *testing.T, s localcases.Store) {
	// The same ID under other collections and scopes, including the empty
	// scope the server-wide settings use and scopes that look like paths.
	keys := []struct {
		c         localcases.Collection
		scope, id string
	}{
		{cA, "", "id"}, {cA, "s", "id"}, {cA, "s/t", "id"}, {cA, "s/", "t/id"},
		{cB, "s", "id"}, {cB, "S", "id"}, {cA, "s", "ID"}, {cA, "é", "ünï 🌍"}, {cA, "s", ""},
	}
	update(t, s, func(tx localcases.Tx) error {
		for i, k := range keys {
			if err := tx.Put(k.c, k.scope, k.id, item{N: i}); err != nil {
				return err
			}
		}
		return nil
	})
	for i, k := range keys {
		if got, ok := get(t, s, k.c, k.scope, k.id); !ok || got.N != i {
			t.Errorf("%s %q %q = %+v %v, want n=%d", k.c, k.scope, k.id, got, ok, i)
		}
	}
	if n := count(t, s, cA, "s"); n != 3 {
		t.Errorf("count(alpha, s) = %d, want 3", n)
	}
	update(t, s, func(tx localcases.Tx) error { return tx.Delete(cA, "s", "id") })
	if _, ok := get(t, s, cB, "s", "id"); !ok {
		t.Error("Delete in one collection removed the other's record")
	}
	if _, ok := get(t, s, cA, "s/t", "id"); !ok {
		t.Error("Delete in scope s removed a record of scope s/t")
	}
}

func testNotFound(t *testing.T, s localcases.Store) {
	put(t, s, cA, "s", "present", item{})
	view(t, s, func(tx localcases.Tx) error {
		var v item
		if err := tx.Get(cA, "s", "absent", &v); !errors.Is(err, localcases.ErrNotFound) {
			t.Errorf("Get absent = %v, want ErrNotFound", err)
		}
		if err := tx.Get(cA, "other", "present", &v); !errors.Is(err, localcases.ErrNotFound) {
			t.Errorf("Get in another scope = %v, want ErrNotFound", err)
		}
		if err := tx.Get(cB, "s", "present", &v); !errors.Is(err, localcases.ErrNotFound) {
			t.Errorf("Get in another collection = %v, want ErrNotFound", err)
		}
		return nil
	})
	err := s.Update(ctx(t), func(tx localcases.Tx) error { return tx.Delete(cA, "s", "absent") })
	if !errors.Is(err, localcases.ErrNotFound) {
		t.Errorf("Delete absent = %v, want ErrNotFound", err)
	}
	// Not found is the caller's to handle: the transaction goes on.
	update(t, s, func(tx localcases.Tx) error {
		if err := tx.Delete(cA, "s", "absent"); !errors.Is(err, localcases.ErrNotFound) {
			return fmt.Errorf("delete absent: %v", err)
		}
		return tx.Put(cA, "s", "after", item{N: 7})
	})
	if got, ok := get(t, s, cA, "s", "after"); !ok || got.N != 7 {
		t.Errorf("write after a not-found in one transaction = %+v %v", got, ok)
	}
	// DeleteScope of nothing is not an error.
	update(t, s, func(tx localcases.Tx) error { return tx.DeleteScope(cB, "nothing") })
}

func testSequenceOrder(t *testing.T, s localcases.Store) {
	for _, id := range []string{"c", "a", "b"} {
		put(t, s, cA, "s", id, item{Name: id})
	}
	before := seqs(t, s, cA, "s")
	put(t, s, cA, "s", "a", item{Name: "a2"}) // replaced: keeps its place
	wantIDs(t, "after replace", ids(t, s, cA, "s"), "c", "a", "b")
	if after := seqs(t, s, cA, "s"); after["a"] != before["a"] {
		t.Errorf("replace moved a from seq %d to %d", before["a"], after["a"])
	}
	update(t, s, func(tx localcases.Tx) error { return tx.Delete(cA, "s", "c") })
	put(t, s, cA, "s", "c", item{Name: "c2"}) // deleted then recreated: goes last
	wantIDs(t, "after recreate", ids(t, s, cA, "s"), "a", "b", "c")
	if after := seqs(t, s, cA, "s"); after["c"] <= before["b"] {
		t.Errorf("recreated c has seq %d, not after b's %d", after["c"], before["b"])
	}
	// Deleting the newest record and creating another must not reuse its
	// number, or a page token pointing past it would skip the new record.
	last := seqs(t, s, cA, "s")["c"]
	update(t, s, func(tx localcases.Tx) error { return tx.Delete(cA, "s", "c") })
	put(t, s, cA, "s", "d", item{})
	if got := seqs(t, s, cA, "s")["d"]; got <= last {
		t.Errorf("new record after deleting the newest got seq %d, want > %d", got, last)
	}
	// Delete and recreate inside one transaction also goes last.
	update(t, s, func(tx localcases.Tx) error {
		if err := tx.Delete(cA, "s", "a"); err != nil {
			return err
		}
		return tx.Put(cA, "s", "a", item{Name: "a3"})
	})
	wantIDs(t, "after delete+put in one update", ids(t, s, cA, "s"), "b", "d", "a")
	// Several new records in one transaction keep the order of their Puts.
	update(t, s, func(tx localcases.Tx) error {
		for _, id := range []string{"z", "y", "x"} {
			if err := tx.Put(cA, "s", id, item{}); err != nil {
				return err
			}
		}
		return nil
	})
	wantIDs(t, "after batch", ids(t, s, cA, "s"), "b", "d", "a", "z", "y", "x")
}

func testSequenceIsPerStore(t *testing.T, s localcases.Store) {
	// Sequence numbers are unique across collections and scopes, so a
	// record written later anywhere has a larger number.
	put(t, s, cA, "one", "a", item{})
	put(t, s, cB, "two", "b", item{})
	put(t, s, cA, "one", "c", item{})
	a, b, c := seqs(t, s, cA, "one")["a"], seqs(t, s, cB, "two")["b"], seqs(t, s, cA, "one")["c"]
	if !(a < b && b < c) {
		t.Errorf("seqs a=%d b=%d c=%d, want increasing in write order", a, b, c)
	}
}

func testListAfter(t *testing.T, s localcases.Store) {
	for _, id := range []string{"a", "b", "c", "d"} {
		put(t, s, cA, "s", id, item{})
	}
	sq := seqs(t, s, cA, "s")
	view(t, s, func(tx localcases.Tx) error {
		wantIDs(t, "after a", listIDs(t, tx, cA, "s", sq["a"]), "b", "c", "d")
		wantIDs(t, "after c", listIDs(t, tx, cA, "s", sq["c"]), "d")
		wantIDs(t, "after d", listIDs(t, tx, cA, "s", sq["d"]))
		wantIDs(t, "after b-1", listIDs(t, tx, cA, "s", sq["b"]-1), "b", "c", "d")
		wantIDs(t, "after 0", listIDs(t, tx, cA, "s", 0), "a", "b", "c", "d")
		wantIDs(t, "empty scope", listIDs(t, tx, cA, "none", 0))
		return nil
	})
	// A page boundary on a deleted record still resumes in the right place.
	update(t, s, func(tx localcases.Tx) error { return tx.Delete(cA, "s", "b") })
	view(t, s, func(tx localcases.Tx) error {
		wantIDs(t, "after deleted b", listIDs(t, tx, cA, "s", sq["b"]), "c", "d")
		return nil
	})
}

func testListEarlyStop(t *testing.T, s localcases.Store) {
	update(t, s, func(tx localcases.Tx) error {
		for i := range 300 {
			if err := tx.Put(cA, "s", fmt.Sprintf("id%03d", i), item{N: i}); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx localcases.Tx) error {
		calls := 0
		err := tx.List(cA, "s", 0, func(r localcases.Raw) (bool, error) {
			calls++
			return calls < 3, nil
		})
		if err != nil || calls != 3 {
			t.Errorf("stop after 3: calls=%d err=%v", calls, err)
		}
		calls = 0
		err = tx.List(cA, "s", 0, func(r localcases.Raw) (bool, error) {
			calls++
			if calls == 2 {
				return true, errBoom
			}
			return true, nil
		})
		if !errors.Is(err, errBoom) || calls != 2 {
			t.Errorf("error at 2: calls=%d err=%v, want errBoom", calls, err)
		}
		return nil
	})
}

func testListReadsDuringIteration(t *testing.T, s localcases.Store) {
	// The service decodes a record and reads others while a List is under
	// way; an engine that streams rows must allow that.
	update(t, s, func(tx localcases.Tx) error {
		for i := range 10 {
			id := fmt.Sprint(i)
			if err := tx.Put(cA, "s", id, item{N: i}); err != nil {
				return err
			}
			if err := tx.Put(cB, "s", id, item{N: i * 10}); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(tx localcases.Tx) error {
		sum := 0
		err := tx.List(cA, "s", 0, func(r localcases.Raw) (bool, error) {
			var v item
			if err := tx.Get(cB, "s", r.ID, &v); err != nil {
				return false, err
			}
			n, err := tx.Count(cB, "s")
			if err != nil {
				return false, err
			}
			sum += v.N + n
			return true, nil
		})
		if err == nil && sum != 450+100 {
			err = fmt.Errorf("sum = %d, want 550", sum)
		}
		return err
	}
	view(t, s, check)
	update(t, s, check)
	// Collecting in a List and writing afterwards is what DeleteDomain does.
	update(t, s, func(tx localcases.Tx) error {
		var victims []string
		if err := tx.List(cA, "s", 0, func(r localcases.Raw) (bool, error) {
			victims = append(victims, r.ID)
			return true, nil
		}); err != nil {
			return err
		}
		for _, id := range victims {
			if err := tx.DeleteScope(cB, id); err != nil {
				return err
			}
			if err := tx.Delete(cA, "s", id); err != nil {
				return err
			}
		}
		return nil
	})
	if n := count(t, s, cA, "s"); n != 0 {
		t.Errorf("count after deleting all = %d", n)
	}
}

func testListManyPages(t *testing.T, s localcases.Store) {
	// More records than any engine's internal page, with deletions and
	// other scopes interleaved.
	const n = 1000
	update(t, s, func(tx localcases.Tx) error {
		for i := range n {
			if err := tx.Put(cA, "s", fmt.Sprintf("%04d", i), item{N: i}); err != nil {
				return err
			}
			if err := tx.Put(cA, "t", fmt.Sprintf("%04d", i), item{N: i}); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx localcases.Tx) error {
		for i := 0; i < n; i += 3 {
			if err := tx.Delete(cA, "s", fmt.Sprintf("%04d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	got := ids(t, s, cA, "s")
	var want []string
	for i := range n {
		if i%3 != 0 {
			want = append(want, fmt.Sprintf("%04d", i))
		}
	}
	wantIDs(t, "list of many", got, want...)
	if c := count(t, s, cA, "s"); c != len(want) {
		t.Errorf("count = %d, want %d", c, len(want))
	}
}

func testCountAndDeleteScope(t *testing.T, s localcases.Store) {
	update(t, s, func(tx localcases.Tx) error {
		for i := range 5 {
			for _, k := range []struct {
				c     localcases.Collection
				scope string
			}{{cA, "d1"}, {cA, "d2"}, {cB, "d1"}, {cA, "d1/x"}} {
				if err := tx.Put(k.c, k.scope, fmt.Sprint(i), item{N: i}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if n := count(t, s, cA, "d1"); n != 5 {
		t.Fatalf("count = %d, want 5", n)
	}
	if n := count(t, s, cA, "none"); n != 0 {
		t.Errorf("count of an empty scope = %d", n)
	}
	update(t, s, func(tx localcases.Tx) error { return tx.DeleteScope(cA, "d1") })
	if n := count(t, s, cA, "d1"); n != 0 {
		t.Errorf("count after DeleteScope = %d", n)
	}
	wantIDs(t, "list after DeleteScope", ids(t, s, cA, "d1"))
	for _, k := range []struct {
		c     localcases.Collection
		scope string
	}{{cA, "d2"}, {cB, "d1"}, {cA, "d1/x"}} {
		if n := count(t, s, k.c, k.scope); n != 5 {
			t.Errorf("DeleteScope(alpha, d1) touched %s/%s: count %d", k.c, k.scope, n)
		}
	}
	// The scope is usable again, and new records go after everything.
	put(t, s, cA, "d1", "new", item{})
	wantIDs(t, "list after refill", ids(t, s, cA, "d1"), "new")
}

func testReadYourWrites(t *testing.T, s localcases.Store) {
	put(t, s, cA, "s", "old", item{N: 1})
	update(t, s, func(tx localcases.Tx) error {
		if err := tx.Put(cA, "s", "new", item{N: 2}); err != nil {
			return err
		}
		if err := tx.Put(cA, "s", "old", item{N: 3}); err != nil {
			return err
		}
		var v item
		if err := tx.Get(cA, "s", "new", &v); err != nil || v.N != 2 {
			return fmt.Errorf("own put: %+v %v", v, err)
		}
		if err := tx.Get(cA, "s", "old", &v); err != nil || v.N != 3 {
			return fmt.Errorf("own replace: %+v %v", v, err)
		}
		if n, err := tx.Count(cA, "s"); err != nil || n != 2 {
			return fmt.Errorf("count in tx = %d %v", n, err)
		}
		wantIDs(t, "list in tx", listIDs(t, tx, cA, "s", 0), "old", "new")
		if err := tx.Delete(cA, "s", "new"); err != nil {
			return err
		}
		if err := tx.Get(cA, "s", "new", &v); !errors.Is(err, localcases.ErrNotFound) {
			return fmt.Errorf("own delete: %v", err)
		}
		if err := tx.DeleteScope(cA, "s"); err != nil {
			return err
		}
		if n, err := tx.Count(cA, "s"); err != nil || n != 0 {
			return fmt.Errorf("count after own DeleteScope = %d %v", n, err)
		}
		return nil
	})
}

func testFailedUpdateLeavesNoWrite(t *testing.T, s localcases.Store) {
	update(t, s, func(tx localcases.Tx) error {
		for _, id := range []string{"keep", "replace", "delete"} {
			if err := tx.Put(cA, "s", id, item{Name: id}); err != nil {
				return err
			}
		}
		for i := range 3 {
			if err := tx.Put(cB, "scope", fmt.Sprint(i), item{N: i}); err != nil {
				return err
			}
		}
		return nil
	})
	beforeA, beforeB := seqs(t, s, cA, "s"), seqs(t, s, cB, "scope")
	err := s.Update(ctx(t), func(tx localcases.Tx) error {
		steps := []error{
			tx.Put(cA, "s", "new", item{Name: "new"}),
			tx.Put(cA, "s", "replace", item{Name: "changed"}),
			tx.Delete(cA, "s", "delete"),
			tx.DeleteScope(cB, "scope"),
			tx.Put(cB, "scope", "0", item{Name: "back, but different"}),
			tx.Put(cB, "other", "x", item{}),
		}
		if err := errors.Join(steps...); err != nil {
			return err
		}
		return fmt.Errorf("after all that: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want the fn's error", err)
	}
	if _, ok := get(t, s, cA, "s", "new"); ok {
		t.Error("put of a failed update is visible")
	}
	if v, _ := get(t, s, cA, "s", "replace"); v.Name != "replace" {
		t.Errorf("replace of a failed update is visible: %+v", v)
	}
	if _, ok := get(t, s, cA, "s", "delete"); !ok {
		t.Error("delete of a failed update is visible")
	}
	if v, ok := get(t, s, cB, "scope", "0"); !ok || v.Name != "" {
		t.Errorf("DeleteScope + put of a failed update is visible: %+v %v", v, ok)
	}
	if n := count(t, s, cB, "other"); n != 0 {
		t.Error("put into a new scope of a failed update is visible")
	}
	if a, b := seqs(t, s, cA, "s"), seqs(t, s, cB, "scope"); !reflect.DeepEqual(a, beforeA) || !reflect.DeepEqual(b, beforeB) {
		t.Errorf("failed update changed sequence numbers: %v → %v, %v → %v", beforeA, a, beforeB, b)
	}
	// The store still works, and order continues after the old records.
	put(t, s, cA, "s", "later", item{})
	wantIDs(t, "list after failed update", ids(t, s, cA, "s"), "keep", "replace", "delete", "later")
}

func testFailedUpdateAmongConcurrent(t *testing.T, s localcases.Store) {
	// Engines that commit several callers together must still fail each
	// caller alone: odd writers fail after writing, even ones succeed.
	const writers = 40
	halfFailingWriters(t, s, writers, func(tx localcases.Tx, i int) error {
		if err := tx.Put(cA, "s", fmt.Sprint(i), item{N: i}); err != nil {
			return err
		}
		return tx.Put(cB, "shared", "last", item{N: i})
	})
	for i := range writers {
		_, ok := get(t, s, cA, "s", fmt.Sprint(i))
		if ok != (i%2 == 0) {
			t.Errorf("writer %d: record present=%v", i, ok)
		}
	}
	if n := count(t, s, cA, "s"); n != writers/2 {
		t.Errorf("count = %d, want %d", n, writers/2)
	}
	if v, ok := get(t, s, cB, "shared", "last"); !ok || v.N%2 != 0 {
		t.Errorf("shared record = %+v %v: written by a failed writer", v, ok)
	}
}

func testViewSeesCommittedOnly(t *testing.T, s localcases.Store) {
	put(t, s, cA, "s", "x", item{N: 1})
	written := make(chan struct{})
	viewed := make(chan struct{})
	var viewErr error
	go func() {
		defer close(viewed)
		<-written
		viewErr = s.View(ctx(t), func(tx localcases.Tx) error {
			var v item
			if err := tx.Get(cA, "s", "x", &v); err != nil || v.N != 1 {
				return fmt.Errorf("view saw x = %+v (%v) while the update was open", v, err)
			}
			if err := tx.Get(cA, "s", "uncommitted", &v); !errors.Is(err, localcases.ErrNotFound) {
				return fmt.Errorf("view saw an uncommitted put: %v", err)
			}
			if n, err := tx.Count(cA, "s"); err != nil || n != 1 {
				return fmt.Errorf("view counted %d (%v)", n, err)
			}
			return nil
		})
	}()
	err := s.Update(ctx(t), func(tx localcases.Tx) error {
		if err := tx.Put(cA, "s", "uncommitted", item{}); err != nil {
			return err
		}
		if err := tx.Put(cA, "s", "x", item{N: 2}); err != nil {
			return err
		}
		close(written)
		// An engine whose View waits for the writer cannot finish the view
		// now; give the others time to read mid-transaction.
		select {
		case <-viewed:
		case <-time.After(200 * time.Millisecond):
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("update = %v", err)
	}
	<-viewed
	if viewErr != nil {
		t.Error(viewErr)
	}
}

func testViewIsSnapshot(t *testing.T, s localcases.Store) {
	put(t, s, cA, "s", "x", item{N: 1})
	updated := make(chan error, 1)
	var sawFirst, sawSecond item
	view(t, s, func(tx localcases.Tx) error {
		if err := tx.Get(cA, "s", "x", &sawFirst); err != nil {
			return err
		}
		go func() {
			updated <- s.Update(context.Background(), func(tx localcases.Tx) error {
				if err := tx.Put(cA, "s", "y", item{}); err != nil {
					return err
				}
				return tx.Put(cA, "s", "x", item{N: 2})
			})
		}()
		// Either the update commits meanwhile (and must stay invisible) or
		// the engine holds it back until the view ends.
		select {
		case err := <-updated:
			updated <- err
		case <-time.After(200 * time.Millisecond):
		}
		if err := tx.Get(cA, "s", "x", &sawSecond); err != nil {
			return err
		}
		if n, err := tx.Count(cA, "s"); err != nil || n != 1 {
			return fmt.Errorf("count inside the view changed to %d (%v)", n, err)
		}
		return nil
	})
	if sawFirst.N != 1 || sawSecond.N != 1 {
		t.Errorf("view read x as %d then %d, want 1 both times", sawFirst.N, sawSecond.N)
	}
	if err := <-updated; err != nil {
		t.Fatal(err)
	}
	if v, _ := get(t, s, cA, "s", "x"); v.N != 2 {
		t.Errorf("after the view, x = %d, want 2", v.N)
	}
}

func testConcurrentIncrements(t *testing.T, s localcases.Store) {
	const goroutines, each = 8, 40
	put(t, s, cA, "", "counter", item{})
	var calls atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for range goroutines {
		wg.Go(func() {
			for range each {
				errs <- s.Update(ctx(t), func(tx localcases.Tx) error {
					calls.Add(1)
					var v item
					if err := tx.Get(cA, "", "counter", &v); err != nil {
						return err
					}
					v.N++
					return tx.Put(cA, "", "counter", v)
				})
			}
		})
	}
	// Readers alongside must never see a torn or decreasing counter.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			last := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				var v item
				if err := s.View(ctx(t), func(tx localcases.Tx) error { return tx.Get(cA, "", "counter", &v) }); err != nil {
					t.Error(err)
					return
				}
				if v.N < last {
					t.Errorf("counter went back from %d to %d", last, v.N)
				}
				last = v.N
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := get(t, s, cA, "", "counter"); v.N != goroutines*each {
		t.Errorf("counter = %d, want %d", v.N, goroutines*each)
	}
	// The service's read-modify-write functions are not idempotent: an
	// engine must run each exactly once.
	if n := calls.Load(); n != goroutines*each {
		t.Errorf("update functions ran %d times for %d updates", n, goroutines*each)
	}
}

func testRecordsAreCopies(t *testing.T, s localcases.Store) {
	in := item{Name: "orig", Tags: map[string]string{"k": "v"}, Parts: []string{"a"}}
	update(t, s, func(tx localcases.Tx) error {
		if err := tx.Put(cA, "s", "x", &in); err != nil {
			return err
		}
		// Mutating the value after Put, even in the same transaction, does
		// not reach the store.
		in.Name, in.Tags["k"], in.Parts[0] = "mutated", "mutated", "mutated"
		var v item
		if err := tx.Get(cA, "s", "x", &v); err != nil {
			return err
		}
		v.Tags["k"] = "mutated too"
		return nil
	})
	got, _ := get(t, s, cA, "s", "x")
	got.Tags["k"], got.Parts[0] = "x", "x"
	again, _ := get(t, s, cA, "s", "x")
	if want := (item{Name: "orig", Tags: map[string]string{"k": "v"}, Parts: []string{"a"}}); !reflect.DeepEqual(again, want) {
		t.Errorf("stored record = %+v, want %+v", again, want)
	}
}

func testWritesInViewFail(t *testing.T, s localcases.Store) {
	put(t, s, cA, "s", "x", item{N: 1})
	writes := map[string]func(tx localcases.Tx) error{
		"Put":         func(tx localcases.Tx) error { return tx.Put(cA, "s", "y", item{}) },
		"Delete":      func(tx localcases.Tx) error { return tx.Delete(cA, "s", "x") },
		"DeleteScope": func(tx localcases.Tx) error { return tx.DeleteScope(cA, "s") },
	}
	for name, w := range writes {
		var werr error
		err := s.View(ctx(t), func(tx localcases.Tx) error {
			werr = w(tx)
			return nil
		})
		if werr == nil {
			t.Errorf("%s in a View succeeded", name)
		}
		if err != nil {
			t.Errorf("%s: View = %v, want nil (the fn returned nil)", name, err)
		}
	}
	if ids := ids(t, s, cA, "s"); !slices.Equal(ids, []string{"x"}) {
		t.Errorf("after writes in views, records = %q", ids)
	}
}

func testCanceledContext(t *testing.T, s localcases.Store) {
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	ran := false
	err := s.Update(c, func(tx localcases.Tx) error {
		ran = true
		return tx.Put(cA, "s", "x", item{})
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a canceled context = %v", err)
	}
	if ran {
		t.Error("Update ran fn with a canceled context")
	}
	if _, ok := get(t, s, cA, "s", "x"); ok {
		t.Error("write of a canceled Update is visible")
	}
	if err := s.View(c, func(localcases.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View with a canceled context = %v", err)
	}
}

func testLargeRecord(t *testing.T, s localcases.Store) {
	big := item{Name: strings.Repeat("é🌍x", 200_000), Parts: make([]string, 1000)}
	for i := range big.Parts {
		big.Parts[i] = fmt.Sprint(i)
	}
	put(t, s, cA, "s", "big", big)
	if got, ok := get(t, s, cA, "s", "big"); !ok || !reflect.DeepEqual(got, big) {
		t.Errorf("large record did not round-trip (ok=%v, name length %d)", ok, len(got.Name))
	}
}

func testKind(t *testing.T, s localcases.Store) {
	switch k := s.Kind(); k {
	case "memory", "sqlite", "postgres":
	default:
		t.Errorf("Kind = %q", k)
	}
}
