package service

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/store/memory"
)

func (e *csEnv) search(in api.SearchCasesRequest) (*api.SearchCasesResponse, error) {
	in.DomainId = &e.domain
	return e.s.SearchCases(e.ctx, &in)
}

// walk pages through a search and returns the case IDs in order.
func (e *csEnv) walk(in api.SearchCasesRequest, between func()) []string {
	e.t.Helper()
	var ids []string
	for {
		out, err := e.search(in)
		if err != nil {
			e.t.Fatalf("SearchCases: %v", err)
		}
		for _, c := range out.Cases {
			ids = append(ids, *c.CaseId)
		}
		if out.NextToken == nil {
			return ids
		}
		in.NextToken = out.NextToken
		if between != nil {
			between()
		}
	}
}

func fieldF(op string, fv api.FieldValue) *api.CaseFilter {
	ff := &api.FieldFilter{}
	switch op {
	case "eq":
		ff.EqualTo = &fv
	case "contains":
		ff.Contains = &fv
	case "gt":
		ff.GreaterThan = &fv
	case "ge":
		ff.GreaterThanOrEqualTo = &fv
	case "lt":
		ff.LessThan = &fv
	case "le":
		ff.LessThanOrEqualTo = &fv
	}
	return &api.CaseFilter{Field: ff}
}

