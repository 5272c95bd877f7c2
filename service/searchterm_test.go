package service

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/store/memory"
	"github.com/localcases/localcases/store/postgres"
	"github.com/localcases/localcases/store/sqlite"
	"github.com/localcases/localcases/store/storetest"
)

// termEngines opens each engine's store for the search-term tests;
// PostgreSQL skips where no database is set up (storetest.PostgresURL).
var termEngines = []struct {
	name string
	open func(t testing.TB) localcases.Store
}{
	{"memory", func(t testing.TB) localcases.Store { return memory.New() }},
	{"sqlite", func(t testing.TB) localcases.Store {
		st, err := sqlite.Open(context.Background(), t.TempDir(), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(t testing.TB) localcases.Store {
		u := storetest.PostgresURL(t)
		st, err := postgres.Open(context.Background(), u, postgres.Options{Schema: storetest.PostgresSchema(t, u)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

// termWords are the values the cases hold: case differences, punctuation
// that LIKE, FTS5 queries and JSON treat specially, multi-byte runes, runes
// whose lower case is shorter or longer in bytes (the Kelvin sign, İ),
// values with a line break or NUL inside, and words within words.
var termWords = []string{
	"Straße", "STRASSE", "café", "CAFÉ au lait", "日本語のテキスト", "refund: 100% (of $5_000)",
	`she said "it's broken"`, "a_b\\c", "emoji 🙂 ok", "Kelvin \u212a", "İstanbul", "ıi",
	"line\nbreak", "nul\x00byte", "power on", "the device does not power on after the update",
	"powerful", "OnOff", "x", "",
}

// termSearches are the search terms: whole values and words, pieces of
// words, other cases of the same letters, punctuation, one and two
// characters, terms across a line break (which the scan answers), and
// terms nothing holds.
var termSearches = []string{
	"power", "POWER ON", "power on after", "owe", "on", "o", "Strasse", "straße", "SS", "ß", "ca", "CAFÉ",
	"é au", "日本", "本", "テキスト", "100%", "%", "0% (", "_", "a_b", `\c`, `"it's`, `"`, "🙂", "k", "K",
	"kelvin k", "i̇", "istanbul", "ı", "line\nbreak", "e\nb", "nul", "\x00", "case number 1", "number 1",
	"CASE", "no such text", "*", "AND", "NEAR(", "-", "   ",
}

// TestSearchTermIndexEqualsScan compares SearchCases answered through the
// text index with the scan, on every engine: random cases, random search
// terms (termSearches, and random pieces of the values in random case),
// with filters and sorts, walking every page while cases change between
// pages, and after a field is deleted and cases are deleted.
func TestSearchTermIndexEqualsScan(t *testing.T) {
	for _, eng := range termEngines {
		t.Run(eng.name, func(t *testing.T) {
			testSearchTermIndexEqualsScan(t, eng.open(t), nil)
			// The same cases loaded by an import into a fresh store.
			testSearchTermIndexEqualsScan(t, eng.open(t), func() localcases.Store { return eng.open(t) })
		})
	}
}

// testSearchTermIndexEqualsScan makes random cases on store and compares
// searches with a term through the text index with the scan; with
// reimport, on a store that reimport opens, after an export of the cases
// and an import of it there.
func testSearchTermIndexEqualsScan(t *testing.T, store localcases.Store, reimport func() localcases.Store) {
	e := csNewEnvOn(t, store, Quotas{})
	scan := e.s.twin(e.s.store, true)
	rng := rand.New(rand.NewPCG(17, 17))
	text := e.field("Text", api.FieldTypeText)
	other := e.field("Other", api.FieldTypeText)
	old := e.field("Old", api.FieldTypeText)
	num := e.field("Number", api.FieldTypeNumber)
	oldDeleted := false
	word := func() string { return termWords[rng.IntN(len(termWords))] }
	values := func() []api.FieldValue {
		fields := []api.FieldValue{sv("title", fmt.Sprintf("Case number %d", rng.IntN(30)))}
		for _, id := range []string{text, other, old, "summary"} {
			if id == old && oldDeleted {
				continue
			}
			if w := word(); w != "" && rng.IntN(3) > 0 {
				fields = append(fields, sv(id, w))
			}
		}
		return append(fields, api.FieldValue{Id: api.String(num), Value: &api.FieldValueUnion{DoubleValue: api.Float64(float64(rng.IntN(5)))}})
	}
	var ids []string
	for range 60 {
		ids = append(ids, e.mustCase(values()...))
	}
	if reimport != nil {
		e.s = importInto(t, e.s, reimport())
		scan = e.s.twin(e.s.store, true)
	}
	// A random piece of a value, in random case, so most terms match a
	// few cases.
	piece := func() string {
		w := []rune(word())
		if len(w) == 0 {
			return "x"
		}
		from := rng.IntN(len(w))
		p := string(w[from:min(len(w), from+1+rng.IntN(6))])
		switch rng.IntN(3) {
		case 0:
			p = strings.ToUpper(p)
		case 1:
			p = strings.ToLower(p)
		}
		return p
	}
	walk := func(q int, in api.SearchCasesRequest) {
		t.Helper()
		a, b := in, in
		var gotIDs, wantIDs []string
		for page := 0; ; page++ {
			got, err := e.s.SearchCases(e.ctx, &a)
			if err != nil {
				t.Fatalf("query %d %s: index: %v", q, csJSON(in), err)
			}
			want, err := scan.SearchCases(e.ctx, &b)
			if err != nil {
				t.Fatalf("query %d %s: scan: %v", q, csJSON(in), err)
			}
			for _, c := range got.Cases {
				gotIDs = append(gotIDs, *c.CaseId)
			}
			for _, c := range want.Cases {
				wantIDs = append(wantIDs, *c.CaseId)
			}
			if got.TotalCount != want.TotalCount || !slices.Equal(gotIDs, wantIDs) || (got.NextToken == nil) != (want.NextToken == nil) {
				t.Fatalf("query %d page %d %s:\nindex %v total %d\nscan  %v total %d", q, page, csJSON(in), gotIDs, got.TotalCount, wantIDs, want.TotalCount)
			}
			if got.NextToken == nil {
				return
			}
			a.NextToken, b.NextToken = got.NextToken, want.NextToken
			// Cases change between pages: both walks must judge them as
			// they were when the walk began.
			if rng.IntN(2) == 0 {
				e.mustUpdate(ids[rng.IntN(len(ids))], values()[1:]...)
			}
		}
	}
	sortFields := []string{text, num, "title", "last_updated_datetime", "case_id"}
	query := func(q int) api.SearchCasesRequest {
		in := api.SearchCasesRequest{DomainId: &e.domain, MaxResults: api.Int32(int32(1 + rng.IntN(7)))}
		switch r := rng.IntN(10); {
		case r < 4:
			in.SearchTerm = api.String(termSearches[rng.IntN(len(termSearches))])
		case r < 9:
			in.SearchTerm = api.String(piece())
		default: // no term: the scan on both sides
		}
		for range rng.IntN(3) {
			order := []api.Order{api.OrderAsc, api.OrderDesc}[rng.IntN(2)]
			in.Sorts = append(in.Sorts, api.Sort{FieldId: api.String(sortFields[rng.IntN(len(sortFields))]), SortOrder: &order})
		}
		eq := api.CaseFilter{Field: &api.FieldFilter{EqualTo: &api.FieldValue{Id: api.String(num), Value: &api.FieldValueUnion{DoubleValue: api.Float64(float64(rng.IntN(5)))}}}}
		contains := api.CaseFilter{Field: &api.FieldFilter{Contains: &api.FieldValue{Id: api.String(text), Value: &api.FieldValueUnion{StringValue: api.String(piece())}}}}
		switch rng.IntN(5) {
		case 0:
			in.Filter = &eq
		case 1:
			in.Filter = &api.CaseFilter{Not: &eq}
		case 2:
			in.Filter = &api.CaseFilter{OrAll: []api.CaseFilter{eq, contains}}
		case 3:
			in.Filter = &api.CaseFilter{AndAll: []api.CaseFilter{contains, {Not: &eq}}}
		}
		return in
	}
	for q := range 100 {
		walk(q, query(q))
	}
	// Deleted fields' values still match (§9.3); deleted cases do not.
	e.deleteField(old)
	oldDeleted = true
	for _, id := range ids[:10] {
		if _, err := e.s.DeleteCase(e.ctx, &api.DeleteCaseRequest{DomainId: &e.domain, CaseId: &id}); err != nil {
			t.Fatal(err)
		}
	}
	ids = ids[10:]
	for q := 100; q < 160; q++ {
		walk(q, query(q))
	}
}

// twin is a service like s on store, which answers every search by
// scanning if noIndex.
func (s *Service) twin(store localcases.Store, noIndex bool) *Service {
	return &Service{store: store, noIndex: noIndex, cfg: s.cfg, quotas: s.quotas, clock: s.clock, log: s.log,
		tokenKey: s.tokenKey, searchSlots: make(chan struct{}, 1)}
}

// noCaseListStore fails any List of cases, to show which searches read
// from the text index alone.
type noCaseListStore struct{ localcases.Store }

type noCaseListTx struct{ localcases.Tx }

var errCaseList = errors.New("listed every case")

func (s noCaseListStore) View(ctx context.Context, fn func(localcases.Tx) error) error {
	return s.Store.View(ctx, func(tx localcases.Tx) error { return fn(noCaseListTx{tx}) })
}

func (t noCaseListTx) List(c localcases.Collection, scope string, after int64, fn func(localcases.Raw) (bool, error)) error {
	if c == localcases.Cases {
		return errCaseList
	}
	return t.Tx.List(c, scope, after, fn)
}

// TestSearchTermDoesNotScan: a search term is answered from the text
// index without reading every case, except a term with a line break,
// which the index cannot answer.
func TestSearchTermDoesNotScan(t *testing.T) {
	for _, eng := range termEngines {
		t.Run(eng.name, func(t *testing.T) {
			e := csNewEnvOn(t, eng.open(t), Quotas{})
			for i := range 20 {
				e.mustCase(sv("title", fmt.Sprintf("Case number %d", i)), sv("summary", "The device does not POWER on"))
			}
			s := e.s.twin(noCaseListStore{e.s.store}, false)
			for _, tc := range []struct {
				term string
				want int64
			}{{"power", 20}, {"number 1", 11}, {"R 1", 11}, {"er", 20}, {"ß", 0}} {
				out, err := s.SearchCases(e.ctx, &api.SearchCasesRequest{DomainId: &e.domain, SearchTerm: &tc.term})
				if err != nil || out.TotalCount != tc.want {
					t.Errorf("search %q: %v, total %v, want %d", tc.term, err, out, tc.want)
				}
			}
			_, err := s.SearchCases(e.ctx, &api.SearchCasesRequest{DomainId: &e.domain, SearchTerm: api.String("on\nx")})
			if !errors.Is(err, errCaseList) {
				t.Errorf("search with a line break: %v, want the scan", err)
			}
		})
	}
}

// The document of a case keeps values apart and folds them as matchesTerm
// does, and a term holding a line break is left to the scan.
func TestCaseText(t *testing.T) {
	c := &localcases.Case{Fields: map[string]localcases.Value{
		"b": {Kind: localcases.ValueString, S: "Second\x00Part"},
		"a": {Kind: localcases.ValueUser, S: "arn:aws:IAM::1:user/Ann"},
		"c": {Kind: localcases.ValueDouble, N: 5},
		"d": {Kind: localcases.ValueString, S: ""},
	}}
	if got, want := caseText(c), "arn:aws:iam::1:user/ann\nsecond\npart"; got != want {
		t.Errorf("caseText = %q, want %q", got, want)
	}
	for term, want := range map[string]bool{"": false, "a\nb": false, "a\x00b": false, "ÄB": true} {
		sub, ok := textSearchTerm(term)
		if ok != want || (ok && (sub != strings.ToLower(term) || !utf8.ValidString(sub))) {
			t.Errorf("textSearchTerm(%q) = %q, %v", term, sub, ok)
		}
	}
}

// A store from before the text index gets every case's document written
// at start.
func TestTextIndexBuiltAtStart(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	var ids []string
	for i := range 5 {
		ids = append(ids, e.mustCase(sv("title", fmt.Sprintf("Old case %d", i))))
	}
	err := e.s.store.Update(e.ctx, func(tx localcases.Tx) error {
		for _, id := range ids {
			if err := unindexCaseText(tx, e.domain, id); err != nil {
				return err
			}
		}
		return tx.Delete(localcases.Meta, "", "casetext")
	})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(e.ctx, e.s.store, e.s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s2.SearchCases(e.ctx, &api.SearchCasesRequest{DomainId: &e.domain, SearchTerm: api.String("OLD CASE")})
	if err != nil || out.TotalCount != 5 {
		t.Fatalf("after the rebuild: %v, %+v", err, out)
	}
}
