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
// every case in the domain, on engines whose transactions implement
// localcases.IndexTx. For every value a case holds, it keeps two entries:
//
//	case.asc   H(domain, field) enc(sortKey)  caseID
//	case.desc  H(domain, field) ^enc(sortKey) caseID
//
// H is the first 12 bytes of SHA-256 over the domain and field IDs: a
// fixed-length, prefix-free stand-in for the 74 bytes of the two IDs, so
// keys are about half as long and a page of the index holds twice as many
// (a collision between two of a store's fields has odds of about 2^-96 per
// pair).
//
// enc is prefix-free and sorts bytewise exactly as cmpKey does, and the
// case ID after it breaks ties in ascending order in both indexes, so a
// scan of case.asc (or case.desc) walks a field's values in the order the
// search defines, and the cursor of a page is the same whichever path
// served it. A case with no value for the field has no entry: it sorts
// last, and the search finds it by walking every case.
const (
	indexAsc  = "case.asc"
	indexDesc = "case.desc"
	// caseIndexVersion changes when the key layout does; the service
	// rebuilds the index at start when the stored version differs.
	caseIndexVersion = 2
)

// enc rank bytes: present values 1..4 (cmpKey's ranks plus one), missing 5,
// so that inverted present ranks (0xFB..0xFE) stay below the missing marker
// 0xFF of the descending index.
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