func TestSearchCasesFilters(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	num := e.field("num", api.FieldTypeNumber)
	when := e.field("when", api.FieldTypeDateTime)
	flag := e.field("flag", api.FieldTypeBoolean)
	old := e.field("old", api.FieldTypeText)
	tagged := e.template(localcases.Template{TagPropagation: map[string]string{"team": "blue"}})
	a := e.mustCase(sv("title", "Printer on fire"), nv(num, 1), sv(when, "2024-01-01T00:00:00Z"), bv(flag, true), sv(old, "legacy-KEYWORD"))
	b := e.mustCase(sv("title", "Network down"), nv(num, 5), sv(when, "2024-01-01T02:00:00+01:00"))
	c, err := e.createCase(tagged, sv("title", "printer jam"), nv(num, 10))
	if err != nil {
		t.Fatal(err)
	}
	e.deleteField(old)
	ids := func(in api.SearchCasesRequest) string {
		got := e.walk(in, nil)
		slices.Sort(got)
		return strings.Join(got, ",")
	}
	set := func(ids ...string) string { slices.Sort(ids); return strings.Join(ids, ",") }
	tests := []struct {
		name string
		in   api.SearchCasesRequest
		want string
	}{
		{"all", api.SearchCasesRequest{}, set(a, b, c)},
		{"equal number", api.SearchCasesRequest{Filter: fieldF("eq", nv(num, 5))}, set(b)},
		{"greater", api.SearchCasesRequest{Filter: fieldF("gt", nv(num, 1))}, set(b, c)},
		{"less or equal", api.SearchCasesRequest{Filter: fieldF("le", nv(num, 5))}, set(a, b)},
		{"datetime chronological", api.SearchCasesRequest{Filter: fieldF("lt", sv(when, "2024-01-01T00:30:00.000Z"))}, set(a)},
		{"datetime equal across offsets", api.SearchCasesRequest{Filter: fieldF("eq", sv(when, "2024-01-01T01:00:00Z"))}, set(b)},
		{"boolean", api.SearchCasesRequest{Filter: fieldF("eq", bv(flag, true))}, set(a)},
		{"empty value", api.SearchCasesRequest{Filter: fieldF("eq", ev(flag))}, set(b, c)},
		{"contains is case-insensitive", api.SearchCasesRequest{Filter: fieldF("contains", sv("title", "PRINTER"))}, set(a, c)},
		{"not", api.SearchCasesRequest{Filter: &api.CaseFilter{Not: fieldF("contains", sv("title", "printer"))}}, set(b)},
		{"andAll", api.SearchCasesRequest{Filter: &api.CaseFilter{AndAll: []api.CaseFilter{*fieldF("contains", sv("title", "printer")), *fieldF("gt", nv(num, 2))}}}, set(c)},
		{"empty andAll", api.SearchCasesRequest{Filter: &api.CaseFilter{AndAll: []api.CaseFilter{}}}, set(a, b, c)},
		{"empty orAll", api.SearchCasesRequest{Filter: &api.CaseFilter{OrAll: []api.CaseFilter{}}}, ""},
		{"tag", api.SearchCasesRequest{Filter: &api.CaseFilter{Tag: &api.TagFilter{EqualTo: &api.TagValue{Key: api.String("team"), Value: api.String("blue")}}}}, set(c)},
		{"deleted field still filters", api.SearchCasesRequest{Filter: fieldF("eq", sv(old, "legacy-KEYWORD"))}, set(a)},
		{"search term", api.SearchCasesRequest{SearchTerm: api.String("keyword")}, set(a)},
		{"search term and filter", api.SearchCasesRequest{SearchTerm: api.String("printer"), Filter: fieldF("lt", nv(num, 5))}, set(a)},
		{"search term on system values", api.SearchCasesRequest{SearchTerm: api.String(c[:8])}, set(c)},
	}
	for _, tc := range tests {
		if got := ids(tc.in); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}

	out, err := e.search(api.SearchCasesRequest{Fields: []api.FieldIdentifier{{Id: api.String(num)}, {Id: api.String("title")}, {Id: api.String(flag)}},
		Sorts: []api.Sort{{FieldId: &num, SortOrder: ptr(api.OrderDesc)}}, MaxResults: api.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if out.TotalCount != 3 || len(out.Cases) != 2 || out.NextToken == nil || *out.Cases[0].CaseId != c {
		t.Fatalf("page = %s", csJSON(out))
	}
	if f := out.Cases[0].Fields; len(f) != 2 || *f[0].Id != num || *f[1].Id != "title" || *out.Cases[0].TemplateId != tagged || *out.Cases[0].Tags["team"] != "blue" {
		t.Errorf("projection = %s", csJSON(out.Cases[0]))
	}
	if out, _ := e.search(api.SearchCasesRequest{}); len(out.Cases[0].Fields) != 0 || out.Cases[0].Fields == nil {
		t.Errorf("no fields requested should give an empty list")
	}

	deep := fieldF("eq", nv(num, 1))
	for range maxFilterDepth {
		deep = &api.CaseFilter{Not: deep}
	}
	errCases := []struct {
		name string
		in   api.SearchCasesRequest
		want api.ErrorCode
	}{
		{"unknown filter field", api.SearchCasesRequest{Filter: fieldF("eq", sv("nope", "x"))}, api.CodeValidationException},
		{"unknown sort field", api.SearchCasesRequest{Sorts: []api.Sort{{FieldId: api.String("nope"), SortOrder: ptr(api.OrderAsc)}}}, api.CodeValidationException},
		{"too deep", api.SearchCasesRequest{Filter: deep}, api.CodeValidationException},
		{"token of another query", api.SearchCasesRequest{NextToken: out.NextToken}, api.CodeValidationException},
		{"garbage token", api.SearchCasesRequest{NextToken: api.String("abc.def")}, api.CodeValidationException},
	}
	for _, tc := range errCases {
		_, err := e.search(tc.in)
		if csCode(err) != tc.want {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	_, err = e.s.SearchCases(e.ctx, &api.SearchCasesRequest{DomainId: api.String("nope")})
	csWant(t, err, api.CodeResourceNotFoundException)
}

func TestSearchCasesSorting(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	num := e.field("num", api.FieldTypeNumber)
	grp := e.field("grp", api.FieldTypeText)
	var made []string
	for i, v := range []float64{3, -1, 3, 0, 10} {
		made = append(made, e.mustCase(sv("title", fmt.Sprint(i)), nv(num, v), sv(grp, []string{"b", "a"}[i%2])))
	}
	none1, none2 := e.mustCase(), e.mustCase()
	numOf := map[string]float64{made[0]: 3, made[1]: -1, made[2]: 3, made[3]: 0, made[4]: 10}
	walkSorted := func(sorts ...api.Sort) []string {
		return e.walk(api.SearchCasesRequest{Sorts: sorts, MaxResults: api.Int32(2)}, nil)
	}
	for _, order := range []api.Order{api.OrderAsc, api.OrderDesc} {
		got := walkSorted(api.Sort{FieldId: &num, SortOrder: ptr(order)})
		if len(got) != 7 {
			t.Fatalf("%s: %d cases", order, len(got))
		}
		tail := got[5:]
		slices.Sort(tail)
		wantTail := []string{none1, none2}
		slices.Sort(wantTail)
		if !slices.Equal(tail, wantTail) {
			t.Errorf("%s: cases without a value are not last: %v", order, got)
		}
		for i := 1; i < 5; i++ {
			a, b := numOf[got[i-1]], numOf[got[i]]
			// Ties by case ID in the direction of the sort.
			if (order == api.OrderAsc && (a > b || a == b && got[i-1] > got[i])) ||
				(order == api.OrderDesc && (a < b || a == b && got[i-1] < got[i])) {
				t.Errorf("%s: %v before %v", order, a, b)
			}
		}
	}
	got := walkSorted(api.Sort{FieldId: &grp, SortOrder: ptr(api.OrderAsc)}, api.Sort{FieldId: &num, SortOrder: ptr(api.OrderDesc)})
	// made[0] and made[2] tie on both keys: by case ID, descending as the
	// last sort is.
	want := []string{made[3], made[1], made[4], made[0], made[2]}
	if made[0] < made[2] {
		want[3], want[4] = made[2], made[0]
	}
	if !slices.Equal(got[:5], want) {
		t.Errorf("two sorts: got %v, want %v", got[:5], want)
	}
	// Default: most recently updated first.
	e.mustUpdate(made[1], sv("summary", "touched"))
	if got := e.walk(api.SearchCasesRequest{}, nil); got[0] != made[1] || got[1] != none2 {
		t.Errorf("default order starts %v", got[:2])
	}
}

// TestSearchCasesPaginationStability walks every page while cases are
// created, updated (including the sort field and the filter field) and
// deleted between and during pages. Every case that existed and matched
// for the whole walk must appear exactly once, and no case twice. The
// shapes cover each way the index answers: one equalTo (its entries), a
// conjunction with a range (a set from the filter planner), with no, one
// and two sort keys.
func TestSearchCasesPaginationStability(t *testing.T) {
	for _, tc := range []struct {
		sorts  int
		ranged bool
	}{{0, false}, {1, false}, {0, true}, {1, true}, {2, true}} {
		t.Run(fmt.Sprintf("sorts=%d/ranged=%v", tc.sorts, tc.ranged), func(t *testing.T) {
			e := csNewEnv(t, Quotas{})
			score := e.field("score", api.FieldTypeNumber)
			grp := e.field("grp", api.FieldTypeText)
			rng := rand.New(rand.NewSource(42))
			var mu sync.Mutex
			stable := map[string]bool{} // existed and matched throughout, so far
			var all []string
			for i := range 80 {
				g := "in"
				if i%5 == 0 {
					g = "out"
				}
				id := e.mustCase(sv("title", fmt.Sprint(i)), nv(score, float64(rng.Intn(20))), sv(grp, g))
				all = append(all, id)
				if g == "in" {
					stable[id] = true
				}
			}
			// churn touches random cases: score and summary changes keep a
			// case matching; grp flips and deletes disqualify it.
			churn := func(rng *rand.Rand, n int) {
				for range n {
					mu.Lock()
					id := all[rng.Intn(len(all))]
					mu.Unlock()
					var err error
					switch r := rng.Intn(10); {
					case r < 5:
						err = e.update(id, nv(score, float64(rng.Intn(20))), sv("summary", fmt.Sprint(rng.Int())))
					case r < 7:
						_, err = e.createCase(e.tpl, sv("title", "new"), nv(score, float64(rng.Intn(20))), sv(grp, "in"))
					case r < 9:
						mu.Lock()
						delete(stable, id)
						mu.Unlock()
						err = e.update(id, sv(grp, []string{"in", "out"}[rng.Intn(2)]))
					default:
						mu.Lock()
						delete(stable, id)
						mu.Unlock()
						_, err = e.s.DeleteCase(e.ctx, &api.DeleteCaseRequest{DomainId: &e.domain, CaseId: &id})
					}
					if err != nil && csCode(err) != api.CodeResourceNotFoundException {
						t.Error(err)
						return
					}
				}
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // real concurrency, for the race detector and for interleavings
				defer wg.Done()
				r := rand.New(rand.NewSource(7))
				for {
					select {
					case <-stop:
						return
					default:
						churn(r, 1)
					}
				}
			}()
			in := api.SearchCasesRequest{Filter: fieldF("eq", sv(grp, "in")), MaxResults: api.Int32(7)}
			if tc.ranged {
				// Every score is at least 0: the same matches.
				in.Filter = &api.CaseFilter{AndAll: []api.CaseFilter{*fieldF("ge", nv(score, 0)), *in.Filter}}
			}
			in.Sorts = []api.Sort{{FieldId: &score, SortOrder: ptr(api.OrderAsc)}, {FieldId: ptr("title"), SortOrder: ptr(api.OrderDesc)}}[:tc.sorts]
			got := e.walk(in, func() { churn(rng, 5) })
			close(stop)
			wg.Wait()
			count := map[string]int{}
			for _, id := range got {
				count[id]++
				if count[id] > 1 {
					t.Errorf("case %s returned twice", id)
				}
			}
			for id := range stable {
				if count[id] != 1 {
					t.Errorf("stable case %s returned %d times", id, count[id])
				}
			}
			if len(stable) < 20 {
				t.Fatalf("only %d stable cases: the test lost its teeth", len(stable))
			}
		})
	}
}

// --- property test of the filter evaluator ---------------------------------

// refVal is the reference model's value: exactly one of the pointers set,
// or none for "no value".
type refVal struct {
	str  *string
	user *string
	num  *float64
	bol  *bool
}

func refFromUnion(u *api.FieldValueUnion) refVal {
	return refVal{str: u.StringValue, user: u.UserArnValue, num: u.DoubleValue, bol: u.BooleanValue}
}

func (v refVal) text() (string, bool) {
	if v.str != nil {
		return *v.str, true
	}
	if v.user != nil {
		return *v.user, true
	}
	return "", false
}

func (v refVal) none() bool { return v.str == nil && v.user == nil && v.num == nil && v.bol == nil }

// refCmp is the reference ordering, written from the documented semantics
// rather than from compareValues: -2 means "not comparable".
func refCmp(have, want refVal) int {
	if have.num != nil && want.num != nil {
		d := *have.num - *want.num
		switch {
		case d < 0:
			return -1
		case d > 0:
			return 1
		}
		return 0
	}
	if have.bol != nil && want.bol != nil {
		if *have.bol == *want.bol {
			return 3 // equal, but booleans are not ordered
		}
		return 2
	}
	hs, ok1 := have.text()
	ws, ok2 := want.text()
	if !ok1 || !ok2 {
		return -2
	}
	ht, e1 := time.Parse(time.RFC3339, hs)
	wt, e2 := time.Parse(time.RFC3339, ws)
	if e1 == nil && e2 == nil {
		switch {
		case ht.Before(wt):
			return -1
		case ht.After(wt):
			return 1
		}
		return 0
	}
	switch {
	case hs < ws:
		return -1
	case hs > ws:
		return 1
	}
	return 0
}

type refCase struct {
	fields map[string]refVal
	tags   map[string]string
}

func refMatch(f *api.CaseFilter, c refCase) bool {
	if f.Not != nil {
		return !refMatch(f.Not, c)
	}
	if f.AndAll != nil {
		ok := true
		for i := range f.AndAll {
			ok = ok && refMatch(&f.AndAll[i], c)
		}
		return ok
	}
	if f.OrAll != nil {
		ok := false
		for i := range f.OrAll {
			ok = ok || refMatch(&f.OrAll[i], c)
		}
		return ok
	}
	if f.Tag != nil {
		v, ok := c.tags[*f.Tag.EqualTo.Key]
		return ok && v == *f.Tag.EqualTo.Value
	}
	ff := f.Field
	ops := map[string]*api.FieldValue{"eq": ff.EqualTo, "contains": ff.Contains, "gt": ff.GreaterThan,
		"ge": ff.GreaterThanOrEqualTo, "lt": ff.LessThan, "le": ff.LessThanOrEqualTo}
	for op, fv := range ops {
		if fv == nil {
			continue
		}
		want := refFromUnion(fv.Value)
		have := c.fields[*fv.Id]
		if want.none() {
			return op == "eq" && have.none()
		}
		if have.none() {
			return false
		}
		if op == "contains" {
			hs, ok1 := have.text()
			ws, ok2 := want.text()
			return ok1 && ok2 && strings.Contains(strings.ToLower(hs), strings.ToLower(ws))
		}
		r := refCmp(have, want)
		switch op {
		case "eq":
			return r == 0 || r == 3
		case "gt":
			return r == 1
		case "ge":
			return r == 1 || r == 0
		case "lt":
			return r == -1
		case "le":
			return r == -1 || r == 0
		}
	}
	panic("filter with no member")
}

var (
	propStrings = []string{"", "x", "X", "xy", "Yx", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00", "2023-12-31T23:00:00.000Z", "2024-06-01T00:00:00Z"}
	propUsers   = []string{"arn:u1", "arn:u2", "x"}
	propNums    = []float64{-1, 0, 1, 2.5}
	propFields  = []string{"a", "b", "c"}
)

func propUnion(rng *rand.Rand, allowEmpty bool) *api.FieldValueUnion {
	n := 4
	if allowEmpty {
		n = 5
	}
	switch rng.Intn(n) {
	case 0:
		return &api.FieldValueUnion{StringValue: ptr(propStrings[rng.Intn(len(propStrings))])}
	case 1:
		return &api.FieldValueUnion{UserArnValue: ptr(propUsers[rng.Intn(len(propUsers))])}
	case 2:
		return &api.FieldValueUnion{DoubleValue: ptr(propNums[rng.Intn(len(propNums))])}
	case 3:
		return &api.FieldValueUnion{BooleanValue: ptr(rng.Intn(2) == 0)}
	}
	return &api.FieldValueUnion{EmptyValue: &api.EmptyFieldValue{}}
}

func propFilter(rng *rand.Rand, depth int) *api.CaseFilter {
	k := rng.Intn(6)
	if depth >= 4 {
		k = rng.Intn(2)
	}
	switch k {
	case 0, 1:
		fv := api.FieldValue{Id: ptr(propFields[rng.Intn(len(propFields))]), Value: propUnion(rng, true)}
		return fieldF([]string{"eq", "contains", "gt", "ge", "lt", "le"}[rng.Intn(6)], fv)
	case 2:
		return &api.CaseFilter{Not: propFilter(rng, depth+1)}
	case 3, 4:
		list := make([]api.CaseFilter, rng.Intn(4))
		for i := range list {
			list[i] = *propFilter(rng, depth+1)
		}
		if k == 3 {
			return &api.CaseFilter{AndAll: list}
		}
		return &api.CaseFilter{OrAll: list}
	}
	return &api.CaseFilter{Tag: &api.TagFilter{EqualTo: &api.TagValue{
		Key: ptr([]string{"k1", "k2"}[rng.Intn(2)]), Value: ptr([]string{"v1", "v2", ""}[rng.Intn(3)])}}}
}

func TestMatchesAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewSource(20250601))
	hits := 0
	const rounds = 20000
	for i := range rounds {
		c := localcases.Case{Fields: map[string]localcases.Value{}, Tags: map[string]string{}}
		rc := refCase{fields: map[string]refVal{}, tags: map[string]string{}}
		for _, f := range propFields {
			if rng.Intn(4) == 0 {
				continue // no value
			}
			u := propUnion(rng, false)
			c.Fields[f] = valFromUnion(u)
			rc.fields[f] = refFromUnion(u)
		}
		for _, k := range []string{"k1", "k2"} {
			if rng.Intn(2) == 0 {
				v := []string{"v1", "v2", ""}[rng.Intn(3)]
				c.Tags[k], rc.tags[k] = v, v
			}
		}
		f := propFilter(rng, 0)
		// Round-trip the filter through JSON, as the wire delivers it.
		var wire api.CaseFilter
		if err := jsonRoundTrip(f, &wire); err != nil {
			t.Fatal(err)
		}
		got, want := matches(&wire, &c), refMatch(f, rc)
		if got != want {
			t.Fatalf("round %d: matches = %v, reference = %v\nfilter %s\ncase %s tags %s", i, got, want, csJSON(f), csJSON(c.Fields), csJSON(c.Tags))
		}
		if got {
			hits++
		}
	}
	// Both outcomes must be common, or the generator tests nothing.
	if hits < rounds/10 || hits > rounds*9/10 {
		t.Errorf("%d of %d filters matched", hits, rounds)
	}
}

func jsonRoundTrip(in, out any) error {
	return json.Unmarshal(mustJSON(in), out)
}

// --- page token fuzzing -----------------------------------------------------

func FuzzDecodeToken(f *testing.F) {
	s, err := New(context.Background(), memory.New(), Config{})
	if err != nil {
		f.Fatal(err)
	}
	const listing = "listing-1"
	valid := []string{
		*s.encodeToken(pageToken{Listing: listing, After: 42}),
		*s.encodeToken(pageToken{Listing: listing, Offset: 7}),
		*s.encodeCursor(cursorToken{Listing: listing, Keys: []sortKey{{R: rankNumber, N: 1.5}}, ID: "case-1", Cut: 1700000000000}),
		*s.encodeCursor(cursorToken{Listing: listing, Keys: []sortKey{{R: rankMissing}}, ID: "x"}),
	}
	for _, v := range valid {
		f.Add(v)
		f.Add(v[:len(v)/2])
		f.Add(strings.Replace(v, ".", "", 1))
	}
	f.Add("")
	f.Add(".")
	f.Add("e30.AAAAAAAAAAAAAAAAAAAAAA")
	other, _ := New(context.Background(), memory.New(), Config{})
	f.Add(*other.encodeToken(pageToken{Listing: listing, After: 1})) // another server's key
	f.Fuzz(func(t *testing.T, tok string) {
		pt, err := s.decodeToken(&tok, listing)
		if err == nil {
			if tok != "" && pt != (pageToken{Listing: listing, After: 42}) && pt != (pageToken{Listing: listing, Offset: 7}) {
				t.Fatalf("accepted a page token this server never issued: %q as %+v", tok, pt)
			}
		} else if csCode(err) != api.CodeValidationException {
			t.Fatalf("decodeToken error %v is not a ValidationException", err)
		}
		ct, err := s.decodeCursor(&tok, listing, 1)
		if err == nil {
			if tok != "" && (ct.Listing != listing || ct.ID == "" || len(ct.Keys) != 1 || ct.Cut < 0) {
				t.Fatalf("accepted cursor %q as %+v", tok, ct)
			}
		} else if csCode(err) != api.CodeValidationException {
			t.Fatalf("decodeCursor error %v is not a ValidationException", err)
		}
		// Only tokens this server signed get through: anything accepted
		// must carry a payload we issued (base64 may spell it differently).
		if tok != "" && (err == nil) {
			found := false
			for _, v := range valid[2:] {
				want, _ := s.decodeCursor(&v, listing, 1)
				if ct.ID == want.ID && ct.Cut == want.Cut && ct.Keys[0] == want.Keys[0] {
					found = true
				}
			}
			if !found {
				t.Fatalf("accepted a cursor this server never issued: %q", tok)
			}
		}
	})
}

func TestSortKeyOrder(t *testing.T) {
	dt := string(api.FieldTypeDateTime)
	s := func(v string) localcases.Value { return localcases.Value{Kind: localcases.ValueString, S: v} }
	// Ascending order across kinds: booleans, numbers, timestamps, text,
	// then no value.
	ordered := []sortKey{
		keyOf(dt, localcases.Value{Kind: localcases.ValueBool, B: false}, true),
		keyOf(dt, localcases.Value{Kind: localcases.ValueBool, B: true}, true),
		keyOf(dt, localcases.Value{Kind: localcases.ValueDouble, N: -5}, true),
		keyOf(dt, localcases.Value{Kind: localcases.ValueDouble, N: 2}, true),
		keyOf(dt, s("2024-01-01T01:00:00+02:00"), true), // 23:00Z the day before
		keyOf(dt, s("2024-01-01T00:00:00.000000001Z"), true),
		keyOf(dt, s("2024-01-01T00:00:00.000000002Z"), true),
		keyOf(dt, s("9999-12-31T23:59:59Z"), true),
		keyOf(dt, s("not a time"), true),
		keyOf(string(api.FieldTypeText), s("2000-01-01T00:00:00Z"), true).withS("zzz"),
		keyOf(dt, localcases.Value{}, false),
	}
	for i := range ordered {
		for j := range ordered {
			got := cmpKey(ordered[i], ordered[j])
			want := cmpInt(int64(i), int64(j))
			if got != want {
				t.Errorf("cmpKey(%d, %d) = %d, want %d (%+v vs %+v)", i, j, got, want, ordered[i], ordered[j])
			}
		}
	}
	// Missing values stay last when the order is reversed.
	a := keyed{keys: []sortKey{ordered[0]}, id: "a"}
	b := keyed{keys: []sortKey{ordered[len(ordered)-1]}, id: "b"}
	if cmpKeyed([]bool{true}, a, b) >= 0 || cmpKeyed([]bool{false}, a, b) >= 0 {
		t.Error("a missing value does not sort last")
	}
}

func (k sortKey) withS(s string) sortKey { k.S = s; return k }
