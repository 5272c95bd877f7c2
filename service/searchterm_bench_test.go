package service

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/store/memory"
)

// BenchmarkSearchTerm times SearchCases with a searchTerm at 100k cases
// (LOCALCASES_BENCH_CASES to change it) on every engine, through the text
// index and through the scan in the same run, for a rare term (1 match),
// a common one (1,111 at 100k) and one every case holds:
//
//	go test ./service -run '^$' -bench SearchTerm -benchtime 20x
//
// The cases are made once on the memory store and imported into the
// others. Besides ns/op, each reports its median as p50-ms.
func BenchmarkSearchTerm(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("LOCALCASES_BENCH_CASES")); err == nil {
		n = v
	}
	ctx := context.Background()
	src, domain := seedTermBench(b, n)
	snap, err := src.Export(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, eng := range termEngines {
		b.Run(eng.name, func(b *testing.B) {
			s := src
			if eng.name != "memory" {
				var err error
				if s, err = New(ctx, eng.open(b), src.cfg); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := s.Import(ctx, snap); err != nil {
					b.Fatal(err)
				}
				b.Logf("%s: imported %d cases in %v", eng.name, n, time.Since(start))
			}
			for _, tc := range []struct {
				name, term string
			}{{"rare", fmt.Sprintf("Number %d", n/2+42)}, {"common", "note 99"}, {"every", "power on"}} {
				for _, path := range []string{"index", "scan"} {
					svc := s
					if path == "scan" {
						svc = s.twin(s.store, true)
					}
					b.Run(tc.name+"/"+path, func(b *testing.B) {
						in := &api.SearchCasesRequest{DomainId: &domain, MaxResults: api.Int32(25), SearchTerm: &tc.term,
							Fields: []api.FieldIdentifier{{Id: api.String("title")}}}
						var times []time.Duration
						for b.Loop() {
							start := time.Now()
							out, err := svc.SearchCases(ctx, in)
							times = append(times, time.Since(start))
							if err != nil || len(out.Cases) == 0 {
								b.Fatalf("SearchCases: %v %+v", err, out)
							}
						}
						slices.Sort(times)
						b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
					})
				}
			}
		})
	}
}

func seedTermBench(b *testing.B, n int) (*Service, string) {
	b.Helper()
	ctx := context.Background()
	s, err := New(ctx, memory.New(), Config{Account: "123456789012", Region: "us-east-1"})
	if err != nil {
		b.Fatal(err)
	}
	d, err := s.CreateDomain(ctx, &api.CreateDomainRequest{Name: api.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	domain := *d.DomainId
	f, err := s.CreateField(ctx, &api.CreateFieldRequest{DomainId: &domain, Name: api.String("Notes"), Type: ptr(api.FieldTypeText)})
	if err != nil {
		b.Fatal(err)
	}
	tpl, err := s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &domain, Name: api.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		_, err := s.CreateCase(ctx, &api.CreateCaseRequest{DomainId: &domain, TemplateId: tpl.TemplateId, Fields: []api.FieldValue{
			sv("title", fmt.Sprintf("Case number %d", i)),
			sv("summary", "Customer reports the device does not power on after the update."),
			sv(*f.FieldId, fmt.Sprintf("note %d", i)),
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s, domain
}
