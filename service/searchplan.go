package service

import (
	"encoding/binary"
	"sort"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// collectLimit caps how many matches the search gathers and sorts in
// memory rather than walking the sort field's index, however rare the
// matches: the gathering reads every match.
const collectLimit = 2000

// verifyLimit caps how many candidates the search reads to check a filter
// the index answers only in part (a tag condition); past it, the search
// scans the domain, which costs about the same.
const verifyLimit = 20000

// gatherShare: a search with two sort keys sorts its matches when they are
// at most 1/gatherShare of the domain, and scans otherwise.
const gatherShare = 8

// indexPlan answers a search from the case index. The results, the order
// and the as-of-cut semantics are the scan's (see SearchCases): cases
// changed since the walk began are taken as they were then.
//
// The filter's matches come from the filter planner (filterplan.go) as a
// set of case IDs, or, for the commonest shapes, need no set: no filter
// (every case), or one equalTo (its entries, whose count is the total).
// The page then comes from walking the sort field's entries from the
// cursor (forwards, or backwards for a descending sort), keeping the
// matches, without reading a case until the page is known; or, when the
// matches are few, or there are two sort keys, from reading the matches
// and sorting them.
type indexPlan struct {
	tx       localcases.Tx
	domainID string
	filter   *api.CaseFilter
	terms    []searchTerm
	types    []string // the sort fields' types
	order    []bool   // desc per term, for cmpKeyed
	start    *keyed   // the cursor; nil on the first page
	n        int      // the page size

	// The matches: the cases in set if it is not nil; else the entries
	// under eqPrefix (eqCount of them) if it is not nil; else every case.
	set      idSet
	eqPrefix []byte
	eqCount  int
	// casesN is the domain's case count once read (-1 before): it costs a
	// pass over the records, so it is taken only where the answer needs it.
	casesN int

	// The cases changed since the cut: skip names them, overlay holds
	// those that matched at the cut with their keys then, sorted, and
	// adjust is what they change in the count of matches.
	skip    map[string]bool
	overlay []keyed
	adjust  int

	page []keyed // the answer so far, up to n+1 entries

	// From the match columns (searchcols.go), when cp is not nil: the
	// matches as ordinals, the sort fields' columns, and case_id's.
	cp       *colPlan
	match    *roaring.Bitmap
	sortCols []*column
	idCol    *column
}

// planIndexSearch returns the plan for a search, or nil when the index
// cannot answer it and the caller must scan: a search term (no text index
// yet), or a filter the index answers only in part with too many
// candidates to check, or two sort keys over every case.
func planIndexSearch(tx localcases.Tx, domainID string, in *api.SearchCasesRequest, fs *fieldSet,
	terms []searchTerm, cur cursorToken, n int) (*indexPlan, error) {
	if str(in.SearchTerm) != "" {
		return nil, nil
	}
	p := &indexPlan{tx: tx, domainID: domainID, filter: in.Filter, terms: terms, n: n, casesN: -1}
	for _, t := range terms {
		p.types = append(p.types, fs.typeOf(t.field))
		p.order = append(p.order, t.desc)
	}
	if cur.ID != "" {
		p.start = &keyed{keys: cur.Keys, id: cur.ID}
	}
	switch f := in.Filter; {
	case f == nil:
	case f.Field != nil && f.Field.EqualTo != nil && f.Field.EqualTo.Value != nil:
		if k, ok := eqOperand(f.Field.EqualTo.Value); ok {
			p.eqPrefix = append(fieldPrefix(domainID, str(f.Field.EqualTo.Id)), encSortKey(k)...)
			c, err := tx.CountIndex(indexAsc, p.eqPrefix)
			if err != nil {
				return nil, err
			}
			p.eqCount = c
			break
		}
		fallthrough
	default:
		fp := &filterPlanner{tx: tx, domainID: domainID, fs: fs}
		c, err := fp.eval(f, nil)
		if err != nil {
			return nil, err
		}
		if c.all && !c.exact {
			return nil, nil
		}
		if !c.all {
			if !c.exact {
				if len(c.ids) > verifyLimit {
					return nil, nil
				}
				if c.ids, err = p.verify(c.ids); err != nil {
					return nil, err
				}
			}
			p.set = c.ids
		}
	}
	if len(terms) > 1 && p.set != nil {
		// Sorting the matches reads each by its ID, which costs a SQL engine
		// several times what the scan's streaming read of a case does: past
		// an eighth of the domain, the scan is the cheaper reference.
		all, err := p.cases()
		if err != nil {
			return nil, err
		}
		if len(p.set)*gatherShare > all {
			return nil, nil
		}
	}
	if len(terms) > 1 && p.set == nil {
		// Two sort keys are served by sorting the matches: they must be a
		// set, and not every case.
		if p.eqPrefix == nil {
			return nil, nil
		}
		all, err := p.cases()
		if err != nil || p.eqCount*gatherShare > all {
			return nil, err
		}
		set := idSet{}
		err = tx.ScanIndex(indexAsc, p.eqPrefix, nil, false, func(_ []byte, id string) (bool, error) {
			set[id] = struct{}{}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
		p.set, p.eqPrefix = set, nil
	}
	return p, nil
}

// verify keeps the candidates whose case matches the filter: the check of
// a filter the index answers only in part.
func (p *indexPlan) verify(ids idSet) (idSet, error) {
	out := make(idSet, len(ids))
	for id := range ids {
		c, err := p.load(id)
		if err != nil {
			return nil, err
		}
		if matches(p.filter, c) {
			out[id] = struct{}{}
		}
	}
	return out, nil
}

// answer returns the page after the cursor as of cut, whether more
// follow, and how many cases match in all.
func (p *indexPlan) answer(cut time.Time) (page []keyed, total int, more bool, err error) {
	if p.cp != nil {
		return p.answerColumns(cut)
	}
	if err := p.changedSince(cut); err != nil {
		return nil, 0, false, err
	}
	collect, err := p.collects()
	if err != nil {
		return nil, 0, false, err
	}
	total, gathered, err := p.count(collect)
	if err != nil {
		return nil, 0, false, err
	}
	if collect {
		p.pageFromGathered(gathered)
	} else if err := p.walk(); err != nil {
		return nil, 0, false, err
	}
	return p.page[:min(p.n, len(p.page))], total, len(p.page) > p.n, nil
}

// collects reports whether the page comes from gathering the matches and
// sorting them, rather than walking the sort order: with two sort keys,
// and when it reads fewer cases than the walk would, about matches against
// (n+1) × cases/matches.
func (p *indexPlan) collects() (bool, error) {
	if len(p.terms) > 1 {
		return true, nil
	}
	matched := p.eqCount
	switch {
	case p.set != nil:
		matched = len(p.set)
	case p.eqPrefix == nil:
		return false, nil
	}
	if matched > collectLimit {
		return false, nil
	}
	all, err := p.cases()
	return matched*matched <= (p.n+1)*all, err
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

func (p *indexPlan) cases() (int, error) {
	if p.casesN < 0 {
		n, err := p.tx.Count(localcases.Cases, p.domainID)
		if err != nil {
			return 0, err
		}
		p.casesN = n
	}
	return p.casesN, nil
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
		if matches(p.filter, c) {
			p.adjust--
		}
		fields, existed, err := caseAsOf(p.tx, p.domainID, c, cut)
		if err != nil || !existed {
			return err == nil, err
		}
		c.Fields = fields
		if matches(p.filter, c) {
			p.adjust++
			p.overlay = append(p.overlay, keyed{keys: p.keysOf(fields), id: id})
		}
		return true, nil
	})
	sort.Slice(p.overlay, func(i, j int) bool { return cmpKeyed(p.order, p.overlay[i], p.overlay[j]) < 0 })
	return err
}

// count returns how many cases match as of the cut, and when collect, the
// matches unchanged since (the changed ones are in the overlay) with their
// keys.
func (p *indexPlan) count(collect bool) (total int, gathered []keyed, err error) {
	switch {
	case p.set != nil:
		for id := range p.set {
			if p.skip[id] {
				continue
			}
			total++
			if collect {
				c, err := p.load(id)
				if err != nil {
					return 0, nil, err
				}
				gathered = append(gathered, keyed{keys: p.keysOf(c.Fields), id: id})
			}
		}
		return total + len(p.overlay), gathered, nil
	case p.eqPrefix == nil:
		all, err := p.cases()
		return all + p.adjust, nil, err
	case !collect:
		return p.eqCount + p.adjust, nil, nil
	}
	err = p.tx.ScanIndex(indexAsc, p.eqPrefix, nil, false, func(_ []byte, id string) (bool, error) {
		if p.skip[id] {
			return true, nil
		}
		c, err := p.load(id)
		if err != nil {
			return false, err
		}
		gathered = append(gathered, keyed{keys: p.keysOf(c.Fields), id: id})
		return true, nil
	})
	return len(gathered) + len(p.overlay), gathered, err
}

// pageFromGathered sorts the gathered matches with the overlay and keeps
// the first n+1 after the cursor.
func (p *indexPlan) pageFromGathered(gathered []keyed) {
	gathered = append(gathered, p.overlay...)
	sort.Slice(gathered, func(i, j int) bool { return cmpKeyed(p.order, gathered[i], gathered[j]) < 0 })
	for _, k := range gathered {
		if len(p.page) > p.n {
			return
		}
		if p.afterCursor(k) {
			p.page = append(p.page, k)
		}
	}
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

// scan walks the index under prefix from the key from, in the direction of
// the sort, keeping only the entries of matching cases that have not
// changed since the cut: the set's, or the equalTo's (the engine
// intersects the two ranges).
func (p *indexPlan) scan(prefix, from []byte, fn func([]byte, string) (bool, error)) error {
	keep := func(key []byte, id string) (bool, error) {
		if p.skip[id] {
			return true, nil
		}
		if p.set != nil {
			if _, ok := p.set[id]; !ok {
				return true, nil
			}
		}
		return fn(key, id)
	}
	if p.eqPrefix == nil {
		return p.tx.ScanIndex(indexAsc, prefix, from, p.order[0], keep)
	}
	return p.tx.ScanIndexAlso(indexAsc, prefix, from, p.order[0], indexAsc, p.eqPrefix, keep)
}

// walk fills the page by walking the sort field's index from the cursor,
// merging in the overlay, then the cases with no value for the field.
func (p *indexPlan) walk() error {
	inMissing := p.start != nil && p.start.keys[0].R == rankMissing
	if !inMissing {
		if err := p.walkValues(); err != nil {
			return err
		}
	}
	if len(p.page) <= p.n {
		if err := p.walkMissing(inMissing); err != nil {
			return err
		}
	}
	for _, k := range p.overlay {
		if len(p.page) > p.n {
			break
		}
		if p.afterCursor(k) {
			p.page = append(p.page, k)
		}
	}
	return nil
}

// walkValues walks the matches with a value for the sort field, in order:
// the field's entries forwards, or backwards for a descending sort. The
// sort key comes from the entry.
func (p *indexPlan) walkValues() error {
	sortPrefix := fieldPrefix(p.domainID, p.terms[0].field)
	var from []byte
	if p.start != nil {
		from = indexKey(p.domainID, p.terms[0].field, p.start.keys[0], p.start.id)
	}
	return p.scan(sortPrefix, from, func(key []byte, id string) (bool, error) {
		k, _, decoded := decodeSortKey(key[len(sortPrefix):])
		if !decoded {
			// encSortKey never writes such a key; the case is the
			// reference.
			c, err := p.load(id)
			if err != nil {
				return false, err
			}
			k = p.keysOf(c.Fields)[0]
		}
		return p.emit(keyed{keys: []sortKey{k}, id: id}), nil
	})
}

// walkMissing walks the matches with no value for the sort field, which
// sort last, by case ID in the direction of the sort: every case in ID
// order through the case_id field, which every case holds, unless every
// case has a value.
func (p *indexPlan) walkMissing(inMissing bool) error {
	withValue, err := p.tx.CountIndex(indexAsc, fieldPrefix(p.domainID, p.terms[0].field))
	if err != nil {
		return err
	}
	all, err := p.cases()
	if err != nil || withValue >= all {
		return err
	}
	var from []byte
	if inMissing {
		from = indexKey(p.domainID, "case_id", sortKey{R: rankString, S: p.start.id}, p.start.id)
	}
	return p.scan(fieldPrefix(p.domainID, "case_id"), from, func(_ []byte, id string) (bool, error) {
		c, err := p.load(id)
		if err != nil {
			return false, err
		}
		if k := p.keysOf(c.Fields)[0]; k.R != rankMissing {
			return true, nil
		}
		return p.emit(keyed{keys: []sortKey{{R: rankMissing}}, id: id}), nil
	})
}
