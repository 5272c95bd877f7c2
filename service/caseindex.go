package service

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"sort"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// The case index lets SearchCases read a page's worth of cases instead of
// every case in the domain, through localcases.IndexTx. For every value a
// case holds, it keeps one entry:
//
//	case.asc   H(domain, field) enc(sortKey) caseID
//
// H is the first 12 bytes of SHA-256 over the domain and field IDs: a
// fixed-length, prefix-free stand-in for the 74 bytes of the two IDs, so
// keys are about half as long and a page of the index holds twice as many
// (a collision between two of a store's fields has odds of about 2^-96 per
// pair).
//
// enc is prefix-free and sorts bytewise exactly as cmpKey does, and the
// case ID after it breaks ties. A scan of case.asc forwards walks a field's
// values in ascending order with ties by case ID ascending; the same scan
// backwards walks them in descending order with ties by case ID
// descending, which is the order a search defines (cmpKeyed: ties follow
// the direction of the last sort key). So one entry per value serves both
// directions, and the cursor of a page is the same whichever path served
// it. A case with no value for the field has no entry: it sorts last, and
// the search finds it by walking every case (through case_id, which every
// case holds), in the direction of the sort.
const (
	indexAsc = "case.asc"
	// indexDescV2 is the descending index of layout version 2, emptied
	// when the index is rebuilt.
	indexDescV2 = "case.desc"
	// caseIndexVersion changes when the key layout does; the service
	// rebuilds the index at start when the stored version differs.
	caseIndexVersion = 3
)

// enc rank bytes: present values 1..4 (cmpKey's ranks plus one), missing 5.
func encSortKey(k sortKey) []byte {
	b := []byte{byte(k.R + 1)}
	switch k.R {
	case rankBool:
		b = append(b, byte(k.N))
	case rankNumber:
		b = binary.BigEndian.AppendUint64(b, orderedFloat(k.N))
	case rankTime:
		b = binary.BigEndian.AppendUint64(b, uint64(k.T)^(1<<63))
		b = binary.BigEndian.AppendUint32(b, uint32(k.N))
		b = appendEscaped(b, k.S)
	case rankString:
		b = appendEscaped(b, k.S)
	}
	return b
}

// decodeSortKey reverses encSortKey at the start of b; it returns the key
// and what follows it (the case ID). It lets a walk of an index read each
// entry's sort key from the entry instead of loading the case.
func decodeSortKey(b []byte) (k sortKey, rest []byte, ok bool) {
	e := b
	// unescape reverses appendEscaped from e[i:], returning the string and
	// the index just past its terminator.
	unescape := func(i int) (string, int, bool) {
		var out []byte
		for ; i+1 < len(e); i++ {
			if e[i] != 0 {
				out = append(out, e[i])
				continue
			}
			i++
			switch e[i] {
			case 0xFF:
				out = append(out, 0)
			case 1:
				return string(out), i + 1, true
			default:
				return "", 0, false
			}
		}
		return "", 0, false
	}
	if len(e) == 0 {
		return k, nil, false
	}
	k.R = int(e[0]) - 1
	end := 0
	switch k.R {
	case rankBool:
		if len(e) < 2 {
			return k, nil, false
		}
		k.N, end = float64(e[1]), 2
	case rankNumber:
		if len(e) < 9 {
			return k, nil, false
		}
		x := binary.BigEndian.Uint64(e[1:])
		if x>>63 == 1 {
			x &^= 1 << 63
		} else {
			x = ^x
		}
		k.N, end = math.Float64frombits(x), 9
	case rankTime:
		if len(e) < 13 {
			return k, nil, false
		}
		k.T = int64(binary.BigEndian.Uint64(e[1:]) ^ (1 << 63))
		k.N = float64(binary.BigEndian.Uint32(e[9:]))
		if k.S, end, ok = unescape(13); !ok {
			return k, nil, false
		}
	case rankString:
		if k.S, end, ok = unescape(1); !ok {
			return k, nil, false
		}
	default:
		return k, nil, false
	}
	return k, b[end:], true
}

// orderedFloat maps a float64 to a uint64 that sorts the same way.
func orderedFloat(f float64) uint64 {
	if f == 0 {
		f = 0 // -0 and +0 are equal to cmpKey
	}
	bits := math.Float64bits(f)
	if bits>>63 == 0 {
		return bits | 1<<63
	}
	return ^bits
}

