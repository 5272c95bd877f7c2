package service

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/store/memory"
	"github.com/localcases/localcases/store/postgres"
	"github.com/localcases/localcases/store/sqlite"
	"github.com/localcases/localcases/store/storetest"
)

// BenchmarkSearchFilterShapes times SearchCases for each filter shape on
// each engine, through the case index and through the scan (the
// reference, and what every shape but equalTo cost before the filter
// planner) in the same run, and reports the median of its searches as
// p50-ms. The domain (LOCALCASES_BENCH_CASES cases, default 100,000) is
// built on the memory store by CreateCase and copied to the other engines
// by Import; LOCALCASES_BENCH_ENGINES picks the engines (default memory),
// LOCALCASES_BENCH_PATHS=index leaves the scan out, and
// LOCALCASES_BENCH_LOCK names a lock file (flock) held while each engine's
// searches run, but not while the cases are built and copied:
//
//	LOCALCASES_BENCH_ENGINES=memory,sqlite,postgres \
//	  go test ./service -run '^$' -bench SearchFilterShapes -benchtime 5x -timeout 60m
func BenchmarkSearchFilterShapes(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("LOCALCASES_BENCH_CASES")); err == nil && v > 0 {
		n = v
	}
	engines := strings.Split(os.Getenv("LOCALCASES_BENCH_ENGINES"), ",")
	if engines[0] == "" {
		engines = []string{"memory"}
	}
	ctx := context.Background()
	src := shapesDomain(b, n)
	for _, engine := range engines {
		b.Run(engine, func(b *testing.B) {
			s := src.s
			if engine != "memory" {
				s = shapesCopy(b, engine, src.snap)
			}
			defer benchLock(b)()
			scan := &Service{store: s.store, noIndex: true, cfg: s.cfg, quotas: s.quotas, clock: s.clock, log: s.log,
				tokenKey: s.tokenKey, searchSlots: make(chan struct{}, 1)}
			paths := []struct {
				name string
				s    *Service
			}{{"index", s}, {"scan", scan}}
			if os.Getenv("LOCALCASES_BENCH_PATHS") == "index" {
				paths = paths[:1]
			}
			for _, shape := range src.shapes() {
				for _, path := range paths {
					b.Run(shape.name+"/"+path.name, func(b *testing.B) {
						in := &api.SearchCasesRequest{DomainId: &src.domain, MaxResults: api.Int32(25), Filter: shape.filter,
							Sorts: shape.sorts, Fields: []api.FieldIdentifier{{Id: api.String("title")}, {Id: &src.amount}}}
						var took []time.Duration
						for b.Loop() {
							start := time.Now()
							out, err := path.s.SearchCases(ctx, in)
							took = append(took, time.Since(start))
							if err != nil || len(out.Cases) != 25 || out.TotalCount != shape.total {
								b.Fatalf("SearchCases: %v (%d cases, total %d, want %d)", err, len(out.Cases), out.TotalCount, shape.total)
							}
						}
						slices.Sort(took)
						b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
					})
				}
			}
		})
	}
}

type shapesEnv struct {
	s                    *Service
	snap                 *localcases.Snapshot
	domain, amount, prio string
	n                    int
}

type searchShape struct {
	name   string
	filter *api.CaseFilter
	sorts  []api.Sort
	total  int64
}

var priorities = []string{"low", "medium", "high", "urgent"}

// shapes are the filter shapes of issue 17 over the benchmark's domain:
// case i has priority priorities[i%4] and amount i%1000.
func (e *shapesEnv) shapes() []searchShape {
	eq := func(p string) api.CaseFilter {
		return api.CaseFilter{Field: &api.FieldFilter{EqualTo: &api.FieldValue{Id: &e.prio, Value: &api.FieldValueUnion{StringValue: api.String(p)}}}}
	}
	above := api.CaseFilter{Field: &api.FieldFilter{GreaterThan: &api.FieldValue{Id: &e.amount, Value: &api.FieldValueUnion{DoubleValue: api.Float64(499)}}}}
	byAmount := []api.Sort{{FieldId: &e.amount, SortOrder: ptr(api.OrderDesc)}}
	byTitle := []api.Sort{{FieldId: api.String("title"), SortOrder: ptr(api.OrderAsc)}}
	q := int64(e.n / 4)
	return []searchShape{
		{"none", nil, byAmount, int64(e.n)},
		{"equalTo", ptr(eq("high")), byAmount, q},
		{"greaterThan/sort=same", &above, byAmount, int64(e.n / 2)},
		{"greaterThan/sort=other", &above, byTitle, int64(e.n / 2)},
		{"andAll(equalTo,greaterThan)", &api.CaseFilter{AndAll: []api.CaseFilter{eq("high"), above}}, byAmount, q / 2},
		{"orAll(equalTo,equalTo)", &api.CaseFilter{OrAll: []api.CaseFilter{eq("high"), eq("low")}}, byAmount, 2 * q},
		{"not(equalTo)", &api.CaseFilter{Not: ptr(eq("high"))}, byAmount, 3 * q},
		{"andAll(greaterThan,not(equalTo))/2sorts", &api.CaseFilter{AndAll: []api.CaseFilter{above, {Not: ptr(eq("high"))}}},
			append(byTitle[:1:1], byAmount...), 3 * q / 2},
	}
}

var (
	shapesMu   sync.Mutex
	shapesEnvs = map[int]*shapesEnv{}
)

func shapesDomain(b *testing.B, n int) *shapesEnv {
	b.Helper()
	shapesMu.Lock()
	defer shapesMu.Unlock()
	if e := shapesEnvs[n]; e != nil {
		return e
	}
	ctx := context.Background()
	s, err := New(ctx, memory.New(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	e := &shapesEnv{s: s, n: n}
	d, err := s.CreateDomain(ctx, &api.CreateDomainRequest{Name: api.String("shapes")})
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
	e.prio = field("Priority", api.FieldTypeText)
	tpl, err := s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &e.domain, Name: api.String("shapes")})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		_, err := s.CreateCase(ctx, &api.CreateCaseRequest{DomainId: &e.domain, TemplateId: tpl.TemplateId, Fields: []api.FieldValue{
			{Id: api.String("title"), Value: &api.FieldValueUnion{StringValue: api.String(fmt.Sprintf("Case number %d", i))}},
			{Id: &e.prio, Value: &api.FieldValueUnion{StringValue: api.String(priorities[i%len(priorities)])}},
			{Id: &e.amount, Value: &api.FieldValueUnion{DoubleValue: api.Float64(float64(i % 1000))}},
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
	if e.snap, err = s.Export(ctx); err != nil {
		b.Fatal(err)
	}
	shapesEnvs[n] = e
	return e
}

// shapesCopy loads the snapshot into a fresh store of engine.
func shapesCopy(b *testing.B, engine string, snap *localcases.Snapshot) *Service {
	b.Helper()
	ctx := context.Background()
	var store localcases.Store
	var err error
	switch engine {
	case "sqlite":
		store, err = sqlite.Open(ctx, b.TempDir(), sqlite.Options{})
	case "postgres":
		db := storetest.PostgresURL(b)
		store, err = postgres.Open(ctx, storetest.WithSchema(db, storetest.PostgresSchema(b, db)), postgres.Options{})
	default:
		b.Fatalf("LOCALCASES_BENCH_ENGINES: %q: want memory, sqlite or postgres", engine)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	s, err := New(ctx, store, Config{})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Import(ctx, snap); err != nil {
		b.Fatal(err)
	}
	return s
}
