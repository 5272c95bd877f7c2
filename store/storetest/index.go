package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localcases/localcases"
)

// The index tests: every engine's transactions implement
// localcases.IndexTx, and all keep one behaviour.
var indexTests = []struct {
	name string
	fn   func(t *testing.T, s localcases.Store)
}{
	{"IndexOrderAndRanges", testIndexOrderAndRanges},
	{"IndexSetReplaces", testIndexSetReplaces},
	{"IndexKeysAreCopies", testIndexKeysAreCopies},
	{"IndexEarlyStop", testIndexEarlyStop},
	{"IndexManyPages", testIndexManyPages},
	{"IndexReadsDuringScan", testIndexReadsDuringScan},
	{"IndexReadYourWrites", testIndexReadYourWrites},
	{"IndexFailedUpdateLeavesNoWrite", testIndexFailedUpdate},
	{"IndexFailedUpdateAmongConcurrentOnes", testIndexFailedUpdateAmongConcurrent},
	{"IndexConcurrentSets", testIndexConcurrentSets},
	{"IndexViewIsASnapshot", testIndexViewIsSnapshot},
	{"IndexSetInViewFails", testIndexSetInViewFails},
	{"IndexLargeScanStopsEarly", testIndexLargeScanStopsEarly},
	{"IndexScanAlso", testIndexScanAlso},
}

// ientry is one index entry as the tests see it.
type ientry struct {
	Key   string // the key's bytes
	Owner string
}

func (e ientry) String() string { return fmt.Sprintf("%x/%s", e.Key, e.Owner) }

func keys(ks ...string) [][]byte {
	out := make([][]byte, len(ks))
	for i, k := range ks {
		out[i] = []byte(k)
	}
	return out
}

func setIndex(t *testing.T, s localcases.Store, name, owner string, ks ...string) {
	t.Helper()
	update(t, s, func(tx localcases.Tx) error { return tx.SetIndex(name, owner, keys(ks...)) })
}

// scanTx collects a scan's entries, checking that the order is strict.
func scanTx(t *testing.T, tx localcases.Tx, name string, prefix, after []byte, desc bool) []ientry {
	t.Helper()
	out := []ientry{}
	err := tx.ScanIndex(name, prefix, after, desc, func(key []byte, owner string) (bool, error) {
		out = append(out, ientry{string(key), owner})
		return true, nil
	})
	if err != nil {
		t.Fatalf("scan %s prefix %x after %x desc %v: %v", name, prefix, after, desc, err)
	}
	return out
}

func scan(t *testing.T, s localcases.Store, name string, prefix, after []byte, desc bool) (out []ientry) {
	t.Helper()
	view(t, s, func(tx localcases.Tx) error {
		out = scanTx(t, tx, name, prefix, after, desc)
		return nil
	})
	return out
}

func countIndex(t *testing.T, s localcases.Store, name string, prefix []byte) (n int) {
	t.Helper()
	view(t, s, func(tx localcases.Tx) (err error) {
		n, err = tx.CountIndex(name, prefix)
		return err
	})
	return n
}

func entryCmp(a, b ientry) int {
	if c := strings.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	return strings.Compare(a.Owner, b.Owner)
}

