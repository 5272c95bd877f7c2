package service

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/localcases/localcases"
)

// Match columns let a search answer a filter with bitmap algebra instead
// of visiting each match in the index (searchcols.go). A column is one
// field's case index entries in one domain, in index order, held in memory
// with each case numbered by a dense ordinal of the domain; the cases with
// an entry form a compressed bitmap of ordinals. A column is as of a mark
// of the store's index log (localcases.IndexLogTx): a search brings it to
// its own transaction's mark by replacing the entries of the owners
// changed since (patch), or reads the index again when the log no longer
// knows or too much changed. So a column is always exactly the index its
// transaction sees, and the index stays the one source of truth.

// patchLimit caps how many changed owners a column is patched with, each
// a case read, before reading the whole index again is the cheaper way.
const patchLimit = 2048

// domainCols is one domain's ordinals and columns, shared by searches.
type domainCols struct {
	mu   sync.Mutex
	ids  []string // by ordinal; append-only, so a slice read under mu stays valid
	ords map[string]uint32
	cols map[string]*column // by field ID
}

func (s *Service) domainCols(domainID string) *domainCols {
	if v, ok := s.cols.Load(domainID); ok {
		return v.(*domainCols)
	}
	v, _ := s.cols.LoadOrStore(domainID, &domainCols{ords: map[string]uint32{}, cols: map[string]*column{}})
	return v.(*domainCols)
}

// ordinal returns id's ordinal, numbering it if new; the caller holds mu.
func (d *domainCols) ordinal(id string) uint32 {
	if o, ok := d.ords[id]; ok {
		return o
	}
	o := uint32(len(d.ids))
	d.ids = append(d.ids, id)
	d.ords[id] = o
	return o
}

// column is one field's entries, never modified once built.
type column struct {
	mark string
	suf  []byte   // each entry's key after the field prefix (enc(sortKey) caseID), back to back
	off  []uint32 // entry i is suf[off[i]:off[i+1]]
	sk   []sortKey
	ord  []uint32
	pos  []int32 // by ordinal: the ordinal's entry, or -1; ordinals past the end have none
	set  *roaring.Bitmap
}

func (c *column) n() int { return len(c.sk) }

func (c *column) key(i int) []byte { return c.suf[c.off[i]:c.off[i+1]] }

// keyOf returns the sort key of the case with ordinal o, if it has one.
func (c *column) keyOf(o uint32) (sortKey, bool) {
	if int(o) >= len(c.pos) || c.pos[o] < 0 {
		return sortKey{R: rankMissing}, false
	}
	return c.sk[c.pos[o]], true
}

// search returns the first entry whose key is at or after k (strictly
// after if strict).
func (c *column) search(k []byte, strict bool) int {
	return sort.Search(c.n(), func(i int) bool {
		cmp := bytes.Compare(c.key(i), k)
		return cmp > 0 || cmp == 0 && !strict
	})
}

// colEntry is one entry on its way into a column.
type colEntry struct {
	suf []byte
	sk  sortKey
	ord uint32
}

// newColumn builds a column of entries (in key order) with ordinals below
// nords.
func newColumn(mark string, entries []colEntry, size, nords int) *column {
	c := &column{mark: mark, suf: make([]byte, 0, size), off: make([]uint32, 1, len(entries)+1),
		sk: make([]sortKey, 0, len(entries)), ord: make([]uint32, 0, len(entries)), pos: make([]int32, nords)}
	for i := range c.pos {
		c.pos[i] = -1
	}
	for i, e := range entries {
		c.suf = append(c.suf, e.suf...)
		c.off = append(c.off, uint32(len(c.suf)))
		c.sk = append(c.sk, e.sk)
		c.ord = append(c.ord, e.ord)
		c.pos[e.ord] = int32(i)
	}
	ords := slices.Clone(c.ord)
	slices.Sort(ords)
	c.set = roaring.BitmapOf(ords...)
	c.set.RunOptimize()
	return c
}

// readColumn reads the column of the field with prefix fp from the index.
func (d *domainCols) readColumn(tx localcases.Tx, fp []byte, mark string) (*column, error) {
	var entries []colEntry
	var owners []string
	size := 0
	err := tx.ScanIndex(indexAsc, fp, nil, false, func(key []byte, id string) (bool, error) {
		suf := key[len(fp):]
		k, _, ok := decodeSortKey(suf)
		if !ok {
			return false, fmt.Errorf("case index: entry %x of case %s does not decode", key, id)
		}
		entries = append(entries, colEntry{suf: suf, sk: k})
		owners = append(owners, id)
		size += len(suf)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	for i, id := range owners {
		entries[i].ord = d.ordinal(id)
	}
	nords := len(d.ids)
	d.mu.Unlock()
	return newColumn(mark, entries, size, nords), nil
}

// patch returns c as of mark, given the entries now held by the owners
// changed since c's mark (fresh, in key order) and their ordinals.
func (c *column) patch(mark string, changed *roaring.Bitmap, fresh []colEntry, nords int) *column {
	entries := make([]colEntry, 0, c.n()+len(fresh))
	size := 0
	j := 0
	for i := 0; i < c.n(); i++ {
		if changed.Contains(c.ord[i]) {
			continue
		}
		k := c.key(i)
		for j < len(fresh) && bytes.Compare(fresh[j].suf, k) < 0 {
			entries = append(entries, fresh[j])
			size += len(fresh[j].suf)
			j++
		}
		entries = append(entries, colEntry{suf: k, sk: c.sk[i], ord: c.ord[i]})
		size += len(k)
	}
	for ; j < len(fresh); j++ {
		entries = append(entries, fresh[j])
		size += len(fresh[j].suf)
	}
	return newColumn(mark, entries, size, nords)
}