// decodeSortKey reverses encSortKey at the start of b, whose bytes are
// inverted if inv (the descending index); it returns the key and what
// follows it (the case ID, never inverted). It lets a walk of an index
// read each entry's sort key from the entry instead of loading the case.
func decodeSortKey(b []byte, inv bool) (k sortKey, rest []byte, ok bool) {
	e := b
	if inv {
		e = make([]byte, len(b))
		for i, c := range b {
			e[i] = ^c
		}
	}
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

// indexKey is the entry of caseID for sort key k in the ascending or
// descending index.
func indexKey(domainID, fieldID string, k sortKey, caseID string, desc bool) []byte {
	b := fieldPrefix(domainID, fieldID)
	switch {
	case k.R == rankMissing && desc:
		b = append(b, 0xFF)
	case k.R == rankMissing:
		b = append(b, byte(rankMissing+1))
	case desc:
		for _, c := range encSortKey(k) {
			b = append(b, ^c)
		}
	default:
		b = append(b, encSortKey(k)...)
	}
	return append(b, caseID...)
}

// indexCase writes c's entries; fs gives field types (DateTime values sort
// as instants) and is loaded when nil.
func (s *Service) indexCase(tx localcases.Tx, domainID string, c *localcases.Case, fs *fieldSet) error {
	ix, ok := tx.(localcases.IndexTx)
	if !ok {
		return nil
	}
	if fs == nil {
		var err error
		if fs, err = s.loadFieldSet(tx, domainID); err != nil {
			return err
		}
	}
	var asc, desc [][]byte
	for id, v := range c.Fields {
		k := keyOf(fs.typeOf(id), v, true)
		if k.R == rankMissing {
			continue
		}
		asc = append(asc, indexKey(domainID, id, k, c.ID, false))
		desc = append(desc, indexKey(domainID, id, k, c.ID, true))
	}
	if err := ix.SetIndex(indexAsc, c.ID, asc); err != nil {
		return err
	}
	return ix.SetIndex(indexDesc, c.ID, desc)
}

func unindexCase(tx localcases.Tx, caseID string) error {
	ix, ok := tx.(localcases.IndexTx)
	if !ok {
		return nil
	}
	if err := ix.SetIndex(indexAsc, caseID, nil); err != nil {
		return err
	}
	return ix.SetIndex(indexDesc, caseID, nil)
}

func (fs *fieldSet) typeOf(id string) string {
	if f := fs.byID[id]; f != nil {
		return f.Type
	}
	return ""
}

type indexMeta struct {
	Version int `json:"version"`
}

// ensureCaseIndex rebuilds the case index when the store holds none of the
// current layout: a data directory from before the index, or after a
// layout change. It runs at start, in one transaction.
func (s *Service) ensureCaseIndex(ctx context.Context) error {
	return s.store.Update(ctx, func(tx localcases.Tx) error {
		if _, ok := tx.(localcases.IndexTx); !ok {
			return nil
		}
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

// indexedSearch answers a search from the case index, for the shapes it can
// serve exactly as the scan would: no search term, one sort key, and no
// filter, or a filter that is (or is an andAll including) an equalTo on a
// value that is not a timestamp. handled is false for anything else, and
// the caller scans. The results, the order and the as-of-cut semantics are
// the scan's (see SearchCases): cases changed since the walk began are
// taken as they were then.
//
// The equalTo with the fewest entries drives the search: its entries are
// the only candidates. When the filter is that equalTo alone, the index
// answers both the count and, walking the sort field's entries of the
// equalTo's cases (ScanIndexAlso), the page, without reading a case until
// the page is known.
func (s *Service) indexedSearch(tx localcases.Tx, domainID string, in *api.SearchCasesRequest, fs *fieldSet,
	sortField string, desc bool, cur cursorToken, cut time.Time, n int) (page []keyed, total int, more, handled bool, err error) {
	ix, ok := tx.(localcases.IndexTx)
	if !ok || str(in.SearchTerm) != "" {
		return nil, 0, false, false, nil
	}
	var eqPrefix []byte // the driving equalTo; nil: every case is a candidate
	eqCount := 0
	exact := in.Filter == nil
	if in.Filter != nil {
		leaves := eqLeaves(domainID, in.Filter, nil)
		if len(leaves) == 0 {
			return nil, 0, false, false, nil
		}
		for _, p := range leaves {
			c, err := ix.CountIndex(indexAsc, p)
			if err != nil {
				return nil, 0, false, true, err
			}
			if eqPrefix == nil || c < eqCount {
				eqPrefix, eqCount = p, c
			}
		}
		exact = in.Filter.Field != nil
	}
	typ := fs.typeOf(sortField)
	descs := []bool{desc}
	keyOfCase := func(fields map[string]localcases.Value) sortKey {
		v, ok := fields[sortField]
		return keyOf(typ, v, ok)
	}
	load := func(id string) (*localcases.Case, error) {
		var c localcases.Case
		if err := tx.Get(localcases.Cases, domainID, id, &c); err != nil {
			return nil, err
		}
		return &c, nil
	}
	// The domain's case count costs a pass over its records, so it is
	// taken only where the answer needs it.
	casesN := -1
	cases := func() (int, error) {
		if casesN < 0 {
			n, err := tx.Count(localcases.Cases, domainID)
			if err != nil {
				return 0, err
			}
			casesN = n
		}
		return casesN, nil
	}

	// Cases changed since the walk began are judged as they were at the cut
	// (caseAsOf); every case write moves last_updated_datetime, so they are
	// the entries past the cut in that field's index.
	skip := map[string]bool{}
	var overlay []keyed
	adjust := 0
	after := append(fieldPrefix(domainID, "last_updated_datetime"), byte(rankTime+1))
	after = binary.BigEndian.AppendUint64(after, uint64(cut.UnixMilli())^(1<<63))
	after = append(after, 0xFF)
	err = ix.ScanIndex(indexAsc, fieldPrefix(domainID, "last_updated_datetime"), after, false, func(_ []byte, id string) (bool, error) {
		c, err := load(id)
		if err != nil {
			return false, err
		}
		skip[id] = true
		if matches(in.Filter, c) {
			adjust--
		}
		fields, existed, err := caseAsOf(tx, domainID, c, cut)
		if err != nil || !existed {
			return err == nil, err
		}
		c.Fields = fields
		if matches(in.Filter, c) {
			adjust++
			overlay = append(overlay, keyed{keys: []sortKey{keyOfCase(fields)}, id: id})
		}
		return true, nil
	})
	if err != nil {
		return nil, 0, false, true, err
	}
	sort.Slice(overlay, func(i, j int) bool { return cmpKeyed(descs, overlay[i], overlay[j]) < 0 })

	var start *keyed
	if cur.ID != "" {
		start = &keyed{keys: cur.Keys, id: cur.ID}
	}
	afterCursor := func(k keyed) bool { return start == nil || cmpKeyed(descs, k, *start) > 0 }

	// A selective filter: gather its matches and sort them, when that reads
	// fewer cases than walking the sort order would: about eqCount against
	// (n+1) × cases/eqCount.
	collect := false
	if eqPrefix != nil && eqCount <= collectLimit {
		all, err := cases()
		if err != nil {
			return nil, 0, false, true, err
		}
		collect = eqCount*eqCount <= (n+1)*all
	}
	var gathered []keyed
	switch {
	case exact && eqPrefix == nil:
		all, err := cases()
		if err != nil {
			return nil, 0, false, true, err
		}
		total = all + adjust
	case exact && !collect:
		total = eqCount + adjust
	default:
		// Count (and, when collecting, gather) the matches among the
		// driving equalTo's entries; the changed cases are in the overlay.
		matched := 0
		err = ix.ScanIndex(indexAsc, eqPrefix, nil, false, func(_ []byte, id string) (bool, error) {
			if skip[id] {
				return true, nil
			}
			c, err := load(id)
			if err != nil {
				return false, err
			}
			if !matches(in.Filter, c) {
				return true, nil
			}
			matched++
			if collect {
				gathered = append(gathered, keyed{keys: []sortKey{keyOfCase(c.Fields)}, id: id})
			}
			return true, nil
		})
		if err != nil {
			return nil, 0, false, true, err
		}
		total = matched + len(overlay)
	}
	if collect {
		gathered = append(gathered, overlay...)
		sort.Slice(gathered, func(i, j int) bool { return cmpKeyed(descs, gathered[i], gathered[j]) < 0 })
		for _, k := range gathered {
			if afterCursor(k) {
				page = append(page, k)
			}
		}
		more = len(page) > n
		return page[:min(n, len(page))], total, more, true, nil
	}

	// Otherwise walk the sort field's index from the cursor, merging in the
	// overlay, then the cases with no value for the field.
	emit := func(k keyed) bool {
		for len(overlay) > 0 && cmpKeyed(descs, overlay[0], k) < 0 {
			if afterCursor(overlay[0]) {
				page = append(page, overlay[0])
			}
			overlay = overlay[1:]
		}
		if afterCursor(k) {
			page = append(page, k)
		}
		return len(page) <= n
	}
	// The walk keeps only the driving equalTo's cases (the engine
	// intersects the two indexes); a case is read only when the filter
	// holds more than that equalTo.
	scan := func(index string, prefix, from []byte, fn func([]byte, string) (bool, error)) error {
		if eqPrefix == nil {
			return ix.ScanIndex(index, prefix, from, false, fn)
		}
		return ix.ScanIndexAlso(index, prefix, from, false, indexAsc, eqPrefix, fn)
	}
	candidate := func(id string) (bool, error) {
		if exact {
			return true, nil
		}
		c, err := load(id)
		if err != nil {
			return false, err
		}
		return matches(in.Filter, c), nil
	}
	index := indexAsc
	if desc {
		index = indexDesc
	}
	sortPrefix := fieldPrefix(domainID, sortField)
	var from []byte
	if start != nil && start.keys[0].R != rankMissing {
		from = indexKey(domainID, sortField, start.keys[0], start.id, desc)
	}
	inMissing := start != nil && start.keys[0].R == rankMissing
	if !inMissing {
		err = scan(index, sortPrefix, from, func(key []byte, id string) (bool, error) {
			if skip[id] {
				return true, nil
			}
			ok, err := candidate(id)
			if err != nil || !ok {
				return err == nil, err
			}
			// The entry holds the sort key; a case is read only if it
			// cannot be decoded, which encSortKey never writes.
			k, _, decoded := decodeSortKey(key[len(sortPrefix):], desc)
			if !decoded {
				c, err := load(id)
				if err != nil {
					return false, err
				}
				k = keyOfCase(c.Fields)
			}
			return emit(keyed{keys: []sortKey{k}, id: id}), nil
		})
		if err != nil {
			return nil, 0, false, true, err
		}
	}
	if len(page) <= n {
		// Cases with no value sort last, by case ID: walk every case in ID
		// order through the case_id field, which every case holds, unless
		// every case has a value.
		withValue, err := ix.CountIndex(indexAsc, sortPrefix)
		if err != nil {
			return nil, 0, false, true, err
		}
		all, err := cases()
		if err != nil {
			return nil, 0, false, true, err
		}
		if withValue < all {
			var from []byte
			if inMissing {
				from = indexKey(domainID, "case_id", sortKey{R: rankString, S: start.id}, start.id, false)
			}
			err = scan(indexAsc, fieldPrefix(domainID, "case_id"), from, func(_ []byte, id string) (bool, error) {
				if skip[id] {
					return true, nil
				}
				c, err := load(id)
				if err != nil {
					return false, err
				}
				if k := keyOfCase(c.Fields); k.R != rankMissing || !matches(in.Filter, c) {
					return true, nil
				}
				return emit(keyed{keys: []sortKey{{R: rankMissing}}, id: id}), nil
			})
			if err != nil {
				return nil, 0, false, true, err
			}
		}
	}
	for _, k := range overlay {
		if len(page) > n {
			break
		}
		if afterCursor(k) {
			page = append(page, k)
		}
	}
	more = len(page) > n
	return page[:min(n, len(page))], total, more, true, nil
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
