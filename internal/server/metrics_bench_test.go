package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/internal/server"
)

// BenchmarkMetricsOverhead serves GetDomain through the whole handler
// (guard, middleware, service, memory store) with metrics off and on, in
// one run, so the difference is what metrics cost a request. Run with
// -count to interleave the two and compare with benchstat.
func BenchmarkMetricsOverhead(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", on), func(b *testing.B) {
			cfg := server.DefaultConfig()
			cfg.Addr, cfg.Memory, cfg.DisableMetrics = "127.0.0.1:0", true, !on
			srv, err := server.New(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close(context.Background())
			name := "bench"
			d, err := srv.Service().CreateDomain(context.Background(), &api.CreateDomainRequest{Name: &name})
			if err != nil {
				b.Fatal(err)
			}
			h := srv.Handler()
			path := "/domains/" + *d.DomainId
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4599"+path, strings.NewReader(""))
				req.RemoteAddr = "127.0.0.1:40000"
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GetDomain: %d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
