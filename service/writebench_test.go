package service_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/service"
	"github.com/localcases/localcases/store/memory"
	"github.com/localcases/localcases/store/sqlite"
)

// BenchmarkCreateCaseConcurrent is the write path under the load of
// `localcases bench --op CreateCase --concurrency 32`, without HTTP: 32
// callers creating cases shaped like the bench's (a clientToken, four
// fields, a performedBy) in one domain, on each engine. On SQLite every
// case is durable before CreateCase returns, and updates/commit is the
// mean batch of the group commit:
//
//	go test ./service -run '^$' -bench CreateCaseConcurrent -benchmem
func BenchmarkCreateCaseConcurrent(b *testing.B) {
	engines := []struct {
		name string
		open func(b *testing.B) localcases.Store
	}{
		{"memory", func(*testing.B) localcases.Store { return memory.New() }},
		{"sqlite", func(b *testing.B) localcases.Store {
			st, err := sqlite.Open(context.Background(), b.TempDir(), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
	}
	for _, eng := range engines {
		b.Run(eng.name, func(b *testing.B) {
			ctx := context.Background()
			st := eng.open(b)
			s, err := service.New(ctx, st, service.Config{})
			if err != nil {
				b.Fatal(err)
			}
			domain, tpl, category, score := benchCaseDomain(b, s)
			var n atomic.Int64
			const callers = 32
			b.SetParallelism((callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					_, err := s.CreateCase(ctx, &api.CreateCaseRequest{
						DomainId: &domain, TemplateId: &tpl, ClientToken: api.String(fmt.Sprintf("bench-%d", i)),
						Fields: []api.FieldValue{
							{Id: api.String("title"), Value: &api.FieldValueUnion{StringValue: api.String(fmt.Sprintf("Bench case %d: customer cannot sign in", i))}},
							{Id: api.String("summary"), Value: &api.FieldValueUnion{StringValue: api.String("The customer reports that sign-in fails after a password reset.")}},
							{Id: &category, Value: &api.FieldValueUnion{StringValue: api.String(fmt.Sprintf("cat-%d", i%8))}},
							{Id: &score, Value: &api.FieldValueUnion{DoubleValue: api.Float64(float64(i))}},
						},
						PerformedBy: &api.UserUnion{CustomEntity: api.String("bench")},
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if c, ok := st.(interface{ Commits() (int64, int64) }); ok {
				updates, commits := c.Commits()
				b.ReportMetric(float64(updates)/float64(max(1, commits)), "updates/commit")
			}
		})
	}
}

// benchCaseDomain makes a domain with a Text and a Number field and a
// template for them.
func benchCaseDomain(b *testing.B, s *service.Service) (domain, tpl, category, score string) {
	ctx := context.Background()
	d, err := s.CreateDomain(ctx, &api.CreateDomainRequest{Name: api.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	domain = *d.DomainId
	field := func(name string, typ api.FieldType) string {
		out, err := s.CreateField(ctx, &api.CreateFieldRequest{DomainId: &domain, Name: api.String(name), Type: &typ})
		if err != nil {
			b.Fatal(err)
		}
		return *out.FieldId
	}
	category, score = field("Category", api.FieldTypeText), field("Score", api.FieldTypeNumber)
	t, err := s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &domain, Name: api.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	return domain, *t.TemplateId, category, score
}
