package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/metrics"
	"github.com/localcases/localcases/store/memory"
)

// families gathers m's registry by name.
func families(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// recordOneOfEach records a sample in every metric family, so each has a
// series to gather.
func recordOneOfEach(m *metrics.Metrics) {
	m.Request("CreateCase", metrics.CodeOK, time.Millisecond)
	m.Begin()
	m.End()
	m.FaultInjected("CreateCase", "error")
	m.Throttled("CreateCase", metrics.ThrottleQuota)
	m.Transaction("memory", metrics.TxUpdate, time.Millisecond)
	m.Delivery("audit-hook", "delivered")
}

func TestNilMetricsDoNothing(t *testing.T) {
	var m *metrics.Metrics
	recordOneOfEach(m) // must not panic
	s := memory.New()
	if got := m.Store(s); got != s {
		t.Errorf("nil Metrics wrapped the store")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Errorf("nil Metrics served %d", rec.Code)
	}
}

// TestStoreTimesTransactions: the wrapped store labels each transaction
// with its engine and kind, failed ones included, and passes errors and
// Kind through.
func TestStoreTimesTransactions(t *testing.T) {
	m := metrics.New()
	s := m.Store(memory.New())
	defer s.Close()
	ctx := context.Background()
	if s.Kind() != "memory" {
		t.Errorf("Kind = %q", s.Kind())
	}
	boom := errors.New("boom")
	if err := s.Update(ctx, func(localcases.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Update error = %v, want boom", err)
	}
	if err := s.Update(ctx, func(tx localcases.Tx) error { return tx.Put(localcases.Meta, "", "x", 1) }); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.View(ctx, func(tx localcases.Tx) error { var v int; return tx.Get(localcases.Meta, "", "x", &v) }); err != nil {
			t.Fatal(err)
		}
	}
	counts := map[string]uint64{}
	for _, mm := range families(t, m)["localcases_store_transaction_duration_seconds"].GetMetric() {
		var engine, kind string
		for _, l := range mm.GetLabel() {
			switch l.GetName() {
			case "engine":
				engine = l.GetValue()
			case "kind":
				kind = l.GetValue()
			}
		}
		counts[engine+"/"+kind] = mm.GetHistogram().GetSampleCount()
	}
	if counts["memory/update"] != 2 || counts["memory/view"] != 3 || len(counts) != 2 {
		t.Errorf("transactions = %v, want memory/update 2, memory/view 3", counts)
	}
}

// TestRegistriesAreSeparate: two Metrics in one process neither share
// counts nor collide registering the runtime collectors.
func TestRegistriesAreSeparate(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.Request("GetCase", metrics.CodeOK, time.Millisecond)
	if n := len(families(t, b)["localcases_requests_total"].GetMetric()); n != 0 {
		t.Errorf("b has %d request series after a call on a", n)
	}
	if v := families(t, a)["localcases_requests_total"].GetMetric()[0].GetCounter().GetValue(); v != 1 {
		t.Errorf("a counted %v", v)
	}
}

func TestHandlerServesTextFormat(t *testing.T) {
	m := metrics.New()
	recordOneOfEach(m)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("Content-Type = %q", rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{
		`localcases_requests_total{code="OK",operation="CreateCase"} 1`,
		`localcases_event_deliveries_total{result="delivered",sink="audit-hook"} 1`,
		"go_goroutines ", "process_cpu_seconds_total ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// metricRef finds the metric names a PromQL expression uses: identifiers
// of our namespace and of the runtime and process collectors. Label values
// and template variables are quoted or start with $, so they never match.
var metricRef = regexp.MustCompile(`\b(?:localcases|go|process)_[a-zA-Z0-9_]+`)

// TestGrafanaDashboard: docs/grafana-dashboard.json is a Grafana dashboard
// whose every query uses only metrics this package exports.
func TestGrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile("../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title         string `json:"title"`
		UID           string `json:"uid"`
		SchemaVersion int    `json:"schemaVersion"`
		Templating    struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			GridPos struct {
				X, Y, W, H int
			} `json:"gridPos"`
			Targets []struct {
				Expr  string `json:"expr"`
				RefID string `json:"refId"`
			} `json:"targets"`
		} `json:"panels"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&dash); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if dash.Title == "" || dash.UID == "" || dash.SchemaVersion == 0 || len(dash.Panels) == 0 {
		t.Fatalf("not a Grafana dashboard: title %q uid %q schemaVersion %d, %d panels", dash.Title, dash.UID, dash.SchemaVersion, len(dash.Panels))
	}

	m := metrics.New()
	recordOneOfEach(m)
	exported := map[string]bool{}
	for name, mf := range families(t, m) {
		exported[name] = true
		if mf.GetType() == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				exported[name+suffix] = true
			}
		}
	}

	check := func(where, expr string) {
		refs := metricRef.FindAllString(expr, -1)
		if len(refs) == 0 {
			t.Errorf("%s: %q uses no metric", where, expr)
		}
		for _, name := range refs {
			if !exported[name] {
				t.Errorf("%s: %q uses %s, which /metrics does not export", where, expr, name)
			}
		}
	}
	ids := map[int]bool{}
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d repeats", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "" || p.Title == "" || p.GridPos.W == 0 || p.GridPos.W+p.GridPos.X > 24 {
			t.Errorf("panel %d %q: type %q, gridPos %+v", p.ID, p.Title, p.Type, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			check("panel "+p.Title, q.Expr)
			for _, name := range metricRef.FindAllString(q.Expr, -1) {
				used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")] = true
			}
		}
	}
	for _, v := range dash.Templating.List {
		if v.Definition != "" {
			check("variable "+v.Name, v.Definition)
		}
	}
	// Every metric of ours has a panel.
	for name := range exported {
		if strings.HasPrefix(name, metrics.Namespace+"_") && !strings.HasSuffix(name, "_bucket") &&
			!strings.HasSuffix(name, "_sum") && !strings.HasSuffix(name, "_count") && !used[name] {
			t.Errorf("the dashboard shows nothing of %s", name)
		}
	}
}

// BenchmarkPerRequest is what metrics add to one API call that reads the
// store once: the in-flight gauge, the request counter and histogram, and
// one timed transaction; off is a nil *Metrics, for the difference.
func BenchmarkPerRequest(b *testing.B) {
	for _, m := range []*metrics.Metrics{nil, metrics.New()} {
		b.Run(fmt.Sprintf("on=%v", m != nil), func(b *testing.B) {
			s := m.Store(memory.New())
			defer s.Close()
			ctx := context.Background()
			view := func(localcases.Tx) error { return nil }
			b.ReportAllocs()
			for b.Loop() {
				m.Begin()
				s.View(ctx, view)
				m.Request("GetDomain", metrics.CodeOK, time.Millisecond)
				m.End()
			}
		})
	}
}
