package service

import (
	"strings"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// This file is the SearchCases filter language (§9.2, §9.3) as pure
// functions of a filter and a case: no store, no clock, no field
// definitions. A SQL engine can replace the evaluation with a query and
// test itself against these functions.
//
// Semantics, where BEHAVIOR leaves them open (§9.3 suggestions):
//   - equalTo emptyValue: the field holds no value. Any other operand needs a
//     value of a comparable kind: two numbers, two booleans, or two strings
//     (stringValue and userArnValue are both strings). Different kinds never
//     match, and a missing value matches no comparison.
//   - Two strings that both parse as RFC 3339 timestamps compare as instants,
//     so DateTime values order chronologically whatever their offset;
//     other strings compare bytewise.
//   - Booleans support equalTo only; greaterThan and friends never match them.
//   - contains is a case-insensitive substring test on string values only.
//   - not negates; empty andAll matches every case, empty orAll none.
//   - tag.equalTo: the case has the key with exactly that value.
//   - A filter with no member set (Validate rejects it) matches nothing.

// maxFilterDepth bounds nesting; the model has no limit, and an unbounded
// recursion is a stack to exhaust (§9.2 suggests 10).
const maxFilterDepth = 10

// matches reports whether case c satisfies filter f; a nil filter matches.
func matches(f *api.CaseFilter, c *localcases.Case) bool {
	if f == nil {
		return true
	}
	switch {
	case f.Field != nil:
		return fieldFilterMatches(f.Field, c.Fields)
	case f.Not != nil:
		return !matches(f.Not, c)
	case f.AndAll != nil:
		for i := range f.AndAll {
			if !matches(&f.AndAll[i], c) {
				return false
			}
		}
		return true
	case f.OrAll != nil:
		for i := range f.OrAll {
			if matches(&f.OrAll[i], c) {
				return true
			}
		}
		return false
	case f.Tag != nil:
		if f.Tag.EqualTo == nil {
			return false
		}
		v, ok := c.Tags[str(f.Tag.EqualTo.Key)]
		return ok && v == str(f.Tag.EqualTo.Value)
	}
	return false
}

// customMatches is matches for the fields of a Custom related item (§8.3),
// which share FieldFilter with cases but have no tags.
func customMatches(f *api.CustomFieldsFilter, fields map[string]localcases.Value) bool {
	if f == nil {
		return true
	}
	switch {
	case f.Field != nil:
		return fieldFilterMatches(f.Field, fields)
	case f.Not != nil:
		return !customMatches(f.Not, fields)
	case f.AndAll != nil:
		for i := range f.AndAll {
			if !customMatches(&f.AndAll[i], fields) {
				return false
			}
		}
		return true
	case f.OrAll != nil:
		for i := range f.OrAll {
			if customMatches(&f.OrAll[i], fields) {
				return true
			}
		}
		return false
	}
	return false
}

// fieldOp is the comparison of a FieldFilter.
type fieldOp int

const (
	opNone fieldOp = iota
	opEq
	opContains
	opGt
	opGe
	opLt
	opLe
)

// fieldFilterOp returns the comparison and operand of ff (opNone: none set).
func fieldFilterOp(ff *api.FieldFilter) (fieldOp, *api.FieldValue) {
	switch {
	case ff.EqualTo != nil:
		return opEq, ff.EqualTo
	case ff.Contains != nil:
		return opContains, ff.Contains
	case ff.GreaterThan != nil:
		return opGt, ff.GreaterThan
	case ff.GreaterThanOrEqualTo != nil:
		return opGe, ff.GreaterThanOrEqualTo
	case ff.LessThan != nil:
		return opLt, ff.LessThan
	case ff.LessThanOrEqualTo != nil:
		return opLe, ff.LessThanOrEqualTo
	}
	return opNone, nil
}

func fieldFilterMatches(ff *api.FieldFilter, fields map[string]localcases.Value) bool {
	o, fv := fieldFilterOp(ff)
	if o == opNone {
		return false
	}
	have, ok := fields[str(fv.Id)]
	return fieldValueMatches(o, valFromUnion(fv.Value), have, ok)
}

// fieldValueMatches is a field filter's test of the field's value have
// (ok: the case holds the field) against the operand want.
func fieldValueMatches(o fieldOp, want, have localcases.Value, ok bool) bool {
	ok = ok && !valIsEmpty(have)
	if valIsEmpty(want) {
		return o == opEq && !ok
	}
	if !ok {
		return false
	}
	if o == opContains {
		return isStringKind(have) && isStringKind(want) &&
			strings.Contains(strings.ToLower(have.S), strings.ToLower(want.S))
	}
	c, comparable := compareValues(have, want)
	if !comparable {
		return false
	}
	if have.Kind == localcases.ValueBool && o != opEq {
		return false
	}
	switch o {
	case opEq:
		return c == 0
	case opGt:
		return c > 0
	case opGe:
		return c >= 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	}
	return false
}

func isStringKind(v localcases.Value) bool {
	return v.Kind == localcases.ValueString || v.Kind == localcases.ValueUser
}

// compareValues orders two non-empty values of comparable kinds.
func compareValues(a, b localcases.Value) (int, bool) {
	switch {
	case a.Kind == localcases.ValueDouble && b.Kind == localcases.ValueDouble:
		switch {
		case a.N < b.N:
			return -1, true
		case a.N > b.N:
			return 1, true
		}
		return 0, true
	case a.Kind == localcases.ValueBool && b.Kind == localcases.ValueBool:
		if a.B == b.B {
			return 0, true
		}
		if !a.B {
			return -1, true
		}
		return 1, true
	case isStringKind(a) && isStringKind(b):
		if ta, ok := parseTime(a.S); ok {
			if tb, ok := parseTime(b.S); ok {
				return ta.Compare(tb), true
			}
		}
		return strings.Compare(a.S, b.S), true
	}
	return 0, false
}

// matchesTerm is searchTerm (§9.3): a case-insensitive substring of any
// string value, deleted fields' values included. An empty term matches.
func matchesTerm(term string, c *localcases.Case) bool {
	if term == "" {
		return true
	}
	t := strings.ToLower(term)
	for _, v := range c.Fields {
		if isStringKind(v) && strings.Contains(strings.ToLower(v.S), t) {
			return true
		}
	}
	return false
}

// caseFilterFields checks nesting depth and collects the field IDs a filter
// names, for the unknown-field check (§9.3).
func caseFilterFields(f *api.CaseFilter, depth int, ids map[string]bool) error {
	if f == nil {
		return nil
	}
	if depth > maxFilterDepth {
		return api.Validation("The filter is nested more than %d levels deep.", maxFilterDepth)
	}
	switch {
	case f.Field != nil:
		fieldFilterID(f.Field, ids)
	case f.Not != nil:
		return caseFilterFields(f.Not, depth+1, ids)
	case f.AndAll != nil || f.OrAll != nil:
		for _, list := range [][]api.CaseFilter{f.AndAll, f.OrAll} {
			for i := range list {
				if err := caseFilterFields(&list[i], depth+1, ids); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func customFilterFields(f *api.CustomFieldsFilter, depth int, ids map[string]bool) error {
	if f == nil {
		return nil
	}
	if depth > maxFilterDepth {
		return api.Validation("The custom fields filter is nested more than %d levels deep.", maxFilterDepth)
	}
	switch {
	case f.Field != nil:
		fieldFilterID(f.Field, ids)
	case f.Not != nil:
		return customFilterFields(f.Not, depth+1, ids)
	case f.AndAll != nil || f.OrAll != nil:
		for _, list := range [][]api.CustomFieldsFilter{f.AndAll, f.OrAll} {
			for i := range list {
				if err := customFilterFields(&list[i], depth+1, ids); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func fieldFilterID(ff *api.FieldFilter, ids map[string]bool) {
	for _, fv := range []*api.FieldValue{ff.EqualTo, ff.Contains, ff.GreaterThan, ff.GreaterThanOrEqualTo, ff.LessThan, ff.LessThanOrEqualTo} {
		if fv != nil {
			ids[str(fv.Id)] = true
			return
		}
	}
}
