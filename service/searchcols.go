package service

import (
	"bytes"
	"slices"
	"sort"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// A search on a store that logs its index changes (localcases.IndexLogTx)
// is answered from match columns (columns.go): the filter's matches are a
// bitmap of ordinals, built from the columns of its fields by bitmap
// algebra (andAll, orAll and not are intersection, union and difference),
// totalCount is its cardinality, and the page is found by walking the
// first sort field's column in the direction of the sort, testing each
// entry's ordinal against the bitmap, until a page is full. The filter
// evaluator stays the reference as in filterplan.go: a condition's
// candidates are the entries of its index ranges (leafSegments) that
// fieldValueMatches accepts.

// colPlan is what a search reads from the columns.
type colPlan struct {
	tx       localcases.Tx
	log      localcases.IndexLogTx
	domainID string
	fs       *fieldSet
	d        *domainCols
	mark     string
	cols     map[string]*column
	// changed memoises IndexChangedSince per mark, and cases the changed
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
		owners, ok, err := p.log.IndexChangedSince(c.mark, patchLimit)
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
	changed := roaring.New()
	p.d.mu.Lock()
	for id := range done {
		if o, ok := p.d.ords[id]; ok {
			changed.Add(o)
		}
	}
	for _, id := range held {
		p.d.ordinal(id)
	}
	for i, id := range freshIDs {
		fresh[i].ord = p.d.ords[id]
	}
	nords := len(p.d.ids)
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

// bits is what the columns narrow a filter (or part of one) to: every case
// (all) or the ordinals in b; exact when they are exactly the matches.
type bits struct {
	all   bool
	b     *roaring.Bitmap
	exact bool
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

// eval returns the candidates of f, as filterPlanner.eval does.
func (p *colPlan) eval(f *api.CaseFilter) (bits, error) {
	switch {
	case f == nil:
		return bits{all: true, exact: true}, nil
	case f.Field != nil:
		b, err := p.leaf(f.Field)
		return bits{b: b, exact: true}, err
	case f.Not != nil:
		inner, err := p.eval(f.Not)
		if err != nil || !inner.exact {
			return bits{all: true}, err
		}
		if inner.all {
			return bits{b: roaring.New(), exact: true}, nil
		}
		every, err := p.every()
		if err != nil {
			return bits{}, err
		}
		return bits{b: roaring.AndNot(every, inner.b), exact: true}, nil
	case f.AndAll != nil:
		out := bits{all: true, exact: true}
		for i := range f.AndAll {
			c, err := p.eval(&f.AndAll[i])
			if err != nil {
				return bits{}, err
			}
			exact := out.exact && c.exact
			switch {
			case c.all:
			case out.all:
				out = c
			default:
				out.b = roaring.And(out.b, c.b)
			}
			out.exact = exact
			if !out.all && out.b.IsEmpty() {
				return out, nil
			}
		}
		return out, nil
	case f.OrAll != nil:
		out := bits{b: roaring.New(), exact: true}
		for i := range f.OrAll {
			c, err := p.eval(&f.OrAll[i])
			if err != nil {
				return bits{}, err
			}
			if c.all {
				return bits{all: true, exact: c.exact && out.exact}, nil
			}
			out.b.Or(c.b)
			out.exact = out.exact && c.exact
		}
		return out, nil
	}
	// tag.equalTo: every case, to be checked.
	return bits{all: true}, nil
}

// leaf returns the cases that meet one field condition: the entries of its
// segments whose value fieldValueMatches accepts, or for equalTo
// emptyValue, the cases without an entry.
func (p *colPlan) leaf(ff *api.FieldFilter) (*roaring.Bitmap, error) {
	o, fv := fieldFilterOp(ff)
	if o == opNone {
		return roaring.New(), nil
	}
	field := str(fv.Id)
	want := valFromUnion(fv.Value)
	c, err := p.column(field)
	if err != nil {
		return nil, err
	}
	if valIsEmpty(want) {
		if o != opEq {
			return roaring.New(), nil
		}
		every, err := p.every()
		if err != nil {
			return nil, err
		}
		return roaring.AndNot(every, c.set), nil
	}
	fp := fieldPrefix(p.domainID, field)
	// A dense bitset first: setting a bit per match costs less than
	// inserting into a compressed bitmap, in any order.
	dense := make([]uint64, (len(c.pos)+63)/64)
	for _, sg := range leafSegments(fp, o, want, p.fs.typeOf(field) == string(api.FieldTypeDateTime)) {
		lo, hi := c.span(fp, sg)
		// Entries with equal keys hold equal values: one check per run.
		var last sortKey
		keep := false
		for i := lo; i < hi; i++ {
			if k := c.sk[i]; i == lo || k != last {
				last, keep = k, fieldValueMatches(o, want, valueOfKey(k), true)
			}
			if keep {
				dense[c.ord[i]>>6] |= 1 << (c.ord[i] & 63)
			}
		}
	}
	return roaring.FromDense(dense, false), nil
}

// span returns the entries [lo, hi) of segment sg of the field with
// prefix fp, as ScanIndex and scanSegments would walk them.
func (c *column) span(fp []byte, sg segment) (lo, hi int) {
	prefix := sg.prefix[len(fp):]
	lo = c.search(prefix, false)
	if sg.after != nil {
		lo = max(lo, c.search(sg.after[len(fp):], true))
	}
	hi = c.n()
	if end := prefixEnd(prefix); end != nil {
		hi = c.search(end, false)
	}
	if sg.upTo != nil && lo < hi {
		hi = lo + sort.Search(hi-lo, func(i int) bool { return cmpKey(c.sk[lo+i], *sg.upTo) > 0 })
	}
	return lo, max(lo, hi)
}

// prefixEnd returns the smallest key above every key that starts with
// prefix, or nil if there is none.
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

// planColumns returns the matches of the search's filter as ordinals, or
// nil when the columns cannot answer it and the caller must scan (a filter
// with a tag condition over too many candidates to check).
func (p *colPlan) matches(f *api.CaseFilter) (*roaring.Bitmap, error) {
	c, err := p.eval(f)
	if err != nil {
		return nil, err
	}
	if c.all {
		if !c.exact {
			return nil, nil
		}
		return p.every()
	}
	if c.exact {
		return c.b, nil
	}
	if c.b.GetCardinality() > verifyLimit {
		return nil, nil
	}
	ids := p.ids()
	out := roaring.New()
	for it := c.b.Iterator(); it.HasNext(); {
		o := it.Next()
		cs, err := p.caseOf(ids[o])
		if err != nil {
			return nil, err
		}
		if cs != nil && matches(f, cs) {
			out.Add(o)
		}
	}
	return out, nil
}

// ids returns the case IDs by ordinal, every ordinal the plan's columns
// hold included.
func (p *colPlan) ids() []string {
	p.d.mu.Lock()
	defer p.d.mu.Unlock()
	return p.d.ids
}

// planColumnSearch returns the plan of a search answered from the match
// columns, or nil if the caller must scan.
func (s *Service) planColumnSearch(tx localcases.Tx, log localcases.IndexLogTx, domainID string, in *api.SearchCasesRequest,
	fs *fieldSet, terms []searchTerm, cur cursorToken, n int) (*indexPlan, error) {
	mark, err := log.IndexMark()
	if err != nil {
		return nil, err
	}
	cp := &colPlan{tx: tx, log: log, domainID: domainID, fs: fs, d: s.domainCols(domainID), mark: mark,
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
	p := &indexPlan{tx: tx, domainID: domainID, filter: in.Filter, terms: terms, n: n, casesN: -1,
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

// answerColumns is answer for a plan from the match columns.
func (p *indexPlan) answerColumns(cut time.Time) (page []keyed, total int, more bool, err error) {
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
	total = int(base.GetCardinality()) + len(p.overlay)
	if len(p.terms) == 1 {
		p.walkColumn(base, ids)
	} else {
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
			if p.order[0] {
				i = c.search(prefixEnd(enc), false) - 1
			} else {
				i = c.search(enc, false)
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
