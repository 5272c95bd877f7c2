package service

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sort"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// verifyLimit caps how many candidates the search reads to check a filter
// the index answers only in part (a tag condition); past it, the search
// scans the domain, which costs about the same.
const verifyLimit = 20000

// indexPlan answers a search from the case index, through the match
// columns (columns.go). The results, the order and the as-of-cut
// semantics are the scan's (see SearchCases): cases changed since the walk
// began are taken as they were then.
//
// The filter's matches are a bitmap of case ordinals (filterplan.go),
// narrowed by a searchTerm to the cases the text index finds (holding),
// and totalCount its cardinality. The page comes from walking the first sort
// field's column from the cursor (forwards, or backwards for a descending
// sort), keeping the entries whose ordinal is in the bitmap, with the sort
// key read from the entry, until the page is full; no case is read. With
// two or more sort keys, each run of entries equal on the first key is
// sorted on the others, read from their columns.
type indexPlan struct {
	tx       localcases.Tx
	domainID string
	filter   *api.CaseFilter
	term     string // the searchTerm, "" for none
	terms    []searchTerm
	types    []string // the sort fields' types
	order    []bool   // desc per term, for cmpKeyed
	start    *keyed   // the cursor; nil on the first page
	n        int      // the page size

	// cp reads the columns; match holds the matches as ordinals, sortCols
	// the sort fields' columns, idCol case_id's.
	cp       *colPlan
	match    *roaring.Bitmap
	sortCols []*column
	idCol    *column

	// The cases changed since the cut: skip names them, and overlay holds
	// those that matched at the cut with their keys then, sorted.
	skip    map[string]bool
	overlay []keyed

	page []keyed // the answer so far, up to n+1 entries
}

// planIndexSearch returns the plan for a search, or nil when the index
// cannot answer it and the caller must scan: a filter the index answers
// only in part with too many candidates to check.
func (s *Service) planIndexSearch(tx localcases.Tx, domainID string, in *api.SearchCasesRequest,
	fs *fieldSet, terms []searchTerm, cur cursorToken, n int) (*indexPlan, error) {
	mark, err := tx.IndexMark()
	if err != nil {
		return nil, err
	}
	cp := &colPlan{tx: tx, domainID: domainID, fs: fs, d: s.domainCols(domainID), mark: mark,
		cols: map[string]*column{}, changed: map[string]changes{}, cases: map[string]*localcases.Case{}}
	match, err := cp.matches(in.Filter)
	if err != nil || match == nil {
		return nil, err
	}
	sorts := make([]*column, len(terms))
	for i, t := range terms {
		if sorts[i], err = cp.column(t.field); err != nil {
			return nil, err
		}
	}
	every, err := cp.column("case_id")
	if err != nil {
		return nil, err
	}
	term := str(in.SearchTerm)
	if term != "" {
		if match, err = cp.holding(match, term); err != nil || match == nil {
			return nil, err
		}
	}
	p := &indexPlan{tx: tx, domainID: domainID, filter: in.Filter, term: term, terms: terms, n: n,
		cp: cp, match: match, sortCols: sorts, idCol: every}
	for _, t := range terms {
		p.types = append(p.types, fs.typeOf(t.field))
		p.order = append(p.order, t.desc)
	}
	if cur.ID != "" {
		p.start = &keyed{keys: cur.Keys, id: cur.ID}
	}
	return p, nil
}

// holding narrows match to the cases whose values hold term today, from
// the text index (searchterm.go), which finds exactly what matchesTerm
// accepts; the cases changed since the cut are judged again as they were
// then (changedSince). It returns nil, for the scan, when term is not one
// the index answers or names a case the columns do not know. The case_id
// column is read first, so every case of the transaction has an ordinal.
func (p *colPlan) holding(match *roaring.Bitmap, term string) (*roaring.Bitmap, error) {
	sub, ok := textSearchTerm(term)
	if !ok {
		return nil, nil
	}
	ids, err := p.tx.SearchText(textIndexName(p.domainID), sub)
	if err != nil {
		return nil, err
	}
	held := make([]uint32, 0, len(ids))
	p.d.mu.Lock()
	for _, id := range ids {
		o, ok := p.d.ords[id]
		if !ok {
			p.d.mu.Unlock()
			return nil, nil
		}
		held = append(held, o)
	}
	p.d.mu.Unlock()
	return roaring.And(match, roaring.BitmapOf(held...)), nil
}