// appendEscaped writes s so that it sorts bytewise like s and no encoding is
// a prefix of another: 0x00 becomes 0x00 0xFF, and 0x00 0x01 ends it.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0, 0xFF)
			continue
		}
		b = append(b, s[i])
	}
	return append(b, 0, 1)
}

func fieldPrefix(domainID, fieldID string) []byte {
	h := sha256.New()
	h.Write([]byte(domainID))
	h.Write([]byte{0})
	h.Write([]byte(fieldID))
	return h.Sum(make([]byte, 0, sha256.Size))[:fieldPrefixLen:fieldPrefixLen]
}

const fieldPrefixLen = 12

// indexKey is the entry of caseID for sort key k. No entry has a missing
// key; its encoding (the rank byte after every present one) serves as a
// bound.
func indexKey(domainID, fieldID string, k sortKey, caseID string) []byte {
	b := fieldPrefix(domainID, fieldID)
	if k.R == rankMissing {
		b = append(b, byte(rankMissing+1))
	} else {
		b = append(b, encSortKey(k)...)
	}
	return append(b, caseID...)
}

// indexCase writes c's entries; fs gives field types (DateTime values sort
// as instants) and is loaded when nil.
func (s *Service) indexCase(tx localcases.Tx, domainID string, c *localcases.Case, fs *fieldSet) error {
	if err := indexCaseText(tx, domainID, c); err != nil {
		return err
	}
	if fs == nil {
		var err error
		if fs, err = s.loadFieldSet(tx, domainID); err != nil {
			return err
		}
	}
	keys := make([][]byte, 0, len(c.Fields))
	for id, v := range c.Fields {
		k := keyOf(fs.typeOf(id), v, true)
		if k.R == rankMissing {
			continue
		}
		keys = append(keys, indexKey(domainID, id, k, c.ID))
	}
	return tx.SetIndex(indexAsc, c.ID, keys)
}

func unindexCase(tx localcases.Tx, caseID string) error {
	return tx.SetIndex(indexAsc, caseID, nil)
}

type indexMeta struct {
	Version int `json:"version"`
}

// ensureCaseIndex rebuilds the case index when the store holds none of the
// current layout: a data directory from before the index, or after a
// layout change. It runs at start, in one transaction.
func (s *Service) ensureCaseIndex(ctx context.Context) error {
	return s.store.Update(ctx, func(tx localcases.Tx) error {
		var m indexMeta
		err := tx.Get(localcases.Meta, "", "caseindex", &m)
		if err == nil && m.Version == caseIndexVersion {
			return nil
		}
		if err != nil && !isNotFound(err) {
			return err
		}
		start := time.Now()
		n, err := s.reindexAll(tx)
		if err != nil {
			return err
		}
		if n > 0 {
			// A store from an older release: say why this start took longer.
			s.log.Info("rebuilt the case index", "cases", n, "from_version", m.Version, "version", caseIndexVersion,
				"seconds", time.Since(start).Seconds())
		}
		return tx.Put(localcases.Meta, "", "caseindex", indexMeta{Version: caseIndexVersion})
	})
}

