package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/service"
	"github.com/localcases/localcases/store/memory"
)

// Benchmarks of the cases plane on the memory store, called through the
// service methods, so they measure the business rules and the store
// without HTTP. Each runs at three domain sizes:
//
//	go test ./service -run '^$' -bench . -benchtime=2s
//
// A domain of each size is seeded once and shared by every benchmark of
// that size; BenchmarkCreateCase deletes each case it creates (off the
// clock) so the size stays what the name says.

var benchSizes = []int{1_000, 10_000, 100_000}

type benchEnv struct {
	s      *service.Service
	domain string
	tpl    string
	amount string // Number field
	prio   string // SingleSelect field: low, medium, high
	notes  string // Text field
	ids    []string
}

var (
	benchMu   sync.Mutex
	benchEnvs = map[int]*benchEnv{}
)

var benchPriorities = []string{"low", "medium", "high", "urgent"}

// benchFields is what a typical case holds: title, status, a summary,
// and three custom fields.
func (e *benchEnv) benchFields(i int) []api.FieldValue {
	str := func(id, v string) api.FieldValue {
		return api.FieldValue{Id: api.String(id), Value: &api.FieldValueUnion{StringValue: api.String(v)}}
	}
	return []api.FieldValue{
		str("title", fmt.Sprintf("Case number %d", i)),
		str("summary", "Customer reports the device does not power on after the update."),
		str(e.prio, benchPriorities[i%len(benchPriorities)]),
		str(e.notes, fmt.Sprintf("note %d", i)),
		{Id: api.String(e.amount), Value: &api.FieldValueUnion{DoubleValue: api.Float64(float64(i % 997))}},
	}
}

// benchDomain returns the shared domain of n cases, seeding it on first
// use (seeding is never timed: the caller resets the timer).
func benchDomain(b *testing.B, n int) *benchEnv {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if e := benchEnvs[n]; e != nil {
		return e
	}
	ctx := context.Background()
	s, err := service.New(ctx, memory.New(), service.Config{})
	if err != nil {
		b.Fatal(err)
	}
	e := &benchEnv{s: s}
	d, err := s.CreateDomain(ctx, &api.CreateDomainRequest{Name: api.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	e.domain = *d.DomainId
	field := func(name string, typ api.FieldType) string {
		out, err := s.CreateField(ctx, &api.CreateFieldRequest{DomainId: &e.domain, Name: api.String(name), Type: &typ})
		if err != nil {
			b.Fatal(err)
		}
		return *out.FieldId
	}
	e.amount = field("Amount", api.FieldTypeNumber)
	e.prio = field("Priority", api.FieldTypeSingleSelect)
	e.notes = field("Notes", api.FieldTypeText)
	var opts []api.FieldOption
	for _, p := range benchPriorities {
		opts = append(opts, api.FieldOption{Name: api.String(p), Value: api.String(p), Active: api.Bool(true)})
	}
	if _, err := s.BatchPutFieldOptions(ctx, &api.BatchPutFieldOptionsRequest{DomainId: &e.domain, FieldId: &e.prio, Options: opts}); err != nil {
		b.Fatal(err)
	}
	tpl, err := s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &e.domain, Name: api.String("bench"),
		RequiredFields: []api.RequiredField{{FieldId: &e.prio}}})
	if err != nil {
		b.Fatal(err)
	}
	e.tpl = *tpl.TemplateId
	e.ids = make([]string, n)
	for i := range n {
		out, err := s.CreateCase(ctx, &api.CreateCaseRequest{DomainId: &e.domain, TemplateId: &e.tpl, Fields: e.benchFields(i)})
		if err != nil {
			b.Fatal(err)
		}
		e.ids[i] = *out.CaseId
	}
	benchEnvs[n] = e
	return e
}

func forSizes(b *testing.B, fn func(b *testing.B, e *benchEnv)) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("cases=%d", n), func(b *testing.B) {
			e := benchDomain(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			fn(b, e)
		})
	}
}

