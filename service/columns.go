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
// of visiting each match in the index (filterplan.go, searchplan.go). A column is one
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

// prefixEnd returns the first entry from lo on whose key does not start
// with prefix; those that do follow lo, as the keys are sorted.
func (c *column) prefixEnd(lo int, prefix []byte) int {
	return lo + sort.Search(c.n()-lo, func(i int) bool { return !bytes.HasPrefix(c.key(lo+i), prefix) })
}

// colEntry is one entry on its way into a column.
type colEntry struct {
	suf []byte
	sk  sortKey
	ord uint32
}

// colBuilder makes a column from entries added in key order.
type colBuilder struct {
	c     *column
	dense []uint64 // the set as a plain bitset until done
}

func newColBuilder(mark string, entries, size, nords int) *colBuilder {
	c := &column{mark: mark, suf: make([]byte, 0, size), off: make([]uint32, 1, entries+1),
		sk: make([]sortKey, 0, entries), ord: make([]uint32, 0, entries), pos: make([]int32, nords)}
	for i := range c.pos {
		c.pos[i] = -1
	}
	return &colBuilder{c: c, dense: make([]uint64, (nords+63)/64)}
}

func (b *colBuilder) add(suf []byte, k sortKey, o uint32) {
	c := b.c
	c.pos[o] = int32(len(c.sk))
	c.suf = append(c.suf, suf...)
	c.off = append(c.off, uint32(len(c.suf)))
	c.sk = append(c.sk, k)
	c.ord = append(c.ord, o)
	b.dense[o>>6] |= 1 << (o & 63)
}

func (b *colBuilder) done() *column {
	b.c.set = roaring.FromDense(b.dense, false)
	return b.c
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
	b := newColBuilder(mark, len(entries), size, nords)
	for _, e := range entries {
		b.add(e.suf, e.sk, e.ord)
	}
	return b.done(), nil
}

// patch returns c as of mark, given the entries now held by the owners
// changed since c's mark (fresh, in key order) and their ordinals.
func (c *column) patch(mark string, changed []uint64, fresh []colEntry, nords int) *column {
	size := len(c.suf)
	for _, e := range fresh {
		size += len(e.suf)
	}
	b := newColBuilder(mark, c.n()+len(fresh), size, nords)
	j := 0
	for i := 0; i < c.n(); i++ {
		if o := c.ord[i]; changed[o>>6]&(1<<(o&63)) != 0 {
			continue
		}
		k := c.key(i)
		for j < len(fresh) && bytes.Compare(fresh[j].suf, k) < 0 {
			b.add(fresh[j].suf, fresh[j].sk, fresh[j].ord)
			j++
		}
		b.add(k, c.sk[i], c.ord[i])
	}
	for ; j < len(fresh); j++ {
		b.add(fresh[j].suf, fresh[j].sk, fresh[j].ord)
	}
	return b.done()
}

// colPlan is what a search reads from the columns.
type colPlan struct {
	tx       localcases.Tx
	domainID string
	fs       *fieldSet
	d        *domainCols
	mark     string
	cols     map[string]*column
	// changed memoises IndexChangedSince per mark; cases holds the changed
	// cases read to patch with (nil: not in the domain).
	changed map[string]changes
	cases   map[string]*localcases.Case
}

// column returns field's column as of the transaction's mark.
func (p *colPlan) column(field string) (*column, error) {
	if c := p.cols[field]; c != nil {
		return c, nil
	}
	fp := fieldPrefix(p.domainID, field)
	p.d.mu.Lock()
	c := p.d.cols[field]
	p.d.mu.Unlock()
	var err error
	switch {
	case c == nil:
		c, err = p.d.readColumn(p.tx, fp, p.mark)
	case c.mark != p.mark:
		c, err = p.bringUp(c, field, fp)
	}
	if err != nil {
		return nil, err
	}
	p.d.mu.Lock()
	p.d.cols[field] = c
	p.d.mu.Unlock()
	p.cols[field] = c
	return c, nil
}

// bringUp returns c as of the transaction's mark: patched with the owners
// changed since c's mark, or read again when the log no longer knows.
func (p *colPlan) bringUp(c *column, field string, fp []byte) (*column, error) {
	ch, seen := p.changed[c.mark]
	if !seen {
		owners, ok, err := p.tx.IndexChangedSince(c.mark, patchLimit)
		if err != nil {
			return nil, err
		}
		ch = changes{owners, ok}
		p.changed[c.mark] = ch
	}
	if !ch.ok {
		return p.d.readColumn(p.tx, fp, p.mark)
	}
	if len(ch.owners) == 0 {
		cp := *c
		cp.mark = p.mark
		return &cp, nil
	}
	typ := p.fs.typeOf(field)
	var fresh []colEntry
	var freshIDs, held []string
	done := map[string]bool{}
	for _, id := range ch.owners {
		if done[id] {
			continue
		}
		done[id] = true
		cs, err := p.caseOf(id)
		if err != nil {
			return nil, err
		}
		if cs == nil {
			continue
		}
		held = append(held, id)
		v, ok := cs.Fields[field]
		if !ok {
			continue
		}
		if k := keyOf(typ, v, true); k.R != rankMissing {
			fresh = append(fresh, colEntry{suf: append(encSortKey(k), id...), sk: k})
			freshIDs = append(freshIDs, id)
		}
	}
	// An owner not in the domain has no entry here, before or now, unless
	// the case was deleted: it then has an ordinal.
	p.d.mu.Lock()
	for _, id := range held {
		p.d.ordinal(id)
	}
	for i, id := range freshIDs {
		fresh[i].ord = p.d.ords[id]
	}
	nords := len(p.d.ids)
	changed := make([]uint64, (nords+63)/64)
	for id := range done {
		if o, ok := p.d.ords[id]; ok {
			changed[o>>6] |= 1 << (o & 63)
		}
	}
	p.d.mu.Unlock()
	slices.SortFunc(fresh, func(a, b colEntry) int { return bytes.Compare(a.suf, b.suf) })
	return c.patch(p.mark, changed, fresh, nords), nil
}

// changes is one IndexChangedSince answer.
type changes struct {
	owners []string
	ok     bool
}

// caseOf reads the case id of the domain as the transaction sees it; nil
// when the domain holds no such case.
func (p *colPlan) caseOf(id string) (*localcases.Case, error) {
	if c, ok := p.cases[id]; ok {
		return c, nil
	}
	var c localcases.Case
	err := p.tx.Get(localcases.Cases, p.domainID, id, &c)
	if isNotFound(err) {
		p.cases[id] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.cases[id] = &c
	return &c, nil
}

// every returns the ordinals of every case of the domain: the case_id
// field's, which every case holds.
func (p *colPlan) every() (*roaring.Bitmap, error) {
	c, err := p.column("case_id")
	if err != nil {
		return nil, err
	}
	return c.set, nil
}

// ids returns the case IDs by ordinal, every ordinal the plan's columns
// hold included.
func (p *colPlan) ids() []string {
	p.d.mu.Lock()
	defer p.d.mu.Unlock()
	return p.d.ids
}
