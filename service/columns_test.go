package service

import (
	"fmt"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/localcases/localcases/api"
)

// benchColumn is a column of n numeric entries, case i holding i%1000.
func benchColumn(n int) *column {
	entries := make([]colEntry, n)
	size := 0
	for i := range entries {
		k := sortKey{R: rankNumber, N: float64(i % 1000)}
		entries[i] = colEntry{suf: append(encSortKey(k), fmt.Sprintf("case-%06d", i)...), sk: k, ord: uint32(i)}
		size += len(entries[i].suf)
	}
	// Index order: by key, then case ID.
	b := newColBuilder("0", n, size, n)
	for v := range 1000 {
		for i := v; i < n; i += 1000 {
			b.add(entries[i].suf, entries[i].sk, entries[i].ord)
		}
	}
	return b.done()
}

// BenchmarkColumnPatch times bringing a 100,000-entry column up to date
// after 100 cases changed: the copy a search makes when the index moved.
func BenchmarkColumnPatch(b *testing.B) {
	c := benchColumn(100_000)
	changed := make([]uint64, (c.n()+63)/64)
	var fresh []colEntry
	for i := range 100 {
		o := uint32(i * 997)
		changed[o>>6] |= 1 << (o & 63)
		k := sortKey{R: rankNumber, N: 5000}
		fresh = append(fresh, colEntry{suf: append(encSortKey(k), fmt.Sprintf("case-%06d", o)...), sk: k, ord: o})
	}
	for b.Loop() {
		c.patch("1", changed, fresh, c.n())
	}
}

// BenchmarkColumnWalk times walking a whole 100,000-entry column testing
// each ordinal against a bitmap that holds none: a page no case fills.
func BenchmarkColumnWalk(b *testing.B) {
	c := benchColumn(100_000)
	none := roaring.New()
	none.Add(uint32(c.n()) + 1)
	for b.Loop() {
		found := 0
		for i := range c.n() {
			if none.Contains(c.ord[i]) {
				found++
			}
		}
		if found != 0 {
			b.Fatal(found)
		}
	}
}

// TestSearchesShareColumns runs searches in several goroutines while cases
// change, so they read, patch and replace the same domain's columns at
// once (for the race detector), then, once the writes stop, requires each
// shape to answer as the scan does.
func TestSearchesShareColumns(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	score := e.field("score", api.FieldTypeNumber)
	grp := e.field("grp", api.FieldTypeText)
	var ids []string
	for i := range 60 {
		ids = append(ids, e.mustCase(sv("title", fmt.Sprint(i)), nv(score, float64(i%7)), sv(grp, []string{"a", "b", "c"}[i%3])))
	}
	filters := []*api.CaseFilter{
		nil,
		fieldF("eq", sv(grp, "a")),
		fieldF("gt", nv(score, 2)),
		{AndAll: []api.CaseFilter{*fieldF("ge", nv(score, 1)), {Not: fieldF("eq", sv(grp, "b"))}}},
		{OrAll: []api.CaseFilter{*fieldF("eq", sv(grp, "a")), *fieldF("lt", nv(score, 2))}},
	}
	sorts := [][]api.Sort{nil, {{FieldId: &score, SortOrder: ptr(api.OrderDesc)}},
		{{FieldId: &score, SortOrder: ptr(api.OrderAsc)}, {FieldId: ptr("title"), SortOrder: ptr(api.OrderDesc)}}}
	search := func(s *Service, i int) *api.SearchCasesResponse {
		out, err := s.SearchCases(e.ctx, &api.SearchCasesRequest{DomainId: &e.domain, Filter: filters[i%len(filters)],
			Sorts: sorts[i%len(sorts)], MaxResults: api.Int32(10)})
		if err != nil {
			t.Error(err)
		}
		return out
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 40 {
				search(e.s, g+i)
			}
		})
	}
	wg.Go(func() {
		for i := range 40 {
			if err := e.update(ids[i%len(ids)], nv(score, float64(i%5)), sv(grp, []string{"a", "b"}[i%2])); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	scan := &Service{store: e.s.store, noIndex: true, cfg: e.s.cfg, quotas: e.s.quotas, clock: e.s.clock, log: e.s.log,
		tokenKey: e.s.tokenKey, searchSlots: make(chan struct{}, 1)}
	for i := range len(filters) * len(sorts) {
		got, want := search(e.s, i), search(scan, i)
		if csJSON(got.Cases) != csJSON(want.Cases) || got.TotalCount != want.TotalCount {
			t.Errorf("search %d: index %s %d, scan %s %d", i, csJSON(got.Cases), got.TotalCount, csJSON(want.Cases), want.TotalCount)
		}
	}
}
