package service

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/store/memory"
	"github.com/localcases/localcases/store/postgres"
	"github.com/localcases/localcases/store/sqlite"
	"github.com/localcases/localcases/store/storetest"
)

// indexEngines are the engines the index-versus-scan comparison runs on:
// memory, SQLite in a temporary directory, and PostgreSQL in a throwaway
// schema (skipped when no server answers, see storetest.PostgresURL).
var indexEngines = []struct {
	name string
	open func(t *testing.T) localcases.Store
}{
	{"memory", func(*testing.T) localcases.Store { return memory.New() }},
	{"sqlite", func(t *testing.T) localcases.Store {
		s, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t *testing.T) localcases.Store {
		db := storetest.PostgresURL(t)
		s, err := postgres.Open(context.Background(), storetest.WithSchema(db, storetest.PostgresSchema(t, db)), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

// TestIndexedSearchEqualsScan walks every page of random searches through the
// case index and through the scan (the reference), over random cases with
// missing values, ties, mixed kinds, timestamps in several offsets and tags,
// on every engine, and requires the same cases in the same order with the
// same totals. The filters are random trees of every shape: each
// comparison on every kind of operand (emptyValue included), not, andAll,
// orAll (empty ones too) and tag.equalTo; the sorts none, one or two keys
// in either direction. Between searches, cases are updated, created and
// deleted, so the index answers after changes too.
func TestIndexedSearchEqualsScan(t *testing.T) {
	for _, engine := range indexEngines {
		t.Run(engine.name, func(t *testing.T) {
			queries, odd := 300, "x\x00y" // a NUL, which the key encoding escapes
			if engine.name != "memory" {
				queries = 150
			}
			if engine.name == "postgres" {
				odd = "x\x01y" // PostgreSQL's text and jsonb refuse NUL
			}
			testIndexedSearchEqualsScan(t, engine.open(t), queries, odd, nil)
			// The same cases loaded by an import into a fresh store, whose
			// indexes the import writes in bulk.
			testIndexedSearchEqualsScan(t, engine.open(t), queries/2, odd, func() localcases.Store { return engine.open(t) })
		})
	}
}

// testIndexedSearchEqualsScan makes random cases on store and compares
// random searches through the index with the scan. With reimport, the
// searches run on a store that reimport opens, after an export of the
// cases and an import of it there.
func testIndexedSearchEqualsScan(t *testing.T, store localcases.Store, queries int, odd string, reimport func() localcases.Store) {
	e := csNewEnvOn(t, store, Quotas{})
	scan := e.s.twin(e.s.store, true)
	rng := rand.New(rand.NewPCG(7, 7))
	text := e.field("Text", api.FieldTypeText)
	num := e.field("Number", api.FieldTypeNumber)
	flag := e.field("Flag", api.FieldTypeBoolean)
	when := e.field("When", api.FieldTypeDateTime)
	prio := e.field("Priority", api.FieldTypeSingleSelect)
	user := e.field("Owner", api.FieldTypeUser)
	e.options(prio, true, "low", "high", odd)
	words := []string{"alpha", "beta", "", "Beta", "alpha beta", odd, "zeta", "2025-01-01T00:00:00Z", "2025-01-01T02:00:00+02:00"}
	times := []string{"2025-01-01T00:00:00Z", "2024-12-31T23:00:00-02:00", "2026-06-01T10:00:00.123Z", "2025-01-01T01:00:00+01:00"}
	users := []string{"arn:aws:connect:us-east-1:123456789012:instance/i/agent/a1", "arn:aws:connect:us-east-1:123456789012:instance/i/agent/a2"}
	randomFields := func(i int) []api.FieldValue {
		fields := []api.FieldValue{{Id: api.String("title"), Value: &api.FieldValueUnion{StringValue: api.String(fmt.Sprintf("case %d", i%17))}}}
		add := func(id string, v api.FieldValueUnion) {
			if rng.IntN(4) > 0 {
				fields = append(fields, api.FieldValue{Id: api.String(id), Value: &v})
			}
		}
		if w := words[rng.IntN(len(words))]; w != "" {
			add(text, api.FieldValueUnion{StringValue: api.String(w)})
		}
		add(num, api.FieldValueUnion{DoubleValue: api.Float64(float64(rng.IntN(7)) - 3)})
		add(flag, api.FieldValueUnion{BooleanValue: api.Bool(rng.IntN(2) == 0)})
		add(when, api.FieldValueUnion{StringValue: api.String(times[rng.IntN(len(times))])})
		add(prio, api.FieldValueUnion{StringValue: api.String([]string{"low", "high", odd}[rng.IntN(3)])})
		add(user, api.FieldValueUnion{UserArnValue: api.String(users[rng.IntN(len(users))])})
		return fields
	}
	var caseIDs []string
	create := func(i int) {
		var tags map[string]string
		if rng.IntN(3) == 0 {
			tags = map[string]string{"team": []string{"red", "blue"}[rng.IntN(2)]}
		}
		out, err := e.s.CreateCase(e.ctx, &api.CreateCaseRequest{DomainId: &e.domain, TemplateId: &e.tpl, Fields: randomFields(i), Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		caseIDs = append(caseIDs, *out.CaseId)
	}
	for i := 0; i < 120; i++ {
		create(i)
	}
	// write changes the cases between searches: an update (which may empty
	// a value), a new case, or a deletion, so that searches meet an index
	// that moved since the last one.
	write := func(i int) {
		switch k := rng.IntN(10); {
		case k < 6:
			fields := randomFields(i)
			if rng.IntN(3) == 0 {
				fields = slices.DeleteFunc(fields, func(f api.FieldValue) bool { return *f.Id == num })
				fields = append(fields, api.FieldValue{Id: api.String(num), Value: &api.FieldValueUnion{EmptyValue: &api.EmptyFieldValue{}}})
			}
			id := caseIDs[rng.IntN(len(caseIDs))]
			if _, err := e.s.UpdateCase(e.ctx, &api.UpdateCaseRequest{DomainId: &e.domain, CaseId: &id, Fields: fields}); err != nil {
				t.Fatal(err)
			}
		case k < 8:
			create(i)
		default:
			j := rng.IntN(len(caseIDs))
			if _, err := e.s.DeleteCase(e.ctx, &api.DeleteCaseRequest{DomainId: &e.domain, CaseId: &caseIDs[j]}); err != nil {
				t.Fatal(err)
			}
			caseIDs = slices.Delete(caseIDs, j, j+1)
		}
	}
	if reimport != nil {
		e.s = importInto(t, e.s, reimport())
		scan = e.s.twin(e.s.store, true)
	}
	filterFields := []string{text, num, flag, when, prio, user, "title"}
	sortFields := append(filterFields, "last_updated_datetime", "created_datetime", "summary")
	operands := []api.FieldValueUnion{
		{StringValue: api.String("alpha")}, {StringValue: api.String("beta")}, {StringValue: api.String("high")}, {StringValue: api.String(odd)},
		{StringValue: api.String("")}, {StringValue: api.String("case 3")}, {StringValue: api.String("no such value")},
		{StringValue: api.String("2025-01-01T00:00:00Z")}, {StringValue: api.String("2025-01-01T03:00:00+03:00")},
		{StringValue: api.String("2026-06-01T10:00:00.123000Z")}, {StringValue: api.String("2025-06-01T00:00:00Z")},
		{UserArnValue: api.String(users[0])}, {StringValue: api.String(users[1])},
		{DoubleValue: api.Float64(0)}, {DoubleValue: api.Float64(-3)}, {DoubleValue: api.Float64(1.5)},
		{BooleanValue: api.Bool(true)}, {BooleanValue: api.Bool(false)},
		{EmptyValue: &api.EmptyFieldValue{}},
	}
	var filter func(depth int) api.CaseFilter
	filter = func(depth int) api.CaseFilter {
		k := rng.IntN(10)
		if depth >= 3 {
			k = rng.IntN(5)
		}
		switch k {
		case 0, 1, 2, 3:
			op := []string{"eq", "eq", "contains", "gt", "ge", "lt", "le"}[rng.IntN(7)]
			return *fieldF(op, api.FieldValue{Id: api.String(filterFields[rng.IntN(len(filterFields))]), Value: &operands[rng.IntN(len(operands))]})
		case 4:
			return api.CaseFilter{Tag: &api.TagFilter{EqualTo: &api.TagValue{Key: api.String("team"), Value: api.String([]string{"red", "blue"}[rng.IntN(2)])}}}
		case 5, 6:
			f := filter(depth + 1)
			return api.CaseFilter{Not: &f}
		}
		list := make([]api.CaseFilter, rng.IntN(4))
		for i := range list {
			list[i] = filter(depth + 1)
		}
		if k < 9 {
			return api.CaseFilter{AndAll: list}
		}
		return api.CaseFilter{OrAll: list}
	}
	walk := func(s *Service, in api.SearchCasesRequest) ([]string, []int64) {
		var ids []string
		var totals []int64
		for {
			out, err := s.SearchCases(e.ctx, &in)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range out.Cases {
				ids = append(ids, *c.CaseId)
			}
			totals = append(totals, out.TotalCount)
			if out.NextToken == nil {
				return ids, totals
			}
			in.NextToken = out.NextToken
		}
	}
	for q := 0; q < queries; q++ {
		if q%3 == 2 {
			for range 1 + rng.IntN(3) {
				write(q)
			}
		}
		in := api.SearchCasesRequest{DomainId: &e.domain, MaxResults: api.Int32(int32(1 + rng.IntN(12)))}
		for range rng.IntN(3) {
			order := api.OrderAsc
			if rng.IntN(2) == 0 {
				order = api.OrderDesc
			}
			in.Sorts = append(in.Sorts, api.Sort{FieldId: api.String(sortFields[rng.IntN(len(sortFields))]), SortOrder: &order})
		}
		if rng.IntN(6) > 0 {
			f := filter(0)
			in.Filter = &f
		}
		gotIDs, gotTotals := walk(e.s, in)
		wantIDs, wantTotals := walk(scan, in)
		if !slices.Equal(gotIDs, wantIDs) || !slices.Equal(gotTotals, wantTotals) {
			t.Fatalf("query %d %s:\nindexed %v %v\nscan    %v %v", q, csJSON(in), gotIDs, gotTotals, wantIDs, wantTotals)
		}
	}
}

// TestSortKeyEncodingOrder: the index's byte encoding orders entries
// exactly as a search does, read forwards for an ascending sort and
// backwards for a descending one, ties included. (A case with no value has
// no entry; the key of a missing value, a bound, sorts after every present
// one, which is their place in an ascending sort.)
func TestSortKeyEncodingOrder(t *testing.T) {
	keys := []sortKey{
		{R: rankMissing},
		{R: rankBool}, {R: rankBool, N: 1},
		{R: rankNumber, N: -1e300}, {R: rankNumber, N: -1}, {R: rankNumber, N: 0}, {R: rankNumber, N: 0.5}, {R: rankNumber, N: 1e300},
		{R: rankTime, T: -5, S: "a"}, {R: rankTime, T: 0, N: 1, S: "b"}, {R: rankTime, T: 0, N: 2, S: "a"}, {R: rankTime, T: 7, S: ""},
		{R: rankString, S: ""}, {R: rankString, S: "\x00"}, {R: rankString, S: "\x00\x00"}, {R: rankString, S: "\x00\x01"},
		{R: rankString, S: "a"}, {R: rankString, S: "a\x00"}, {R: rankString, S: "ab"}, {R: rankString, S: "b"}, {R: rankString, S: "\xff"},
	}
	for _, desc := range []bool{false, true} {
		for _, a := range keys {
			for _, b := range keys {
				for _, ids := range [][2]string{{"c1", "c1"}, {"c1", "c2"}, {"c2", "c1"}} {
					if desc && (a.R == rankMissing) != (b.R == rankMissing) {
						continue // walked apart, after the values
					}
					want := cmpKeyed([]bool{desc}, keyed{keys: []sortKey{a}, id: ids[0]}, keyed{keys: []sortKey{b}, id: ids[1]})
					got := bytes.Compare(indexKey("d", "f", a, ids[0]), indexKey("d", "f", b, ids[1]))
					if desc {
						got = -got
					}
					if got != want {
						t.Fatalf("desc=%v %+v/%s vs %+v/%s: bytes %d, cmpKeyed %d", desc, a, ids[0], b, ids[1], got, want)
					}
				}
			}
		}
	}
}

func TestDecodeSortKeyRoundTrip(t *testing.T) {
	for _, k := range []sortKey{
		{R: rankBool}, {R: rankBool, N: 1},
		{R: rankNumber, N: 0}, {R: rankNumber, N: -1.5}, {R: rankNumber, N: 3e300}, {R: rankNumber, N: -math.MaxFloat64},
		{R: rankTime, T: 1732500000123, N: 456789, S: "2024-11-25T01:20:00.123456789Z"}, {R: rankTime, T: -5, S: "x"},
		{R: rankString, S: ""}, {R: rankString, S: "open"}, {R: rankString, S: "a\x00b\x00"}, {R: rankString, S: "\xff\x00\x01"},
	} {
		got, rest, ok := decodeSortKey(append(encSortKey(k), "case-id"...))
		if !ok || cmpKey(got, k) != 0 || got.S != k.S || string(rest) != "case-id" {
			t.Errorf("decode(enc(%+v)) = %+v, %q, %v", k, got, rest, ok)
		}
	}
}

func FuzzDecodeSortKey(f *testing.F) {
	f.Add([]byte{4, 'a', 0, 1, 'x'})
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, _, ok := decodeSortKey(b)
		if !ok || math.IsNaN(k.N) {
			return
		}
		// Whatever decodes must encode to a key that decodes the same (the
		// bytes may differ only where encSortKey normalises, as -0 to 0).
		enc := encSortKey(k)
		k2, rest, ok := decodeSortKey(enc)
		if !ok || len(rest) != 0 || cmpKey(k, k2) != 0 || k.S != k2.S {
			t.Fatalf("decode(%x) = %+v, which encodes as %x and decodes as %+v", b, k, enc, k2)
		}
	})
}

// A store whose case index has an older layout gets it rebuilt at start:
// old entries go, and searches answer from the new ones.
func TestCaseIndexRebuiltAfterLayoutChange(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	var ids []string
	for i := range 30 {
		out, err := e.s.CreateCase(e.ctx, &api.CreateCaseRequest{DomainId: &e.domain, TemplateId: &e.tpl,
			Fields: []api.FieldValue{{Id: api.String("title"), Value: &api.FieldValueUnion{StringValue: api.String(fmt.Sprintf("t%02d", i%7))}}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *out.CaseId)
	}
	// What version 1 left: entries under the old prefix, and its version.
	stale := []byte(e.domain + "\x00title\x00stale")
	err := e.s.store.Update(e.ctx, func(tx localcases.Tx) error {
		for _, id := range ids {
			for _, ix := range []string{indexAsc, indexDescV2} {
				if err := tx.(localcases.IndexTx).SetIndex(ix, id, [][]byte{append(bytes.Clone(stale), id...)}); err != nil {
					return err
				}
			}
		}
		return tx.Put(localcases.Meta, "", "caseindex", indexMeta{Version: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(e.ctx, e.s.store, e.s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = s2.store.View(e.ctx, func(tx localcases.Tx) error {
		for _, ix := range []string{indexAsc, indexDescV2} {
			n, err := tx.(localcases.IndexTx).CountIndex(ix, nil)
			if err != nil || (ix == indexDescV2) != (n == 0) {
				t.Errorf("%s: %d entries after the rebuild (%v)", ix, n, err)
			}
			if n, err := tx.(localcases.IndexTx).CountIndex(ix, stale); err != nil || n != 0 {
				t.Errorf("%s: %d old-layout entries left (%v)", ix, n, err)
			}
		}
		var m indexMeta
		if err := tx.Get(localcases.Meta, "", "caseindex", &m); err != nil || m.Version != caseIndexVersion {
			t.Errorf("index version %d (%v), want %d", m.Version, err, caseIndexVersion)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	asc := api.OrderAsc
	out, err := s2.SearchCases(e.ctx, &api.SearchCasesRequest{DomainId: &e.domain, MaxResults: api.Int32(100),
		Filter: &api.CaseFilter{Field: &api.FieldFilter{EqualTo: &api.FieldValue{Id: api.String("title"), Value: &api.FieldValueUnion{StringValue: api.String("t03")}}}},
		Sorts:  []api.Sort{{FieldId: api.String("title"), SortOrder: &asc}}})
	if err != nil {
		t.Fatal(err)
	}
	if out.TotalCount != 4 || len(out.Cases) != 4 {
		t.Errorf("after the rebuild: %d of %d cases, want 4 of 4", len(out.Cases), out.TotalCount)
	}
}
