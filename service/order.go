package service

// The order a search defines, and the cursor that marks a place in it. The
// scan (search.go) and the case index (caseindex.go) both page in this
// order, so a cursor from either path continues on the other.

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// A cursor token is a keyset position: the sort key and ID of the last item
// returned, so the next page starts strictly after it in sort order however
// many items were created or deleted before it meanwhile (an offset would
// skip or repeat items then). It also carries Cut, the instant the walk
// began: SearchCases evaluates every page against the cases as they were at
// Cut (see caseAsOf), so an update during the walk cannot move a case across
// the cursor. It has pageToken's wire format and key (see token.go), which
// carries only a sequence number or offset.
type cursorToken struct {
	Listing string    `json:"l"`
	Keys    []sortKey `json:"k,omitempty"`
	ID      string    `json:"i,omitempty"`
	Cut     int64     `json:"c,omitempty"` // Unix milliseconds
}

// cursorKind keeps a cursor from verifying as a pageToken and the other
// way round (see tokenMAC).
const cursorKind = "cursor\x00"

func (s *Service) encodeCursor(c cursorToken) *string { return s.sealToken(cursorKind, c) }

// decodeCursor returns the cursor a token carries, the zero cursor for the
// first page, or a ValidationException for a malformed, forged or foreign
// token (§9.5). keys is how many sort keys the listing's tokens carry.
func (s *Service) decodeCursor(tok *string, listing string, keys int) (cursorToken, error) {
	if tok == nil || *tok == "" {
		return cursorToken{Listing: listing}, nil
	}
	var c cursorToken
	if !s.openToken(cursorKind, *tok, &c) || c.Listing != listing || c.ID == "" || len(c.Keys) != keys || c.Cut < 0 {
		return cursorToken{}, errBadToken()
	}
	return c, nil
}

// sortKey is one sort value in a total order across kinds, so a field
// holding values of mixed kinds (a deleted and re-created field, say) still
// sorts consistently: booleans, then numbers, then timestamps, then other
// strings; a missing value sorts last in either direction (§9.4).
type sortKey struct {
	R int     `json:"r"`
	S string  `json:"s,omitempty"`
	N float64 `json:"n,omitempty"`
	T int64   `json:"t,omitempty"`
}

const (
	rankBool = iota
	rankNumber
	rankTime
	rankString
	rankMissing
)

// keyOf builds the sort key of v for a field of type typ. Only DateTime
// fields sort chronologically: a Text value that happens to look like a
// timestamp still sorts as text.
func keyOf(typ string, v localcases.Value, present bool) sortKey {
	if !present || valIsEmpty(v) {
		return sortKey{R: rankMissing}
	}
	switch v.Kind {
	case localcases.ValueBool:
		if v.B {
			return sortKey{R: rankBool, N: 1}
		}
		return sortKey{R: rankBool}
	case localcases.ValueDouble:
		return sortKey{R: rankNumber, N: v.N}
	}
	if typ == string(api.FieldTypeDateTime) {
		if t, ok := parseTime(v.S); ok {
			// Milliseconds plus a nanosecond remainder: UnixNano overflows
			// after 2262, and ISO-8601 allows years up to 9999.
			return sortKey{R: rankTime, T: t.UnixMilli(), N: float64(t.Nanosecond() % 1e6), S: v.S}
		}
	}
	return sortKey{R: rankString, S: v.S}
}

func cmpKey(a, b sortKey) int {
	if a.R != b.R {
		return cmpInt(int64(a.R), int64(b.R))
	}
	switch a.R {
	case rankBool, rankNumber:
		if a.N != b.N {
			if a.N < b.N || math.IsNaN(a.N) {
				return -1
			}
			return 1
		}
	case rankTime:
		if a.T != b.T {
			return cmpInt(a.T, b.T)
		}
		if a.N != b.N {
			return cmpInt(int64(a.N), int64(b.N))
		}
	}
	return strings.Compare(a.S, b.S)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// keyed is an item placed in a keyset order.
type keyed struct {
	keys []sortKey
	id   string
}

// cmpKeyed is the order of a search: by each key in turn (desc[i] reverses
// key i, but missing values stay last), then, between items equal on every
// key, by case ID in the direction of the last key: ascending after an
// ascending sort, descending after a descending one. So with one sort key a
// descending order is exactly the ascending one reversed, but for the cases
// with no value, which stay last (in descending ID order), and the case index
// serves both from one ascending entry per value, read forwards or
// backwards (caseindex.go). The order is total, so a cursor names exactly
// one position.
func cmpKeyed(desc []bool, a, b keyed) int {
	if c := cmpKeys(desc, a, b); c != 0 {
		return c
	}
	if len(desc) > 0 && desc[len(desc)-1] {
		return strings.Compare(b.id, a.id)
	}
	return strings.Compare(a.id, b.id)
}

// cmpKeyedIDAsc is cmpKeyed with ties always by ID ascending, the order of
// the related-item searches, which no index serves.
func cmpKeyedIDAsc(desc []bool, a, b keyed) int {
	if c := cmpKeys(desc, a, b); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// cmpKeys compares the sort keys alone.
func cmpKeys(desc []bool, a, b keyed) int {
	for i := range desc {
		ka, kb := a.keys[i], b.keys[i]
		if (ka.R == rankMissing) != (kb.R == rankMissing) {
			if ka.R == rankMissing {
				return 1
			}
			return -1
		}
		c := cmpKey(ka, kb)
		if desc[i] {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// pageAfter sorts items (ties by ID ascending, cmpKeyedIDAsc) and returns
// the index of the first one strictly after the cursor (0 on the first
// page).
func pageAfter(desc []bool, items []keyed, cur cursorToken) int {
	sort.Slice(items, func(i, j int) bool { return cmpKeyedIDAsc(desc, items[i], items[j]) < 0 })
	if cur.ID == "" {
		return 0
	}
	at := keyed{keys: cur.Keys, id: cur.ID}
	return sort.Search(len(items), func(i int) bool { return cmpKeyedIDAsc(desc, items[i], at) > 0 })
}

// caseAsOf returns c's field values as they were at cut, by undoing the
// Case.Updated events performed after it, and false when the case did not
// exist yet. Timestamps are milliseconds, so a change made in the same
// millisecond as cut counts as before it; only a walk racing a write within
// that millisecond can see it move.
func caseAsOf(tx localcases.Tx, domainID string, c *localcases.Case, cut time.Time) (map[string]localcases.Value, bool, error) {
	if c.Created.After(cut) {
		return nil, false, nil
	}
	if !c.Modified.After(cut) {
		return c.Fields, true, nil
	}
	events, err := scanAll[localcases.AuditEvent](tx, localcases.AuditEvents, scope2(domainID, c.ID))
	if err != nil {
		return nil, false, err
	}
	fields := make(map[string]localcases.Value, len(c.Fields))
	for k, v := range c.Fields {
		fields[k] = v
	}
	for i := len(events) - 1; i >= 0 && events[i].Performed.After(cut); i-- {
		if events[i].Type == string(api.AuditEventTypeCaseCreated) {
			return nil, false, nil
		}
		if events[i].Type != string(api.AuditEventTypeCaseUpdated) {
			continue
		}
		for _, f := range events[i].Fields {
			if f.OldValue == nil || valIsEmpty(*f.OldValue) {
				delete(fields, f.FieldID)
			} else {
				fields[f.FieldID] = *f.OldValue
			}
		}
	}
	return fields, true, nil
}

// searchTerm is one sort key of a search.
type searchTerm struct {
	field string
	desc  bool
}
