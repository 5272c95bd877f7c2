package service

import (
	"math"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// The filter planner turns a SearchCases filter into the set of cases that
// match it, as a bitmap of case ordinals read from the match columns
// (columns.go) without loading a case: each field condition is one or a
// few ranges of its field's column, and andAll, orAll and not are
// intersection, union and difference of bitmaps. The filter evaluator
// (filter.go) stays the reference: every entry a range yields is checked
// with fieldValueMatches on the value its key holds, so a range need only
// be a superset of the matches, and the columns answer exactly what the
// scan would.
//
// A condition the columns cannot answer (tag.equalTo, which the case index
// does not hold) yields "every case, to be checked": the plan is then a
// superset, and the search checks each candidate against the whole filter
// on the case itself, or scans when there are too many (see verifyLimit).

// segment is one range of a field's entries: those under prefix, from
// strictly after the key after (nil: the first), up to the last whose key
// sorts at or below upTo (nil: to the end of prefix).
type segment struct {
	prefix, after []byte
	upTo          *sortKey
}

// valueOfKey is a value with sort key k, as fieldValueMatches sees it:
// user ARNs and strings compare alike, and a timestamp's key keeps its text.
func valueOfKey(k sortKey) localcases.Value {
	switch k.R {
	case rankBool:
		return localcases.Value{Kind: localcases.ValueBool, B: k.N == 1}
	case rankNumber:
		return localcases.Value{Kind: localcases.ValueDouble, N: k.N}
	}
	return localcases.Value{Kind: localcases.ValueString, S: k.S}
}

// leafSegments returns the ranges of a field's entries (prefix fp) that
// hold every value op o can accept against want: by rank (booleans,
// numbers, timestamps, strings: encSortKey's first byte), bounded where
// the rank orders values as the comparison does. Strings compare as
// instants only when both parse as timestamps (§9.3), so a timestamp
// operand bounds the timestamp entries of a DateTime field, and every
// string entry is a candidate unless the field is a DateTime field (whose
// string entries are the values that do not parse, compared bytewise).
func leafSegments(fp []byte, o fieldOp, want localcases.Value, dateTime bool) []segment {
	rank := func(r int) []byte { return append(append([]byte{}, fp...), byte(r+1)) }
	bounded := func(r int, k sortKey) segment {
		sg := segment{prefix: rank(r)}
		switch o {
		case opEq:
			sg.prefix = append(append([]byte{}, fp...), encSortKey(k)...)
		case opGt, opGe:
			sg.after = append(append([]byte{}, fp...), encSortKey(k)...)
		case opLt, opLe:
			sg.upTo = &k
		}
		return sg
	}
	switch want.Kind {
	case localcases.ValueBool:
		if o != opEq {
			return nil
		}
		k := sortKey{R: rankBool}
		if want.B {
			k.N = 1
		}
		return []segment{{prefix: append(append([]byte{}, fp...), encSortKey(k)...)}}
	case localcases.ValueDouble:
		if o == opContains || math.IsNaN(want.N) {
			return []segment{{prefix: rank(rankNumber)}}
		}
		return []segment{bounded(rankNumber, sortKey{R: rankNumber, N: want.N})}
	}
	if o == opContains {
		return []segment{{prefix: rank(rankTime)}, {prefix: rank(rankString)}}
	}
	if t, isTime := parseTime(want.S); isTime {
		// The timestamp's key without its text: every entry at that
		// instant, whatever its text, sorts after the prefix and before
		// anything later.
		k := sortKey{R: rankTime, T: t.UnixMilli(), N: float64(t.Nanosecond() % 1e6)}
		enc := encSortKey(k)
		at := append(append([]byte{}, fp...), enc[:len(enc)-2]...) // without the empty text's terminator
		tsg := segment{prefix: rank(rankTime)}
		switch o {
		case opEq:
			tsg.prefix = at
		case opGt, opGe:
			tsg.after = at
		case opLt, opLe:
			k.S = "\xff\xff\xff\xff" // above any timestamp's text at that instant
			tsg.upTo = &k
		}
		if dateTime {
			return []segment{tsg, bounded(rankString, sortKey{R: rankString, S: want.S})}
		}
		return []segment{tsg, {prefix: rank(rankString)}}
	}
	return []segment{{prefix: rank(rankTime)}, bounded(rankString, sortKey{R: rankString, S: want.S})}
}

// bits is what the columns narrow a filter (or part of one) to: every case
// (all) or the ordinals in b; exact when they are exactly the matches.
type bits struct {
	all   bool
	b     *roaring.Bitmap
	exact bool
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
	hi = c.prefixEnd(lo, prefix)
	if sg.after != nil {
		lo = max(lo, c.search(sg.after[len(fp):], true))
	}
	if sg.upTo != nil && lo < hi {
		hi = lo + sort.Search(hi-lo, func(i int) bool { return cmpKey(c.sk[lo+i], *sg.upTo) > 0 })
	}
	return lo, max(lo, hi)
}

// matches returns the matches of the search's filter as ordinals, or
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
