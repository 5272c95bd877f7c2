package service

import (
	"fmt"
	"math"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// The filter planner turns a SearchCases filter into the set of cases that
// match it, read from the case index (caseindex.go) without loading a case:
// each field condition is one or a few ranges of its field's entries, and
// andAll, orAll and not are intersection, union and complement of those
// sets. The filter evaluator (filter.go) stays the reference: every entry a
// range yields is checked with fieldValueMatches on the value its key
// holds, so a range need only be a superset of the matches, and the index
// answers exactly what the scan would.
//
// A condition the index cannot answer (tag.equalTo, which the case index
// does not hold) yields "every case, to be checked": the plan is then a
// superset, and the search checks each candidate against the whole filter
// on the case itself, or scans when there are too many (see verifyLimit).
// Another source of candidates, such as a text index for searchTerm, joins
// the plan as one more member of the conjunction: intersect its cands with
// the filter's (cands.and).

// idSet is a set of case IDs.
type idSet map[string]struct{}

// cands is what the index narrows a filter (or part of one) to: every case
// (all) or the cases in ids; exact when they are exactly the matches, else
// a superset to check case by case.
type cands struct {
	all   bool
	ids   idSet
	exact bool
}

func everyCase(exact bool) cands { return cands{all: true, exact: exact} }

func noCase() cands { return cands{ids: idSet{}, exact: true} }

// and is the intersection of two candidate sets.
func (a cands) and(b cands) cands {
	exact := a.exact && b.exact
	switch {
	case a.all:
		b.exact = exact
		return b
	case b.all:
		a.exact = exact
		return a
	}
	small, large := a.ids, b.ids
	if len(large) < len(small) {
		small, large = large, small
	}
	out := make(idSet, len(small))
	for id := range small {
		if _, ok := large[id]; ok {
			out[id] = struct{}{}
		}
	}
	return cands{ids: out, exact: exact}
}

// filterPlanner evaluates filters against one domain's case index.
type filterPlanner struct {
	tx       localcases.Tx
	domainID string
	fs       *fieldSet
	every    idSet // every case of the domain, once read
}

// eval returns the candidates of f; within, if not nil, bounds them (a
// conjunction's set so far), which keeps the sets a walk builds small.
func (p *filterPlanner) eval(f *api.CaseFilter, within idSet) (cands, error) {
	switch {
	case f == nil:
		return everyCase(true), nil
	case f.Field != nil:
		return p.leaf(f.Field, within)
	case f.Not != nil:
		inner, err := p.eval(f.Not, within)
		if err != nil || !inner.exact {
			return everyCase(false), err
		}
		if inner.all {
			return noCase(), nil
		}
		return p.complement(inner.ids, within)
	case f.AndAll != nil:
		return p.andAll(f.AndAll, within)
	case f.OrAll != nil:
		out := noCase()
		for i := range f.OrAll {
			c, err := p.eval(&f.OrAll[i], within)
			if err != nil {
				return cands{}, err
			}
			if c.all {
				// One member matches every case (to be checked or not):
				// so does the union.
				return everyCase(c.exact && out.exact), nil
			}
			for id := range c.ids {
				out.ids[id] = struct{}{}
			}
			out.exact = out.exact && c.exact
		}
		return out, nil
	}
	// tag.equalTo, or a filter with no member set (which matches nothing,
	// but Validate rejects it first): check each candidate.
	return everyCase(false), nil
}

// andAll intersects the members' sets, field conditions first (equalTo
// before ranges, as the likelier to be selective), each bounded by the
// intersection so far.
func (p *filterPlanner) andAll(members []api.CaseFilter, within idSet) (cands, error) {
	rank := func(f *api.CaseFilter) int {
		switch {
		case f.Field != nil && f.Field.EqualTo != nil:
			return 0
		case f.Field != nil:
			return 1
		}
		return 2
	}
	out := everyCase(true)
	if within != nil {
		out = cands{ids: within, exact: true}
	}
	for r := range 3 {
		for i := range members {
			if rank(&members[i]) != r {
				continue
			}
			c, err := p.eval(&members[i], out.ids)
			if err != nil {
				return cands{}, err
			}
			out = out.and(c)
			if !out.all && len(out.ids) == 0 {
				return out, nil
			}
		}
	}
	return out, nil
}

// everyID returns every case of the domain, through the case_id field's
// entries, which every case has.
func (p *filterPlanner) everyID() (idSet, error) {
	if p.every != nil {
		return p.every, nil
	}
	every := idSet{}
	err := p.tx.ScanIndex(indexAsc, fieldPrefix(p.domainID, "case_id"), nil, false, func(_ []byte, id string) (bool, error) {
		every[id] = struct{}{}
		return true, nil
	})
	p.every = every
	return every, err
}

// complement returns the cases (of within, or of the domain) not in ids.
func (p *filterPlanner) complement(ids, within idSet) (cands, error) {
	if within == nil {
		var err error
		if within, err = p.everyID(); err != nil {
			return cands{}, err
		}
	}
	out := make(idSet, max(len(within)-len(ids), 0))
	for id := range within {
		if _, ok := ids[id]; !ok {
			out[id] = struct{}{}
		}
	}
	return cands{ids: out, exact: true}, nil
}

// segment is one range of a field's entries: those under prefix, from
// strictly after the key after (nil: the first), up to the last whose key
// sorts at or below upTo (nil: to the end of prefix).
type segment struct {
	prefix, after []byte
	upTo          *sortKey
}

// leaf returns the cases that meet one field condition: the entries of its
// segments whose value fieldValueMatches accepts. A condition on emptyValue
// (equalTo: the case holds no value) is the complement of every entry of
// the field.
func (p *filterPlanner) leaf(ff *api.FieldFilter, within idSet) (cands, error) {
	o, fv := fieldFilterOp(ff)
	if o == opNone {
		return noCase(), nil
	}
	field := str(fv.Id)
	want := valFromUnion(fv.Value)
	fp := fieldPrefix(p.domainID, field)
	if valIsEmpty(want) {
		if o != opEq {
			return noCase(), nil
		}
		with, err := p.scanSegments(fp, []segment{{prefix: fp}}, within, nil)
		if err != nil {
			return cands{}, err
		}
		return p.complement(with, within)
	}
	segs := leafSegments(fp, o, want, p.fs.typeOf(field) == string(api.FieldTypeDateTime))
	ids, err := p.scanSegments(fp, segs, within, func(v localcases.Value) bool {
		return fieldValueMatches(o, want, v, true)
	})
	return cands{ids: ids, exact: true}, err
}

// scanSegments collects the owners of the entries in segs (under the
// field prefix fp) that are in within (nil: any) and whose value keep
// accepts (nil: all).
func (p *filterPlanner) scanSegments(fp []byte, segs []segment, within idSet, keep func(localcases.Value) bool) (idSet, error) {
	out := idSet{}
	for _, sg := range segs {
		err := p.tx.ScanIndex(indexAsc, sg.prefix, sg.after, false, func(key []byte, id string) (bool, error) {
			if within != nil {
				if _, ok := within[id]; !ok && sg.upTo == nil {
					return true, nil
				}
			}
			if keep == nil && sg.upTo == nil {
				out[id] = struct{}{}
				return true, nil
			}
			k, _, ok := decodeSortKey(key[len(fp):])
			if !ok {
				return false, fmt.Errorf("case index: entry %x of case %s does not decode", key, id)
			}
			if sg.upTo != nil && cmpKey(k, *sg.upTo) > 0 {
				return false, nil
			}
			if within != nil {
				if _, ok := within[id]; !ok {
					return true, nil
				}
			}
			if keep == nil || keep(valueOfKey(k)) {
				out[id] = struct{}{}
			}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
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
