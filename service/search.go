package service

import (
	"container/heap"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
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

// cursorMAC signs a cursor payload. The domain-separation prefix keeps a
// cursor from verifying as a pageToken and the other way round, even though
// both share the server's key and JSON field names.
func (s *Service) cursorMAC(payload []byte) []byte {
	mac := hmac.New(sha256.New, s.tokenKey)
	mac.Write([]byte("cursor\x00"))
	mac.Write(payload)
	return mac.Sum(nil)[:16]
}

func (s *Service) encodeCursor(c cursorToken) *string {
	payload, _ := json.Marshal(c)
	tok := base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(s.cursorMAC(payload))
	return &tok
}

// decodeCursor returns the cursor a token carries, the zero cursor for the
// first page, or a ValidationException for a malformed, forged or foreign
// token (§9.5). keys is how many sort keys the listing's tokens carry.
func (s *Service) decodeCursor(tok *string, listing string, keys int) (cursorToken, error) {
	if tok == nil || *tok == "" {
		return cursorToken{Listing: listing}, nil
	}
	bad := api.Validation("The nextToken is not valid for this request.")
	if len(*tok) > maxTokenLen {
		return cursorToken{}, bad
	}
	p, sigText, ok := strings.Cut(*tok, ".")
	if !ok {
		return cursorToken{}, bad
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(sigText)
	if err1 != nil || err2 != nil {
		return cursorToken{}, bad
	}
	if !hmac.Equal(sig, s.cursorMAC(payload)) {
		return cursorToken{}, bad
	}
	var c cursorToken
	if err := json.Unmarshal(payload, &c); err != nil || c.Listing != listing || c.ID == "" || len(c.Keys) != keys || c.Cut < 0 {
		return cursorToken{}, bad
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

// cmpKeyed orders by each key in turn (desc[i] reverses key i, but missing
// values stay last), then by ID, so the order is total and a cursor names
// exactly one position.
func cmpKeyed(desc []bool, a, b keyed) int {
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
	return strings.Compare(a.id, b.id)
}

// pageAfter sorts items and returns the index of the first one strictly
// after the cursor (0 on the first page).
func pageAfter(desc []bool, items []keyed, cur cursorToken) int {
	sort.Slice(items, func(i, j int) bool { return cmpKeyed(desc, items[i], items[j]) < 0 })
	if cur.ID == "" {
		return 0
	}
	at := keyed{keys: cur.Keys, id: cur.ID}
	return sort.Search(len(items), func(i int) bool { return cmpKeyed(desc, items[i], at) > 0 })
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

// SearchCases filters, sorts and pages a domain's cases (§9). The default
// order is last_updated_datetime descending (the agent UI's order, §9.4);
// ties and equal sort keys fall back to caseId ascending.
func (s *Service) SearchCases(ctx context.Context, in *api.SearchCasesRequest) (*api.SearchCasesResponse, error) {
	domainID := str(in.DomainId)
	// A search is a scan, CPU-bound: more of them at once than there are
	// cores only adds memory, so the rest wait their turn.
	select {
	case s.searchSlots <- struct{}{}:
		defer func() { <-s.searchSlots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ids := map[string]bool{}
	if err := caseFilterFields(in.Filter, 1, ids); err != nil {
		return nil, err
	}
	terms := []searchTerm{{"last_updated_datetime", true}}
	if len(in.Sorts) > 0 {
		terms = terms[:0]
		for _, so := range in.Sorts {
			terms = append(terms, searchTerm{str(so.FieldId), so.SortOrder != nil && *so.SortOrder == api.OrderDesc})
			ids[str(so.FieldId)] = true
		}
	}
	desc := make([]bool, len(terms))
	for i, t := range terms {
		desc[i] = t.desc
	}
	query := mustJSON(struct {
		F *api.CaseFilter `json:"f"`
		T string          `json:"t"`
		S []api.Sort      `json:"s"`
	}{in.Filter, str(in.SearchTerm), in.Sorts})
	listing := listingKey("SearchCases", domainID, string(query))
	cur, err := s.decodeCursor(in.NextToken, listing, len(terms))
	if err != nil {
		return nil, err
	}
	n := pageSize(in.MaxResults, 25)
	out := &api.SearchCasesResponse{Cases: []api.SearchCasesResponseItem{}}
	err = s.view(ctx, func(tx localcases.Tx) error {
		if _, err := s.getDomain(tx, domainID); err != nil {
			return err
		}
		fs, err := s.loadFieldSet(tx, domainID)
		if err != nil {
			return err
		}
		for id := range ids {
			if fs.byID[id] == nil {
				return api.Validation("Field %s does not exist in domain %s.", id, domainID)
			}
		}
		cut := s.now()
		if cur.ID != "" {
			cut = time.UnixMilli(cur.Cut).UTC()
		}
		var page []keyed
		more := false
		handled := false
		if len(terms) == 1 {
			var total int
			page, total, more, handled, err = s.indexedSearch(tx, domainID, in, fs, terms[0].field, terms[0].desc, cur, cut, n)
			if err != nil {
				return err
			}
			out.TotalCount = int64(total)
		}
		if !handled {
			hits, total, err := s.scanSearch(tx, domainID, in, fs, terms, desc, cur, cut, n)
			if err != nil {
				return err
			}
			out.TotalCount = int64(total)
			page, more = hits[:min(n, len(hits))], len(hits) > n
		}
		for _, h := range page {
			var c localcases.Case
			if err := tx.Get(localcases.Cases, domainID, h.id, &c); err != nil {
				return err
			}
			// Values are today's, even though order and matching are as of
			// the walk's start: a client wants current data on every page.
			out.Cases = append(out.Cases, api.SearchCasesResponseItem{
				CaseId: ptr(c.ID), TemplateId: ptr(c.TemplateID),
				Fields: projectFields(c.Fields, in.Fields), Tags: tagsOut(c.Tags),
			})
		}
		if more {
			last := page[len(page)-1]
			out.NextToken = s.encodeCursor(cursorToken{Listing: listing, Keys: last.keys, ID: last.id, Cut: cut.UnixMilli()})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanSearch evaluates the search over every case of the domain, as it was
// at cut, and returns how many match and, sorted, the first n+1 of them
// after the cursor. It keeps only those n+1 keys, so its memory is a
// page's, whatever the number of cases or matches.
func (s *Service) scanSearch(tx localcases.Tx, domainID string, in *api.SearchCasesRequest, fs *fieldSet,
	terms []searchTerm, desc []bool, cur cursorToken, cut time.Time, n int) (page []keyed, total int, err error) {
	top := newTopK(desc, cur, n+1)
	term := str(in.SearchTerm)
	err = tx.List(localcases.Cases, domainID, 0, func(r localcases.Raw) (bool, error) {
		var c localcases.Case
		if err := decode(r, &c); err != nil {
			return false, err
		}
		fields, existed, err := caseAsOf(tx, domainID, &c, cut)
		if err != nil || !existed {
			return err == nil, err
		}
		c.Fields = fields
		if !matches(in.Filter, &c) || !matchesTerm(term, &c) {
			return true, nil
		}
		total++
		k := keyed{id: c.ID, keys: make([]sortKey, len(terms))}
		for j, t := range terms {
			v, ok := fields[t.field]
			k.keys[j] = keyOf(fs.typeOf(t.field), v, ok)
		}
		top.offer(k)
		return true, nil
	})
	return top.sorted(), total, err
}

// topK keeps the k smallest keys strictly after a cursor, in a heap whose
// root is the largest kept, so a walk over any number of candidates holds
// k of them.
type topK struct {
	desc  []bool
	after *keyed
	k     int
	h     []keyed
}

func newTopK(desc []bool, cur cursorToken, k int) *topK {
	t := &topK{desc: desc, k: k}
	if cur.ID != "" {
		t.after = &keyed{keys: cur.Keys, id: cur.ID}
	}
	return t
}

// heap.Interface, largest first.
func (t *topK) Len() int           { return len(t.h) }
func (t *topK) Less(i, j int) bool { return cmpKeyed(t.desc, t.h[i], t.h[j]) > 0 }
func (t *topK) Swap(i, j int)      { t.h[i], t.h[j] = t.h[j], t.h[i] }
func (t *topK) Push(x any)         { t.h = append(t.h, x.(keyed)) }
func (t *topK) Pop() any {
	x := t.h[len(t.h)-1]
	t.h = t.h[:len(t.h)-1]
	return x
}

func (t *topK) offer(k keyed) {
	switch {
	case t.after != nil && cmpKeyed(t.desc, k, *t.after) <= 0:
	case len(t.h) < t.k:
		heap.Push(t, k)
	case t.k > 0 && cmpKeyed(t.desc, k, t.h[0]) < 0:
		t.h[0] = k
		heap.Fix(t, 0)
	}
}

// sorted returns the kept keys in search order.
func (t *topK) sorted() []keyed {
	sort.Slice(t.h, func(i, j int) bool { return cmpKeyed(t.desc, t.h[i], t.h[j]) < 0 })
	return t.h
}