func BenchmarkCreateCase(b *testing.B) {
	forSizes(b, func(b *testing.B, e *benchEnv) {
		ctx := context.Background()
		for i := 0; b.Loop(); i++ {
			// The SDK always sends a clientToken, so the benchmark does too.
			out, err := e.s.CreateCase(ctx, &api.CreateCaseRequest{
				DomainId: &e.domain, TemplateId: &e.tpl, Fields: e.benchFields(i),
				ClientToken: api.String(localcases.NewID()),
			})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if _, err := e.s.DeleteCase(ctx, &api.DeleteCaseRequest{DomainId: &e.domain, CaseId: out.CaseId}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	})
}

func BenchmarkGetCase(b *testing.B) {
	forSizes(b, func(b *testing.B, e *benchEnv) {
		ctx := context.Background()
		want := []api.FieldIdentifier{{Id: api.String("title")}, {Id: api.String("status")}, {Id: &e.prio},
			{Id: &e.amount}, {Id: api.String("last_updated_datetime")}, {Id: api.String("reference_number")}}
		rng := rand.New(rand.NewPCG(1, 2))
		for b.Loop() {
			id := e.ids[rng.IntN(len(e.ids))]
			out, err := e.s.GetCase(ctx, &api.GetCaseRequest{DomainId: &e.domain, CaseId: &id, Fields: want})
			if err != nil || len(out.Fields) != len(want) {
				b.Fatalf("GetCase: %v %+v", err, out)
			}
		}
	})
}

func BenchmarkUpdateCase(b *testing.B) {
	forSizes(b, func(b *testing.B, e *benchEnv) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(3, 4))
		for i := 0; b.Loop(); i++ {
			id := e.ids[rng.IntN(len(e.ids))]
			// A value no case holds yet, so every update changes the case
			// and writes an audit event.
			_, err := e.s.UpdateCase(ctx, &api.UpdateCaseRequest{DomainId: &e.domain, CaseId: &id, Fields: []api.FieldValue{
				{Id: &e.amount, Value: &api.FieldValueUnion{DoubleValue: api.Float64(float64(1000 + i))}},
			}})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSearchCases(b *testing.B) {
	forSizes(b, func(b *testing.B, e *benchEnv) {
		ctx := context.Background()
		desc := api.OrderDesc
		in := &api.SearchCasesRequest{
			DomainId: &e.domain, MaxResults: api.Int32(25),
			Filter: &api.CaseFilter{Field: &api.FieldFilter{EqualTo: &api.FieldValue{Id: &e.prio, Value: &api.FieldValueUnion{StringValue: api.String("high")}}}},
			Sorts:  []api.Sort{{FieldId: &e.amount, SortOrder: &desc}},
			Fields: []api.FieldIdentifier{{Id: api.String("title")}, {Id: &e.amount}},
		}
		want := int64(len(e.ids) / len(benchPriorities))
		for b.Loop() {
			out, err := e.s.SearchCases(ctx, in)
			if err != nil || len(out.Cases) != 25 || out.TotalCount != want {
				b.Fatalf("SearchCases: %v (%d cases, total %d, want %d)", err, len(out.Cases), out.TotalCount, want)
			}
		}
	})
}

// BenchmarkSearchShapes times the filter shapes SearchCases answers from
// the case index (equalTo, andAll including one) beside those that still
// read the whole domain (orAll, a search term), at each domain size.
func BenchmarkSearchShapes(b *testing.B) {
	forSizes(b, func(b *testing.B, e *benchEnv) {
		ctx := context.Background()
		desc := api.OrderDesc
		eq := func(p string) api.CaseFilter {
			return api.CaseFilter{Field: &api.FieldFilter{EqualTo: &api.FieldValue{Id: &e.prio, Value: &api.FieldValueUnion{StringValue: api.String(p)}}}}
		}
		above := api.CaseFilter{Field: &api.FieldFilter{GreaterThan: &api.FieldValue{Id: &e.amount, Value: &api.FieldValueUnion{DoubleValue: api.Float64(500)}}}}
		for _, shape := range []struct {
			name   string
			filter *api.CaseFilter
			term   *string
		}{
			{"index/equalTo", ptrTo(eq("high")), nil},
			{"index/andAll(equalTo,greaterThan)", &api.CaseFilter{AndAll: []api.CaseFilter{eq("high"), above}}, nil},
			{"scan/orAll(equalTo,equalTo)", &api.CaseFilter{OrAll: []api.CaseFilter{eq("high"), eq("low")}}, nil},
			{"scan/searchTerm", nil, api.String("number")},
		} {
			in := &api.SearchCasesRequest{
				DomainId: &e.domain, MaxResults: api.Int32(25), Filter: shape.filter, SearchTerm: shape.term,
				Sorts:  []api.Sort{{FieldId: &e.amount, SortOrder: &desc}},
				Fields: []api.FieldIdentifier{{Id: api.String("title")}, {Id: &e.amount}},
			}
			b.Run(shape.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					out, err := e.s.SearchCases(ctx, in)
					if err != nil || len(out.Cases) != 25 {
						b.Fatalf("SearchCases: %v (%d cases)", err, len(out.Cases))
					}
				}
			})
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
