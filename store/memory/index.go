package memory

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/google/btree"

	"github.com/localcases/localcases"
)

var _ localcases.IndexTx = (*tx)(nil)

// ScanIndex collects a page of entries before calling fn: fn may write to
// the transaction, which must not happen while the tree is being walked,
// so the walk stops, fn runs, and the next page resumes after the last
// entry. The first page is small, as most scans want a page of search
// results; pages then double up to scanPage.
const (
	firstPage = 32
	scanPage  = 256
)

// ientry is one (key, owner) entry of an index.
type ientry struct {
	key   []byte
	owner string
}

func ientryLess(a, b ientry) bool {
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c < 0
	}
	return a.owner < b.owner
}

// index is one named index: the entries in (key, owner) order, and each
// owner's keys (sorted, unique) so SetIndex can replace them.
type index struct {
	tree   *btree.BTreeG[ientry]
	owners map[string][][]byte
}

// indexUndo restores an owner's keys in an index to their state before
// the transaction.
type indexUndo struct {
	name, owner string
	prev        [][]byte // nil: the owner had no entries
}

func (s *Store) index(name string, create bool) *index {
	ix := s.indexes[name]
	if ix == nil && create {
		ix = &index{tree: btree.NewG(32, ientryLess), owners: map[string][][]byte{}}
		s.indexes[name] = ix
	}
	return ix
}

// setKeys makes keys (sorted, unique, owned by the index) the owner's
// entries, and returns the keys it had before.
func (ix *index) setKeys(owner string, keys [][]byte) (prev [][]byte) {
	prev = ix.owners[owner]
	// Both lists are sorted: one merge finds what goes and what comes.
	i, j := 0, 0
	for i < len(prev) || j < len(keys) {
		var c int
		switch {
		case i == len(prev):
			c = 1
		case j == len(keys):
			c = -1
		default:
			c = bytes.Compare(prev[i], keys[j])
		}
		switch {
		case c < 0:
			ix.tree.Delete(ientry{prev[i], owner})
			i++
		case c > 0:
			ix.tree.ReplaceOrInsert(ientry{keys[j], owner})
			j++
		default:
			i++
			j++
		}
	}
	if len(keys) == 0 {
		delete(ix.owners, owner)
	} else {
		ix.owners[owner] = keys
	}
	return prev
}

func (t *tx) SetIndex(name, owner string, keys [][]byte) error {
	if t.readOnly {
		return fmt.Errorf("set index %s in a read-only transaction", name)
	}
	ix := t.s.index(name, true)
	// Copies, so the caller cannot change stored keys afterwards. A new
	// owner's (a new case's) share one array; an existing owner's are
	// copied each on its own, since the keys it keeps stay in their old
	// arrays and one array would be held for its one changed key.
	var buf []byte
	if _, had := ix.owners[owner]; !had {
		n := 0
		for _, k := range keys {
			n += len(k)
		}
		buf = make([]byte, 0, n)
	}
	own := make([][]byte, 0, len(keys))
	for _, k := range keys {
		if buf == nil {
			own = append(own, bytes.Clone(k))
			continue
		}
		buf = append(buf, k...)
		own = append(own, buf[len(buf)-len(k):len(buf):len(buf)])
	}
	slices.SortFunc(own, bytes.Compare)
	own = slices.CompactFunc(own, bytes.Equal)
	if len(own) == 0 {
		own = nil
	}
	prev := ix.setKeys(owner, own)
	t.s.ilog.add(owner)
	t.iundo = append(t.iundo, indexUndo{name, owner, prev})
	return nil
}

func (t *tx) ScanIndex(name string, prefix, after []byte, desc bool, fn func(key []byte, owner string) (bool, error)) error {
	return t.scanIndex(name, prefix, after, desc, nil, fn)
}

func (t *tx) ScanIndexAlso(name string, prefix, after []byte, desc bool, also string, alsoPrefix []byte, fn func(key []byte, owner string) (bool, error)) error {
	var probe []byte
	return t.scanIndex(name, prefix, after, desc, func(owner string) bool {
		ax := t.s.index(also, false)
		if ax == nil {
			return false
		}
		probe = append(append(probe[:0], alsoPrefix...), owner...)
		return ax.tree.Has(ientry{probe, owner})
	}, fn)
}

// scanIndex walks the entries of name, keeping those whose owner passes
// keep (nil: all).
func (t *tx) scanIndex(name string, prefix, after []byte, desc bool, keep func(owner string) bool, fn func(key []byte, owner string) (bool, error)) error {
	// The walk starts at from (nil: at the end) and skips from itself if
	// excl: from is then the last entry fn saw, or the first entry past
	// the range.
	var from *ientry
	excl := false
	if desc {
		// Strictly below after and within the prefix: below the prefix's
		// successor.
		upper := after
		if succ := prefixEnd(prefix); succ != nil && (upper == nil || bytes.Compare(succ, upper) < 0) {
			upper = succ
		}
		if upper != nil {
			// owner "" is the smallest, so {upper, ""} is the first entry
			// at or after upper: everything strictly below it qualifies.
			from, excl = &ientry{upper, ""}, true
		}
	} else {
		lower := prefix
		if after != nil {
			// The smallest key above after is after+0x00.
			if next := append(bytes.Clone(after), 0); bytes.Compare(next, lower) > 0 {
				lower = next
			}
		}
		from = &ientry{lower, ""}
	}
	page := make([]ientry, 0, firstPage)
	for limit := firstPage; ; limit = min(2*limit, scanPage) {
		page = page[:0]
		ix := t.s.index(name, false)
		if ix == nil {
			return nil
		}
		visit := func(e ientry) bool {
			if excl && !ientryLess(e, *from) && !ientryLess(*from, e) {
				return true
			}
			if !bytes.HasPrefix(e.key, prefix) {
				return false
			}
			if keep != nil && !keep(e.owner) {
				return true
			}
			page = append(page, ientry{bytes.Clone(e.key), e.owner})
			return len(page) < limit
		}
		switch {
		case desc && from == nil:
			ix.tree.Descend(visit)
		case desc:
			ix.tree.DescendLessOrEqual(*from, visit)
		default:
			ix.tree.AscendGreaterOrEqual(*from, visit)
		}
		for _, e := range page {
			more, err := fn(e.key, e.owner)
			if err != nil || !more {
				return err
			}
		}
		if len(page) < limit {
			return nil
		}
		last := page[len(page)-1]
		from, excl = &ientry{bytes.Clone(last.key), last.owner}, true
	}
}

func (t *tx) CountIndex(name string, prefix []byte) (int, error) {
	ix := t.s.index(name, false)
	if ix == nil {
		return 0, nil
	}
	if len(prefix) == 0 {
		return ix.tree.Len(), nil
	}
	n := 0
	ix.tree.AscendGreaterOrEqual(ientry{prefix, ""}, func(e ientry) bool {
		if !bytes.HasPrefix(e.key, prefix) {
			return false
		}
		n++
		return true
	})
	return n, nil
}

// prefixEnd returns the smallest key greater than every key that starts
// with prefix, or nil if there is none (prefix is empty or all 0xFF).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