// reindexAll writes the entries of every case of the account and returns
// how many cases it indexed.
func (s *Service) reindexAll(tx localcases.Tx) (int, error) {
	domains, err := scanAll[localcases.Domain](tx, localcases.Domains, s.cfg.Account)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range domains {
		fs, err := s.loadFieldSet(tx, d.ID)
		if err != nil {
			return n, err
		}
		err = tx.List(localcases.Cases, d.ID, 0, func(r localcases.Raw) (bool, error) {
			var c localcases.Case
			if err := decode(r, &c); err != nil {
				return false, err
			}
			n++
			// Version 2 kept a second, descending entry per value.
			if err := tx.SetIndex(indexDescV2, c.ID, nil); err != nil {
				return false, err
			}
			return true, s.indexCase(tx, d.ID, &c, fs)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// collectLimit caps how many equalTo matches the search gathers and sorts
// in memory rather than walking the sort field's index, however rare the
// matches: the gathering holds every match's key.
const collectLimit = 2000

// eqLeaves appends the equalTo conditions of f that every match must meet
// and that the index can answer bytewise: f itself, or the members of its
// andAll, nested or not. It returns their index prefixes.
func eqLeaves(domainID string, f *api.CaseFilter, out [][]byte) [][]byte {
	switch {
	case f == nil:
	case f.Field != nil && f.Field.EqualTo != nil && f.Field.EqualTo.Value != nil:
		if v, ok := eqOperand(f.Field.EqualTo.Value); ok {
			out = append(out, append(fieldPrefix(domainID, str(f.Field.EqualTo.Id)), encSortKey(v)...))
		}
	case f.AndAll != nil:
		for i := range f.AndAll {
			out = eqLeaves(domainID, &f.AndAll[i], out)
		}
	}
	return out
}

// indexPlan answers a search from the case index, for the shapes it can
// serve exactly as the scan would: no search term, one sort key, and no
// filter, or a filter that is (or is an andAll including) an equalTo on a
// value that is not a timestamp. The results, the order and the as-of-cut
// semantics are the scan's (see SearchCases): cases changed since the walk
// began are taken as they were then.
//
// The equalTo with the fewest entries drives the search: its entries are
// the only candidates. When the filter is that equalTo alone, the index
// answers both the count and, walking the sort field's entries of the
// equalTo's cases (ScanIndexAlso), the page, without reading a case until
// the page is known.
type indexPlan struct {
	tx        localcases.Tx
	domainID  string
	filter    *api.CaseFilter
	sortField string
	sortType  string
	desc      bool
	order     []bool // {desc}, for cmpKeyed
	start     *keyed // the cursor; nil on the first page
	n         int    // the page size

	// The driving equalTo's index prefix and entry count; eqPrefix nil:
	// every case is a candidate.
	eqPrefix []byte
	eqCount  int
	// exact: a candidate matches without reading the case, because the
	// filter is the driving equalTo alone, or there is none.
	exact bool
	// casesN is the domain's case count once read (-1 before): it costs a
	// pass over the records, so it is taken only where the answer needs it.
	casesN int

	// The cases changed since the cut: skip names them, overlay holds
	// those that matched at the cut with their keys then, sorted, and
	// adjust is what they change in the index's count of matches.
	skip    map[string]bool
	overlay []keyed
	adjust  int

	page []keyed // the answer so far, up to n+1 entries
}

// planIndexSearch returns the plan for a search sorted by term alone, or
// nil when the index cannot answer it and the caller must scan.
func planIndexSearch(tx localcases.Tx, domainID string, in *api.SearchCasesRequest, fs *fieldSet,
	term searchTerm, cur cursorToken, n int) (*indexPlan, error) {
	if str(in.SearchTerm) != "" {
		return nil, nil
	}
	p := &indexPlan{tx: tx, domainID: domainID, filter: in.Filter, sortField: term.field,
		sortType: fs.typeOf(term.field), desc: term.desc, order: []bool{term.desc}, n: n, exact: in.Filter == nil, casesN: -1}
	if cur.ID != "" {
		p.start = &keyed{keys: cur.Keys, id: cur.ID}
	}
	if in.Filter != nil {
		leaves := eqLeaves(domainID, in.Filter, nil)
		if len(leaves) == 0 {
			return nil, nil
		}
		for _, prefix := range leaves {
			c, err := tx.CountIndex(indexAsc, prefix)
			if err != nil {
				return nil, err
			}
			if p.eqPrefix == nil || c < p.eqCount {
				p.eqPrefix, p.eqCount = prefix, c
			}
		}
		p.exact = in.Filter.Field != nil
	}
	return p, nil
}

// answer returns the page after the cursor as of cut, whether more
// follow, and how many cases match in all.
func (p *indexPlan) answer(cut time.Time) (page []keyed, total int, more bool, err error) {
	if err := p.changedSince(cut); err != nil {
		return nil, 0, false, err
	}
	// A selective filter: gather its matches and sort them, when that reads
	// fewer cases than walking the sort order would: about eqCount against
	// (n+1) × cases/eqCount.
	collect := false
	if p.eqPrefix != nil && p.eqCount <= collectLimit {
		all, err := p.cases()
		if err != nil {
			return nil, 0, false, err
		}
		collect = p.eqCount*p.eqCount <= (p.n+1)*all
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

func (p *indexPlan) keyOfCase(fields map[string]localcases.Value) sortKey {
	v, ok := fields[p.sortField]
	return keyOf(p.sortType, v, ok)
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
			p.overlay = append(p.overlay, keyed{keys: []sortKey{p.keyOfCase(fields)}, id: id})
		}
		return true, nil
	})
	sort.Slice(p.overlay, func(i, j int) bool { return cmpKeyed(p.order, p.overlay[i], p.overlay[j]) < 0 })
	return err
}

// count returns how many cases match, and when collect, the matches among
// the driving equalTo's entries (the changed cases are in the overlay).
func (p *indexPlan) count(collect bool) (total int, gathered []keyed, err error) {
	switch {
	case p.exact && p.eqPrefix == nil:
		all, err := p.cases()
		return all + p.adjust, nil, err
	case p.exact && !collect:
		return p.eqCount + p.adjust, nil, nil
	}
	matched := 0
	err = p.tx.ScanIndex(indexAsc, p.eqPrefix, nil, false, func(_ []byte, id string) (bool, error) {
		if p.skip[id] {
			return true, nil
		}
		c, err := p.load(id)
		if err != nil {
			return false, err
		}
		if !matches(p.filter, c) {
			return true, nil
		}
		matched++
		if collect {
			gathered = append(gathered, keyed{keys: []sortKey{p.keyOfCase(c.Fields)}, id: id})
		}
		return true, nil
	})
	return matched + len(p.overlay), gathered, err
}

// pageFromGathered sorts the gathered matches with the overlay and keeps
// those after the cursor.
func (p *indexPlan) pageFromGathered(gathered []keyed) {
	gathered = append(gathered, p.overlay...)
	sort.Slice(gathered, func(i, j int) bool { return cmpKeyed(p.order, gathered[i], gathered[j]) < 0 })
	for _, k := range gathered {
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
// the sort, keeping only the driving equalTo's cases (the engine
// intersects the two ranges).
func (p *indexPlan) scan(prefix, from []byte, fn func([]byte, string) (bool, error)) error {
	if p.eqPrefix == nil {
		return p.tx.ScanIndex(indexAsc, prefix, from, p.desc, fn)
	}
	return p.tx.ScanIndexAlso(indexAsc, prefix, from, p.desc, indexAsc, p.eqPrefix, fn)
}

// candidate reports whether case id matches; a case is read only when the
// filter holds more than the driving equalTo.
func (p *indexPlan) candidate(id string) (bool, error) {
	if p.exact {
		return true, nil
	}
	c, err := p.load(id)
	if err != nil {
		return false, err
	}
	return matches(p.filter, c), nil
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

// walkValues walks the cases with a value for the sort field, in order:
// the field's entries forwards, or backwards for a descending sort.
func (p *indexPlan) walkValues() error {
	sortPrefix := fieldPrefix(p.domainID, p.sortField)
	var from []byte
	if p.start != nil {
		from = indexKey(p.domainID, p.sortField, p.start.keys[0], p.start.id)
	}
	return p.scan(sortPrefix, from, func(key []byte, id string) (bool, error) {
		if p.skip[id] {
			return true, nil
		}
		ok, err := p.candidate(id)
		if err != nil || !ok {
			return err == nil, err
		}
		// The entry holds the sort key; a case is read only if it
		// cannot be decoded, which encSortKey never writes.
		k, _, decoded := decodeSortKey(key[len(sortPrefix):])
		if !decoded {
			c, err := p.load(id)
			if err != nil {
				return false, err
			}
			k = p.keyOfCase(c.Fields)
		}
		return p.emit(keyed{keys: []sortKey{k}, id: id}), nil
	})
}

// walkMissing walks the cases with no value for the sort field, which
// sort last, by case ID in the direction of the sort: every case in ID
// order through the case_id field, which every case holds, unless every
// case has a value.
func (p *indexPlan) walkMissing(inMissing bool) error {
	withValue, err := p.tx.CountIndex(indexAsc, fieldPrefix(p.domainID, p.sortField))
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
		if p.skip[id] {
			return true, nil
		}
		c, err := p.load(id)
		if err != nil {
			return false, err
		}
		if k := p.keyOfCase(c.Fields); k.R != rankMissing || !matches(p.filter, c) {
			return true, nil
		}
		return p.emit(keyed{keys: []sortKey{{R: rankMissing}}, id: id}), nil
	})
}

// eqOperand is the sort key an equalTo operand matches bytewise in the
// index, or false when equality is not bytewise: emptyValue, and strings
// that parse as timestamps (they compare as instants, §9.3).
func eqOperand(u *api.FieldValueUnion) (sortKey, bool) {
	switch {
	case u.StringValue != nil:
		if _, isTime := parseTime(*u.StringValue); isTime {
			return sortKey{}, false
		}
		return sortKey{R: rankString, S: *u.StringValue}, true
	case u.UserArnValue != nil:
		return sortKey{R: rankString, S: *u.UserArnValue}, true
	case u.DoubleValue != nil:
		return sortKey{R: rankNumber, N: *u.DoubleValue}, true
	case u.BooleanValue != nil:
		k := sortKey{R: rankBool}
		if *u.BooleanValue {
			k.N = 1
		}
		return k, true
	}
	return sortKey{}, false
}