// answer returns the page after the cursor as of cut, whether more
// follow, and how many cases match in all.
func (p *indexPlan) answer(cut time.Time) (page []keyed, total int, more bool, err error) {
	if err := p.changedSince(cut); err != nil {
		return nil, 0, false, err
	}
	base := p.match
	ids := p.cp.ids()
	if len(p.skip) > 0 {
		skip := roaring.New()
		p.cp.d.mu.Lock()
		for id := range p.skip {
			if o, ok := p.cp.d.ords[id]; ok {
				skip.Add(o)
			}
		}
		p.cp.d.mu.Unlock()
		base = roaring.AndNot(base, skip)
	}
	m := base.GetCardinality()
	total = int(m) + len(p.overlay)
	switch {
	case few(m, p.idCol.n(), p.n+1):
		p.sortMatches(base, ids)
	case len(p.terms) == 1:
		p.walkColumn(base, ids)
	default:
		p.walkGroups(base, ids)
	}
	for _, k := range p.overlay {
		if len(p.page) > p.n {
			break
		}
		if p.afterCursor(k) {
			p.page = append(p.page, k)
		}
	}
	return p.page[:min(p.n, len(p.page))], total, len(p.page) > p.n, nil
}

func (p *indexPlan) keysOf(fields map[string]localcases.Value) []sortKey {
	keys := make([]sortKey, len(p.terms))
	for i, t := range p.terms {
		v, ok := fields[t.field]
		keys[i] = keyOf(p.types[i], v, ok)
	}
	return keys
}

