package service

import (
	"container/heap"
	"context"
	"sort"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// SearchCases filters, sorts and pages a domain's cases (§9). The default
// order is last_updated_datetime descending (the agent UI's order, §9.4);
// cases equal on every sort key follow by caseId in the direction of the
// last sort key (cmpKeyed), which is the order of the case index read
// forwards or backwards.
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
		if err := s.domainExists(tx, domainID); err != nil {
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
		var plan *indexPlan
		// A search term the text index cannot answer (one with a line
		// break) is left to the scan.
		if _, textOK := textSearchTerm(str(in.SearchTerm)); !s.noIndex && (textOK || str(in.SearchTerm) == "") {
			if plan, err = s.planIndexSearch(tx, domainID, in, fs, terms, cur, n); err != nil {
				return err
			}
		}
		if plan != nil {
			var total int
			if page, total, more, err = plan.answer(cut); err != nil {
				return err
			}
			out.TotalCount = int64(total)
		} else {
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

// scanSearch evaluates the search over every case of the domain, or with
// a search term only over the candidates the text index gives
// (searchCandidates), as it was at cut, and returns how many match and, sorted, the first n+1 of them
// after the cursor. It keeps only those n+1 keys, so its memory is a
// page's, whatever the number of cases or matches.
func (s *Service) scanSearch(tx localcases.Tx, domainID string, in *api.SearchCasesRequest, fs *fieldSet,
	terms []searchTerm, desc []bool, cur cursorToken, cut time.Time, n int) (page []keyed, total int, err error) {
	top := newTopK(desc, cur, n+1)
	term := str(in.SearchTerm)
	err = s.searchCandidates(tx, domainID, term, cut, func(c *localcases.Case) (bool, error) {
		fields, existed, err := caseAsOf(tx, domainID, c, cut)
		if err != nil || !existed {
			return err == nil, err
		}
		c.Fields = fields
		if !matches(in.Filter, c) || !matchesTerm(term, c) {
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