// model is what a scan must return, worked out the slow way.
func model(all []ientry, prefix, after []byte, desc bool) []ientry {
	out := []ientry{}
	for _, e := range all {
		k := []byte(e.Key)
		if !bytes.HasPrefix(k, prefix) {
			continue
		}
		if after != nil && (!desc && bytes.Compare(k, after) <= 0 || desc && bytes.Compare(k, after) >= 0) {
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, entryCmp)
	if desc {
		slices.Reverse(out)
	}
	return out
}

func wantEntries(t *testing.T, what string, got, want []ientry) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func testIndexOrderAndRanges(t *testing.T, s localcases.Store) {
	// Keys that sort differently as bytes than as text would, that are
	// prefixes of one another, the empty key, and 0x00 and 0xFF at both
	// ends; several owners on one key, the empty owner among them.
	owners := map[string][]string{
		"o1": {"", "\x00", "\x00\x00", "\x00\x01", "\x01", "a", "ab", "abc", "\x7f", "\x80", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff"},
		"o2": {"\x00", "ab", "ab\x00", "ab\xff", "\xff\xff", "\xff\xff\x00", "b"},
		"":   {"\x00", "abc", "\xff\xff\xff"},
		"é":  {"ab", "\xc3\xa9"},
	}
	var all []ientry
	update(t, s, func(tx localcases.Tx) error {
		for o, ks := range owners {
			for _, k := range ks {
				all = append(all, ientry{k, o})
			}
			if err := tx.SetIndex("main", o, keys(ks...)); err != nil {
				return err
			}
			// The same entries in another index, which must stay apart.
			if err := tx.SetIndex("other", o, keys(ks[:1]...)); err != nil {
				return err
			}
		}
		return nil
	})
	wantEntries(t, "ascending", scan(t, s, "main", nil, nil, false), model(all, nil, nil, false))
	wantEntries(t, "descending", scan(t, s, "main", nil, nil, true), model(all, nil, nil, true))
	if n := countIndex(t, s, "main", nil); n != len(all) {
		t.Errorf("CountIndex(all) = %d, want %d", n, len(all))
	}
	if n := countIndex(t, s, "other", nil); n != len(owners) {
		t.Errorf("CountIndex(other) = %d, want %d", n, len(owners))
	}
	wantEntries(t, "empty index", scan(t, s, "none", nil, nil, false), nil)
	if n := countIndex(t, s, "none", nil); n != 0 {
		t.Errorf("CountIndex(none) = %d", n)
	}
	prefixes := []string{"", "\x00", "\x00\x00", "\x01", "a", "ab", "abc", "abcd", "\x7f", "\xff", "\xff\xff", "\xff\xff\xff", "\xff\xff\xff\xff", "\xfe", "zz"}
	afters := []string{"", "\x00", "\x00\x00\x00", "\x01", "a", "aa", "ab", "ab\x00", "ab\xff", "abc", "b", "\x7f", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\x00", "\xff\xff\xff", "\xff\xff\xff\xff"}
	view(t, s, func(tx localcases.Tx) error {
		for _, p := range prefixes {
			prefix := []byte(p)
			if p == "" {
				prefix = nil
			}
			want := model(all, prefix, nil, false)
			if n, err := tx.CountIndex("main", prefix); err != nil || n != len(want) {
				t.Errorf("CountIndex(prefix %x) = %d %v, want %d", prefix, n, err, len(want))
			}
			for _, desc := range []bool{false, true} {
				wantEntries(t, fmt.Sprintf("prefix %x desc %v", prefix, desc),
					scanTx(t, tx, "main", prefix, nil, desc), model(all, prefix, nil, desc))
				for _, a := range afters {
					// A non-nil empty after is the key "": strictly after
					// it is everything but the empty key (ascending) and
					// nothing (descending).
					after := []byte(a)
					wantEntries(t, fmt.Sprintf("prefix %x after %x desc %v", prefix, after, desc),
						scanTx(t, tx, "main", prefix, after, desc), model(all, prefix, after, desc))
				}
			}
		}
		// The empty prefix given as a non-nil slice is no filter either.
		wantEntries(t, "prefix []byte{}", scanTx(t, tx, "main", []byte{}, nil, false), model(all, nil, nil, false))
		return nil
	})
	// Paging by key in both directions, one key per page, visits every key.
	for _, desc := range []bool{false, true} {
		var got []ientry
		var after []byte
		for range len(all) + 1 {
			var page []ientry
			view(t, s, func(tx localcases.Tx) error {
				return tx.ScanIndex("main", nil, after, desc, func(key []byte, owner string) (bool, error) {
					if page != nil && string(key) != page[0].Key {
						return false, nil
					}
					page = append(page, ientry{string(key), owner})
					return true, nil
				})
			})
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = []byte(page[0].Key)
		}
		wantEntries(t, fmt.Sprintf("paged by key, desc %v", desc), got, model(all, nil, nil, desc))
	}
}

func testIndexSetReplaces(t *testing.T, s localcases.Store) {
	setIndex(t, s, "i", "o1", "a", "b", "c")
	setIndex(t, s, "i", "o2", "b", "d")
	setIndex(t, s, "j", "o1", "a")
	// Replaced, with duplicates collapsing; other owners and indexes keep
	// theirs.
	setIndex(t, s, "i", "o1", "c", "e", "e", "b", "c")
	wantEntries(t, "after replace", scan(t, s, "i", nil, nil, false),
		[]ientry{{"b", "o1"}, {"b", "o2"}, {"c", "o1"}, {"d", "o2"}, {"e", "o1"}})
	if n := countIndex(t, s, "i", nil); n != 5 {
		t.Errorf("count after replace = %d, want 5", n)
	}
	// The same keys again change nothing.
	setIndex(t, s, "i", "o1", "b", "c", "e")
	wantEntries(t, "after same keys", scan(t, s, "i", nil, nil, false),
		[]ientry{{"b", "o1"}, {"b", "o2"}, {"c", "o1"}, {"d", "o2"}, {"e", "o1"}})
	// nil and empty remove the owner.
	setIndex(t, s, "i", "o1")
	wantEntries(t, "after nil", scan(t, s, "i", nil, nil, false), []ientry{{"b", "o2"}, {"d", "o2"}})
	update(t, s, func(tx localcases.Tx) error { return tx.SetIndex("i", "o2", [][]byte{}) })
	wantEntries(t, "after empty", scan(t, s, "i", nil, nil, false), nil)
	if n := countIndex(t, s, "i", nil); n != 0 {
		t.Errorf("count after removing all = %d", n)
	}
	// Removing an owner that has no entries is not an error.
	setIndex(t, s, "i", "nobody")
	wantEntries(t, "other index", scan(t, s, "j", nil, nil, false), []ientry{{"a", "o1"}})
	// Several sets of one owner in one transaction: the last wins.
	update(t, s, func(tx localcases.Tx) error {
		for _, ks := range [][]string{{"x"}, {"y", "z"}, nil, {"z", ""}} {
			if err := tx.SetIndex("i", "o", keys(ks...)); err != nil {
				return err
			}
		}
		return nil
	})
	wantEntries(t, "after sets in one update", scan(t, s, "i", nil, nil, false), []ientry{{"", "o"}, {"z", "o"}})
}

func testIndexKeysAreCopies(t *testing.T, s localcases.Store) {
	ks := keys("abc", "abd")
	update(t, s, func(tx localcases.Tx) error {
		if err := tx.SetIndex("i", "o", ks); err != nil {
			return err
		}
		// Changing the caller's slices after SetIndex, even in the same
		// transaction, does not reach the index.
		ks[0][0], ks[1][2] = 'z', 'z'
		return tx.ScanIndex("i", nil, nil, false, func(key []byte, owner string) (bool, error) {
			key[0] = 'q'
			return true, nil
		})
	})
	view(t, s, func(tx localcases.Tx) error {
		return tx.ScanIndex("i", nil, nil, false, func(key []byte, owner string) (bool, error) {
			if len(key) > 0 {
				key[0] = 'q'
			}
			return true, nil
		})
	})
	wantEntries(t, "stored keys", scan(t, s, "i", nil, nil, false), []ientry{{"abc", "o"}, {"abd", "o"}})
}

func testIndexEarlyStop(t *testing.T, s localcases.Store) {
	update(t, s, func(tx localcases.Tx) error {
		for i := range 600 {
			if err := tx.SetIndex("i", fmt.Sprintf("o%03d", i), keys(fmt.Sprintf("k%03d", i))); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx localcases.Tx) error {
		for _, desc := range []bool{false, true} {
			var got []string
			err := tx.ScanIndex("i", nil, nil, desc, func(key []byte, owner string) (bool, error) {
				got = append(got, string(key))
				return len(got) < 3, nil
			})
			want := []string{"k000", "k001", "k002"}
			if desc {
				want = []string{"k599", "k598", "k597"}
			}
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("stop after 3, desc %v: %q %v, want %q", desc, got, err, want)
			}
			calls := 0
			err = tx.ScanIndex("i", nil, nil, desc, func(key []byte, owner string) (bool, error) {
				calls++
				if calls == 300 {
					return true, errBoom
				}
				return true, nil
			})
			if !errors.Is(err, errBoom) || calls != 300 {
				t.Errorf("error at 300, desc %v: calls=%d err=%v, want errBoom", desc, calls, err)
			}
		}
		return nil
	})
}

func testIndexManyPages(t *testing.T, s localcases.Store) {
	// More entries than any engine's page, many sharing a key (so a page
	// boundary falls among the owners of one key), in two indexes whose
	// entries interleave, with a prefix that cuts through the middle.
	var all []ientry
	update(t, s, func(tx localcases.Tx) error {
		for o := range 50 {
			owner := fmt.Sprintf("owner%02d", o)
			var ks []string
			for k := range 40 {
				ks = append(ks, fmt.Sprintf("%c%02d", 'a'+k%3, k/3))
			}
			for _, k := range ks {
				all = append(all, ientry{k, owner})
			}
			if err := tx.SetIndex("big", owner, keys(ks...)); err != nil {
				return err
			}
			if err := tx.SetIndex("big2", owner, keys(ks[:7]...)); err != nil {
				return err
			}
		}
		return nil
	})
	for _, desc := range []bool{false, true} {
		for _, p := range []string{"", "b", "b0", "c1"} {
			var prefix []byte
			if p != "" {
				prefix = []byte(p)
			}
			for _, a := range []string{"", "b05"} {
				var after []byte
				if a != "" {
					after = []byte(a)
				}
				got := scan(t, s, "big", prefix, after, desc)
				want := model(all, prefix, after, desc)
				if !slices.Equal(got, want) {
					t.Errorf("prefix %q after %q desc %v: %d entries, want %d (first difference near %v)",
						p, a, desc, len(got), len(want), firstDiff(got, want))
				}
			}
		}
	}
	if n := countIndex(t, s, "big", []byte("b")); n != 50*13 {
		t.Errorf("CountIndex(b) = %d, want %d", n, 50*13)
	}
}

func firstDiff(a, b []ientry) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("#%d: %v vs %v", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("#%d", min(len(a), len(b)))
}

func testIndexReadsDuringScan(t *testing.T, s localcases.Store) {
	// The service scans an index and reads the records it names, and may
	// build another index from one; an engine that streams rows must
	// allow that, across page boundaries (over 256 entries).
	const n = 300
	update(t, s, func(tx localcases.Tx) error {
		for i := range n {
			id := fmt.Sprintf("%04d", i)
			if err := tx.Put(cA, "s", id, item{N: i}); err != nil {
				return err
			}
			if err := tx.SetIndex("byn", id, keys(fmt.Sprintf("n%04d", i))); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(tx localcases.Tx) error {
		sum, seen := 0, 0
		err := tx.ScanIndex("byn", nil, nil, false, func(key []byte, owner string) (bool, error) {
			var v item
			if err := tx.Get(cA, "s", owner, &v); err != nil {
				return false, err
			}
			c, err := tx.CountIndex("byn", key)
			if err != nil || c != 1 {
				return false, fmt.Errorf("count of %q inside the scan = %d %v", key, c, err)
			}
			inner := 0
			if err := tx.ScanIndex("byn", nil, key, true, func([]byte, string) (bool, error) {
				inner++
				return inner < 2, nil
			}); err != nil {
				return false, err
			}
			if err := tx.List(cA, "s", 0, func(localcases.Raw) (bool, error) { return false, nil }); err != nil {
				return false, err
			}
			sum += v.N
			seen++
			return true, nil
		})
		if err == nil && (seen != n || sum != n*(n-1)/2) {
			err = fmt.Errorf("scan with reads saw %d entries summing to %d, want %d, %d", seen, sum, n, n*(n-1)/2)
		}
		return err
	}
	view(t, s, check)
	update(t, s, check)
	// Writing another index from inside a scan.
	update(t, s, func(tx localcases.Tx) error {
		return tx.ScanIndex("byn", nil, nil, true, func(key []byte, owner string) (bool, error) {
			return true, tx.SetIndex("copy", owner, [][]byte{append([]byte("c"), key...)})
		})
	})
	if c := countIndex(t, s, "copy", []byte("cn")); c != n {
		t.Errorf("copied index has %d entries, want %d", c, n)
	}
}

func testIndexReadYourWrites(t *testing.T, s localcases.Store) {
	setIndex(t, s, "i", "old", "k1")
	update(t, s, func(tx localcases.Tx) error {
		if err := tx.SetIndex("i", "new", keys("k0", "k2")); err != nil {
			return err
		}
		if err := tx.SetIndex("i", "old", keys("k3")); err != nil {
			return err
		}
		wantEntries(t, "scan in tx", scanTx(t, tx, "i", nil, nil, false), []ientry{{"k0", "new"}, {"k2", "new"}, {"k3", "old"}})
		if n, err := tx.CountIndex("i", []byte("k")); err != nil || n != 3 {
			return fmt.Errorf("count in tx = %d %v", n, err)
		}
		if err := tx.SetIndex("i", "new", nil); err != nil {
			return err
		}
		wantEntries(t, "scan after removal in tx", scanTx(t, tx, "i", nil, nil, false), []ientry{{"k3", "old"}})
		return nil
	})
}

func testIndexFailedUpdate(t *testing.T, s localcases.Store) {
	setIndex(t, s, "i", "keep", "a")
	setIndex(t, s, "i", "replace", "b", "c")
	setIndex(t, s, "i", "remove", "d")
	before := scan(t, s, "i", nil, nil, false)
	err := s.Update(ctx(t), func(tx localcases.Tx) error {
		steps := []error{
			tx.SetIndex("i", "new", keys("a", "z")),
			tx.SetIndex("i", "replace", keys("c", "x")),
			tx.SetIndex("i", "replace", keys("y")),
			tx.SetIndex("i", "remove", nil),
			tx.SetIndex("fresh", "o", keys("f")),
			tx.Put(cA, "s", "x", item{}),
		}
		if err := errors.Join(steps...); err != nil {
			return err
		}
		return fmt.Errorf("after all that: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want the fn's error", err)
	}
	wantEntries(t, "index after a failed update", scan(t, s, "i", nil, nil, false), before)
	wantEntries(t, "new index of a failed update", scan(t, s, "fresh", nil, nil, false), nil)
	if n := countIndex(t, s, "i", nil); n != len(before) {
		t.Errorf("count after a failed update = %d, want %d", n, len(before))
	}
	// The index still works.
	setIndex(t, s, "i", "replace", "e")
	wantEntries(t, "after a later update", scan(t, s, "i", nil, nil, false),
		[]ientry{{"a", "keep"}, {"d", "remove"}, {"e", "replace"}})
}

func testIndexFailedUpdateAmongConcurrent(t *testing.T, s localcases.Store) {
	// Engines that commit several callers together must still undo each
	// failing caller's index writes alone.
	const writers = 40
	setIndex(t, s, "i", "shared", "initial")
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			errs[i] = s.Update(ctx(t), func(tx localcases.Tx) error {
				if err := tx.SetIndex("i", fmt.Sprintf("w%02d", i), keys(fmt.Sprintf("k%02d", i), "common")); err != nil {
					return err
				}
				if err := tx.SetIndex("i", "shared", keys(fmt.Sprintf("s%02d", i))); err != nil {
					return err
				}
				if i%2 == 1 {
					return fmt.Errorf("writer %d: %w", i, errBoom)
				}
				return nil
			})
		})
	}
	close(start)
	wg.Wait()
	var want []ientry
	for i, err := range errs {
		switch {
		case i%2 == 0 && err != nil:
			t.Errorf("writer %d: %v", i, err)
		case i%2 == 1 && !errors.Is(err, errBoom):
			t.Errorf("writer %d got %v, want its own error", i, err)
		}
		if i%2 == 0 {
			want = append(want, ientry{"common", fmt.Sprintf("w%02d", i)}, ientry{fmt.Sprintf("k%02d", i), fmt.Sprintf("w%02d", i)})
		}
	}
	slices.SortFunc(want, entryCmp)
	got := scan(t, s, "i", nil, nil, false)
	var shared []ientry
	got = slices.DeleteFunc(got, func(e ientry) bool {
		if e.Owner == "shared" {
			shared = append(shared, e)
			return true
		}
		return false
	})
	wantEntries(t, "entries of the writers", got, want)
	if len(shared) != 1 || shared[0].Key[0] != 's' || (shared[0].Key[2]-'0')%2 != 0 {
		t.Errorf("shared owner's entries = %v: want one, from a writer that succeeded", shared)
	}
}

func testIndexConcurrentSets(t *testing.T, s localcases.Store) {
	// Each goroutine replaces its own owner's three keys over and over,
	// and bumps a shared counter whose value it indexes: replacement is
	// atomic, readers never see a half-replaced owner, and the counter's
	// index ends with exactly its final value.
	const goroutines, each = 8, 25
	put(t, s, cA, "", "counter", item{})
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				errs <- s.Update(ctx(t), func(tx localcases.Tx) error {
					owner := fmt.Sprintf("g%d", g)
					ks := keys(fmt.Sprintf("%s-%03d-a", owner, i), fmt.Sprintf("%s-%03d-b", owner, i), fmt.Sprintf("%s-%03d-c", owner, i))
					if err := tx.SetIndex("i", owner, ks); err != nil {
						return err
					}
					var v item
					if err := tx.Get(cA, "", "counter", &v); err != nil {
						return err
					}
					v.N++
					if err := tx.Put(cA, "", "counter", v); err != nil {
						return err
					}
					return tx.SetIndex("counter", "c", keys(fmt.Sprintf("%06d", v.N)))
				})
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.View(ctx(t), func(tx localcases.Tx) error {
					byOwner := map[string][]string{}
					err := tx.ScanIndex("i", nil, nil, false, func(key []byte, owner string) (bool, error) {
						byOwner[owner] = append(byOwner[owner], string(key))
						return true, nil
					})
					if err != nil {
						return err
					}
					for o, ks := range byOwner {
						if len(ks) != 3 || ks[0][:len(ks[0])-1] != ks[2][:len(ks[2])-1] {
							return fmt.Errorf("reader saw owner %s with keys %q", o, ks)
						}
					}
					n, err := tx.CountIndex("counter", nil)
					if err == nil && n > 1 {
						err = fmt.Errorf("counter index has %d entries", n)
					}
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
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
	var want []ientry
	for g := range goroutines {
		for _, c := range "abc" {
			want = append(want, ientry{fmt.Sprintf("g%d-%03d-%c", g, each-1, c), fmt.Sprintf("g%d", g)})
		}
	}
	wantEntries(t, "final entries", scan(t, s, "i", nil, nil, false), want)
	wantEntries(t, "counter index", scan(t, s, "counter", nil, nil, false), []ientry{{fmt.Sprintf("%06d", goroutines*each), "c"}})
}

func testIndexViewIsSnapshot(t *testing.T, s localcases.Store) {
	setIndex(t, s, "i", "o", "a")
	updated := make(chan error, 1)
	var first, second []ientry
	view(t, s, func(tx localcases.Tx) error {
		first = scanTx(t, tx, "i", nil, nil, false)
		go func() {
			updated <- s.Update(ctx(t), func(tx localcases.Tx) error {
				if err := tx.SetIndex("i", "o", keys("b")); err != nil {
					return err
				}
				return tx.SetIndex("i", "p", keys("c"))
			})
		}()
		select {
		case err := <-updated:
			updated <- err
		case <-time.After(200 * time.Millisecond):
		}
		second = scanTx(t, tx, "i", nil, nil, false)
		if n, err := tx.CountIndex("i", nil); err != nil || n != 1 {
			return fmt.Errorf("count inside the view changed to %d (%v)", n, err)
		}
		return nil
	})
	wantEntries(t, "first read", first, []ientry{{"a", "o"}})
	wantEntries(t, "second read", second, []ientry{{"a", "o"}})
	if err := <-updated; err != nil {
		t.Fatal(err)
	}
	wantEntries(t, "after the view", scan(t, s, "i", nil, nil, false), []ientry{{"b", "o"}, {"c", "p"}})
}

func testIndexSetInViewFails(t *testing.T, s localcases.Store) {
	setIndex(t, s, "i", "o", "a")
	for _, ks := range [][][]byte{keys("b"), nil} {
		var serr error
		err := s.View(ctx(t), func(tx localcases.Tx) error {
			serr = tx.SetIndex("i", "o", ks)
			return nil
		})
		if serr == nil {
			t.Errorf("SetIndex(%q) in a View succeeded", ks)
		}
		if err != nil {
			t.Errorf("View = %v, want nil (the fn returned nil)", err)
		}
	}
	wantEntries(t, "after sets in views", scan(t, s, "i", nil, nil, false), []ientry{{"a", "o"}})
}

func testIndexLargeScanStopsEarly(t *testing.T, s localcases.Store) {
	// A search reads the first page of a large index, in both directions,
	// across many engine pages. How much a first page costs is measured by
	// the engines' ScanIndex benchmarks, not asserted here: a test holds no
	// wall-clock threshold.
	n := 40_000
	const perOwner = 100
	for start := 0; start < n; start += 20_000 {
		update(t, s, func(tx localcases.Tx) error {
			for o := start / perOwner; o < (start+20_000)/perOwner; o++ {
				ks := make([][]byte, perOwner)
				for k := range ks {
					// Big-endian numbers sort as they count.
					i := o*perOwner + k
					ks[k] = []byte{'k', byte(i >> 16), byte(i >> 8), byte(i)}
				}
				if err := tx.SetIndex("big", fmt.Sprintf("o%05d", o), ks); err != nil {
					return err
				}
			}
			return nil
		})
	}
	first := func(desc bool) (got []int, took time.Duration) {
		took = time.Hour
		for range 3 {
			got = got[:0]
			start := time.Now()
			view(t, s, func(tx localcases.Tx) error {
				return tx.ScanIndex("big", []byte("k"), nil, desc, func(key []byte, owner string) (bool, error) {
					got = append(got, int(key[1])<<16|int(key[2])<<8|int(key[3]))
					return len(got) < 100, nil
				})
			})
			took = min(took, time.Since(start))
		}
		return got, took
	}
	var all int
	start := time.Now()
	view(t, s, func(tx localcases.Tx) error {
		return tx.ScanIndex("big", []byte("k"), nil, false, func([]byte, string) (bool, error) {
			all++
			return true, nil
		})
	})
	whole := time.Since(start)
	if all != n {
		t.Fatalf("whole scan saw %d entries, want %d", all, n)
	}
	for _, desc := range []bool{false, true} {
		got, took := first(desc)
		if len(got) != 100 || desc && got[0] != n-1 || !desc && got[0] != 0 || !slices.IsSortedFunc(got, func(a, b int) int {
			if desc {
				return b - a
			}
			return a - b
		}) {
			t.Errorf("first 100, desc %v = %v", desc, got)
		}
		t.Logf("first 100 of %d entries, desc %v: %v (whole scan %v)", n, desc, took, whole)
	}
}

func testIndexScanAlso(t *testing.T, s localcases.Store) {
	// An ordered index over 300 owners, and a second one whose keys end
	// with their owner, as the case index's do: some owners hold
	// "red"+owner, "\xff\x00"+owner (bytes text cannot hold alone) or
	// "re"+owner; others hold keys that only look close: "red" followed by
	// another owner, or "redder"+owner. The walk must keep exactly the
	// owners O holding prefix+O, across pages, both ways, from any point.
	var all []ientry
	member := map[string]map[string]bool{} // prefix -> owners
	prefixes := []string{"red", "\xff\x00", "re", "blue"}
	for _, p := range prefixes {
		member[p] = map[string]bool{}
	}
	update(t, s, func(tx localcases.Tx) error {
		for o := range 300 {
			owner := fmt.Sprintf("o%03d", o)
			k := fmt.Sprintf("k%02d", o%37)
			all = append(all, ientry{k, owner})
			if err := tx.SetIndex("sorted", owner, keys(k)); err != nil {
				return err
			}
			var colours []string
			switch o % 7 {
			case 0, 3:
				colours = []string{"red" + owner}
				member["red"][owner] = true
			case 1:
				colours = []string{"redder" + owner, fmt.Sprintf("redo%03d", (o+1)%300)}
			case 2:
				colours = []string{"\xff\x00" + owner, "blue" + owner}
				member["\xff\x00"][owner] = true
				member["blue"][owner] = true
			case 4:
				colours = []string{"re" + owner}
				member["re"][owner] = true
			}
			if err := tx.SetIndex("colour", owner, keys(colours...)); err != nil {
				return err
			}
		}
		return nil
	})
	for _, p := range prefixes {
		for _, desc := range []bool{false, true} {
			for _, a := range []string{"", "k20"} {
				var after []byte
				if a != "" {
					after = []byte(a)
				}
				want := []ientry{}
				for _, e := range model(all, []byte("k"), after, desc) {
					if member[p][e.Owner] {
						want = append(want, e)
					}
				}
				var got []ientry
				view(t, s, func(tx localcases.Tx) error {
					got = []ientry{}
					return tx.ScanIndexAlso("sorted", []byte("k"), after, desc, "colour", []byte(p), func(key []byte, owner string) (bool, error) {
						got = append(got, ientry{string(key), owner})
						return true, nil
					})
				})
				if !slices.Equal(got, want) {
					t.Errorf("also %q desc %v after %q: %d entries, want %d (first difference near %v)",
						p, desc, a, len(got), len(want), firstDiff(got, want))
				}
			}
		}
	}
	// Stopping early stops the walk; an unknown index keeps nothing.
	view(t, s, func(tx localcases.Tx) error {
		n := 0
		err := tx.ScanIndexAlso("sorted", nil, nil, false, "colour", []byte("red"), func([]byte, string) (bool, error) {
			n++
			return n < 3, nil
		})
		if err != nil || n != 3 {
			t.Errorf("early stop: %d calls, %v; want 3, nil", n, err)
		}
		n = 0
		err = tx.ScanIndexAlso("sorted", nil, nil, false, "no such index", nil, func([]byte, string) (bool, error) {
			n++
			return true, nil
		})
		if err != nil || n != 0 {
			t.Errorf("unknown index: %d calls, %v; want 0, nil", n, err)
		}
		return nil
	})
}