func (p *indexPlan) load(id string) (*localcases.Case, error) {
	var c localcases.Case
	if err := p.tx.Get(localcases.Cases, p.domainID, id, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func (p *indexPlan) afterCursor(k keyed) bool {
	return p.start == nil || cmpKeyed(p.order, k, *p.start) > 0
}

// changedSince judges the cases changed since cut as they were at cut
// (caseAsOf). Every case write moves last_updated_datetime, so they are
// the entries past the cut in that field's index.
func (p *indexPlan) changedSince(cut time.Time) error {
	p.skip = map[string]bool{}
	after := append(fieldPrefix(p.domainID, "last_updated_datetime"), byte(rankTime+1))
	after = binary.BigEndian.AppendUint64(after, uint64(cut.UnixMilli())^(1<<63))
	after = append(after, 0xFF)
	err := p.tx.ScanIndex(indexAsc, fieldPrefix(p.domainID, "last_updated_datetime"), after, false, func(_ []byte, id string) (bool, error) {
		c, err := p.load(id)
		if err != nil {
			return false, err
		}
		p.skip[id] = true
		fields, existed, err := caseAsOf(p.tx, p.domainID, c, cut)
		if err != nil || !existed {
			return err == nil, err
		}
		c.Fields = fields
		if matches(p.filter, c) && matchesTerm(p.term, c) {
			p.overlay = append(p.overlay, keyed{keys: p.keysOf(fields), id: id})
		}
		return true, nil
	})
	sort.Slice(p.overlay, func(i, j int) bool { return cmpKeyed(p.order, p.overlay[i], p.overlay[j]) < 0 })
	return err
}

// emit adds k to the page after the overlay's entries that sort before
// it, and reports whether the page still wants more.
func (p *indexPlan) emit(k keyed) bool {
	for len(p.overlay) > 0 && cmpKeyed(p.order, p.overlay[0], k) < 0 {
		if p.afterCursor(p.overlay[0]) {
			p.page = append(p.page, p.overlay[0])
		}
		p.overlay = p.overlay[1:]
	}
	if p.afterCursor(k) {
		p.page = append(p.page, k)
	}
	return len(p.page) <= p.n
}

// from returns where a walk of c starts and its step: just after the
// entry key (nil: from the first), forwards or backwards.
func (c *column) from(key []byte, desc bool) (i, step int) {
	switch {
	case desc && key == nil:
		return c.n() - 1, -1
	case desc:
		return c.search(key, false) - 1, -1
	case key == nil:
		return 0, 1
	}
	return c.search(key, true), 1
}

// few reports whether m matches of n cases are better sorted than found
// by a walk of the sort column for a page of k: a walk visits about n·k/m
// entries, a test of one bit each, and sorting costs some 25 times that
// per match (reading its keys by ordinal, comparing them). At 100,000
// cases and a page of 25, up to about 320 matches.
func few(m uint64, n, k int) bool {
	return m*m*25 < uint64(n)*uint64(k)
}

// sortMatches fills the page from few matches: their sort keys read from
// the columns by ordinal (a missing value is the key that sorts it last),
// sorted as the walk would give them (cmpKeyed, the order of the index).
func (p *indexPlan) sortMatches(base *roaring.Bitmap, ids []string) {
	ks := make([]keyed, 0, base.GetCardinality())
	for it := base.Iterator(); it.HasNext(); {
		o := it.Next()
		k := keyed{keys: make([]sortKey, len(p.terms)), id: ids[o]}
		for j, c := range p.sortCols {
			k.keys[j], _ = c.keyOf(o)
		}
		if p.afterCursor(k) {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return cmpKeyed(p.order, a, b) })
	for _, k := range ks {
		if !p.emit(k) {
			return
		}
	}
}

// walkColumn fills the page with one sort key: the sort field's column in
// the direction of the sort, then the matches with no value for it, by
// case ID in that direction (the case_id column).
func (p *indexPlan) walkColumn(base *roaring.Bitmap, ids []string) {
	c := p.sortCols[0]
	desc := p.order[0]
	inMissing := p.start != nil && p.start.keys[0].R == rankMissing
	if !inMissing {
		var from []byte
		if p.start != nil {
			from = append(encSortKey(p.start.keys[0]), p.start.id...)
		}
		for i, step := c.from(from, desc); i >= 0 && i < c.n(); i += step {
			o := c.ord[i]
			if base.Contains(o) && !p.emit(keyed{keys: []sortKey{c.sk[i]}, id: ids[o]}) {
				return
			}
		}
	}
	missing := roaring.AndNot(base, c.set)
	if missing.IsEmpty() {
		return
	}
	var from []byte
	if inMissing {
		from = append(encSortKey(sortKey{R: rankString, S: p.start.id}), p.start.id...)
	}
	for i, step := p.idCol.from(from, desc); i >= 0 && i < p.idCol.n(); i += step {
		o := p.idCol.ord[i]
		if missing.Contains(o) && !p.emit(keyed{keys: []sortKey{{R: rankMissing}}, id: ids[o]}) {
			return
		}
	}
}

// walkGroups fills the page with two or more sort keys: the first sort
// field's column in the direction of the sort, a run of equal first keys
// at a time, each run's matches sorted on every key; then the matches
// with no value for the first key, sorted.
func (p *indexPlan) walkGroups(base *roaring.Bitmap, ids []string) {
	c := p.sortCols[0]
	full := func(o uint32, k0 sortKey) keyed {
		k := keyed{keys: make([]sortKey, len(p.terms)), id: ids[o]}
		k.keys[0] = k0
		for j := 1; j < len(p.terms); j++ {
			k.keys[j], _ = p.sortCols[j].keyOf(o)
		}
		return k
	}
	flush := func(run []keyed) bool {
		if len(run) > 1 {
			slices.SortFunc(run, func(a, b keyed) int { return cmpKeyed(p.order, a, b) })
		}
		for _, k := range run {
			if !p.emit(k) {
				return false
			}
		}
		return true
	}
	inMissing := p.start != nil && p.start.keys[0].R == rankMissing
	if !inMissing {
		// Start at the run of the cursor's first key; emit skips what
		// precedes the cursor within it.
		i, step := 0, 1
		if p.order[0] {
			i, step = c.n()-1, -1
		}
		if p.start != nil {
			enc := encSortKey(p.start.keys[0])
			if i = c.search(enc, false); p.order[0] {
				i = c.prefixEnd(i, enc) - 1
			}
		}
		var run []keyed
		var runKey []byte
		for ; i >= 0 && i < c.n(); i += step {
			o := c.ord[i]
			k := c.key(i)
			enc := k[:len(k)-len(ids[o])]
			if runKey == nil || !bytes.Equal(enc, runKey) {
				if !flush(run) {
					return
				}
				run, runKey = run[:0], enc
			}
			if base.Contains(o) {
				run = append(run, full(o, c.sk[i]))
			}
		}
		if !flush(run) {
			return
		}
	}
	var run []keyed
	missing := roaring.AndNot(base, c.set)
	for it := missing.Iterator(); it.HasNext(); {
		run = append(run, full(it.Next(), sortKey{R: rankMissing}))
	}
	flush(run)
}
