package bench

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/localcasestest"
)

func TestBenchHistogramBuckets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 100000 {
		v := r.Uint64N(maxValue)
		if r.IntN(2) == 0 {
			v = r.Uint64N(1 << 20)
		}
		i := bucketOf(v)
		if i < 0 || i >= maxBucket {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		hi := bucketHigh(i)
		if hi < v {
			t.Fatalf("bucketHigh(bucketOf(%d)) = %d < value", v, hi)
		}
		if float64(hi-v) > float64(v)/(1<<subBits)+1 {
			t.Fatalf("bucket of %d reaches %d: wider than 1/%d", v, hi, 1<<subBits)
		}
	}
	if bucketOf(maxValue) != maxBucket-1 {
		t.Errorf("largest value lands in bucket %d, want the last (%d)", bucketOf(maxValue), maxBucket-1)
	}
}

func TestBenchHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	l := h.latency()
	near := func(name string, got, want float64) {
		if got < want || got > want*1.01 {
			t.Errorf("%s = %.4f ms, want %.4f ms (+1%%)", name, got, want)
		}
	}
	near("p50", l.P50Ms, 0.5)
	near("p90", l.P90Ms, 0.9)
	near("p99", l.P99Ms, 0.99)
	if l.MaxMs != 1 || l.MinMs != 0.001 {
		t.Errorf("min, max = %v, %v; want 0.001, 1", l.MinMs, l.MaxMs)
	}
	var m histogram
	m.merge(&h)
	m.merge(&h)
	if m.n.Load() != 2000 || m.latency().P50Ms != l.P50Ms {
		t.Errorf("merge: n=%d p50=%v", m.n.Load(), m.latency().P50Ms)
	}
}

func TestBenchParseWorkload(t *testing.T) {
	w, err := ParseWorkload("", "GetCase=60, SearchCases=20,UpdateCase=15,CreateCase=5,GetDomain=0")
	if err != nil {
		t.Fatal(err)
	}
	if got := workloadString(w); got != "GetCase=60,SearchCases=20,UpdateCase=15,CreateCase=5" {
		t.Errorf("workload %q", got)
	}
	for _, bad := range [][2]string{{"", ""}, {"GetDomain", "GetDomain=1"}, {"Nope", ""}, {"", "GetDomain"}, {"", "GetDomain=x"}, {"", "GetDomain=1,GetDomain=2"}, {"", "GetDomain=0"}} {
		if _, err := ParseWorkload(bad[0], bad[1]); err == nil {
			t.Errorf("ParseWorkload(%q, %q) accepted", bad[0], bad[1])
		}
	}
	p := newPicker([]OpWeight{{"A", 3}, {"B", 1}})
	counts := [2]int{}
	r := rand.New(rand.NewPCG(2, 2))
	for range 40000 {
		counts[p.pick(r)]++
	}
	if counts[0] < 29000 || counts[0] > 31000 {
		t.Errorf("weights 3:1 picked %v", counts)
	}
}

func TestBenchLoopbackOnly(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:4599", "http://localhost:1", "http://[::1]:4599", "http://127.1.2.3:80"} {
		if _, err := checkLoopback(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:4599", "https://cases.us-east-1.amazonaws.com", "http://0.0.0.0:4599", "ftp://127.0.0.1", "127.0.0.1:4599"} {
		if _, err := checkLoopback(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestBenchRequestsMatchModel decodes every request the catalogue builds the
// way the server does (strictly, into the operation's input type) and
// validates it, so a body that drifts from the model fails here rather than
// as a run full of ValidationExceptions.
func TestBenchRequestsMatchModel(t *testing.T) {
	st := &state{domainID: "d-1", categoryField: "f-cat", scoreField: "f-score", templateID: "t-1", caseIDs: []string{"c-1", "c-2"}}
	w := &workerGen{id: 3, rnd: rand.New(rand.NewPCG(3, 3)), runID: "abcd1234"}
	for _, name := range Operations() {
		g, err := catalogue[name].gen(st)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for range 3 {
			r := g.next(w)
			w.seq++
			op := api.OperationByName(name)
			if r.method != op.Method {
				t.Errorf("%s: method %s, want %s", name, r.method, op.Method)
			}
			in := op.NewInput()
			if r.body != nil {
				dec := json.NewDecoder(strings.NewReader(string(r.body)))
				dec.DisallowUnknownFields()
				if err := dec.Decode(in); err != nil {
					t.Fatalf("%s: body %s: %v", name, r.body, err)
				}
				if r.hash != "" && r.hash != hashOf(r.body) {
					t.Errorf("%s: stale body hash", name)
				}
			}
			if err := in.BindHTTP(pathBinding{op.URI, r.path}); err != nil {
				t.Fatalf("%s: bind %s: %v", name, r.path, err)
			}
			if err := in.Validate(); err != nil {
				t.Errorf("%s: %s %s: %v", name, r.path, r.body, err)
			}
		}
	}
}

// pathBinding matches a concrete path against a model URI template.
type pathBinding struct{ tmpl, path string }

func (b pathBinding) PathValue(name string) string {
	path, _, _ := strings.Cut(b.path, "?")
	ts, ps := strings.Split(b.tmpl, "/"), strings.Split(path, "/")
	if i := slices.Index(ts, "{"+name+"}"); i >= 0 && i < len(ps) {
		return ps[i]
	}
	return ""
}
func (b pathBinding) Query(string) []string  { return nil }
func (b pathBinding) Header(string) []string { return nil }

// TestBenchEveryOperation drives every operation bench knows against an
// in-process server, closed and open loop, and expects no errors.
func TestBenchEveryOperation(t *testing.T) {
	var mix []OpWeight
	for _, name := range Operations() {
		mix = append(mix, OpWeight{Op: name, Weight: 1})
	}
	for _, rate := range []float64{0, 2000} {
		res, err := Run(context.Background(), Config{Workload: mix, Concurrency: 4, Requests: 260, Rate: rate, SeedCases: 20})
		if err != nil {
			t.Fatalf("rate %v: %v", rate, err)
		}
		l := res.Localcases
		if l.Requests != 260 || l.Errors != 0 || l.Successes != 260 {
			t.Errorf("rate %v: requests %d, successes %d, errors %d %v", rate, l.Requests, l.Successes, l.Errors, l.ErrorsByType)
		}
		if len(l.Ops) != len(mix) {
			t.Errorf("rate %v: %d ops reported, want %d", rate, len(l.Ops), len(mix))
		}
		if res.Seed.Cases != 20 || res.Seed.TemplateID == "" || res.Seed.Fields != 2 {
			t.Errorf("seed %+v", res.Seed)
		}
	}
}

// TestBenchSeedsOnlyWhatIsNeeded: a domain read creates no fields, template
// or cases; ListDomains needs no domain at all.
func TestBenchSeedsOnlyWhatIsNeeded(t *testing.T) {
	res, err := Run(context.Background(), Config{Workload: []OpWeight{{"GetDomain", 1}}, Concurrency: 2, Requests: 10})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Seed; !s.DomainCreated || s.Fields != 0 || s.TemplateID != "" || s.Cases != 0 {
		t.Errorf("GetDomain seeded %+v", s)
	}
	res, err = Run(context.Background(), Config{Workload: []OpWeight{{"ListDomains", 1}}, Concurrency: 2, Requests: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Seed.DomainID != "" {
		t.Errorf("ListDomains seeded a domain: %+v", res.Seed)
	}
}

// TestBenchReusesSeededCases: a second run against the same server reuses
// the cases the first one seeded and creates none; cases of another
// template or without a category are not reused; a run that wants more
// cases creates only the difference.
func TestBenchReusesSeededCases(t *testing.T) {
	ctx := context.Background()
	srv := localcasestest.New(t)
	workload := []OpWeight{{"GetCase", 1}, {"SearchCases", 1}}
	run := func(n int) Result {
		t.Helper()
		res, err := Run(ctx, Config{URL: srv.URL(), Workload: workload, Concurrency: 4, Requests: 40, SeedCases: n})
		if err != nil {
			t.Fatalf("seed %d: %v", n, err)
		}
		if l := res.Localcases; l.Errors != 0 || l.Successes != 40 {
			t.Errorf("seed %d: successes %d, errors %v", n, l.Successes, l.ErrorsByType)
		}
		return res
	}

	first := run(20)
	if s := first.Seed; s.Cases != 20 || s.CasesReused != 0 {
		t.Fatalf("first run seeded %+v, want 20 created, none reused", s)
	}

	// A seeder of our own, to add cases that must not be reused and to
	// look at what seeding hands the workload.
	cfg := Config{URL: srv.URL(), Workload: workload, SeedCases: 20}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	c, err := newClient(cfg.URL, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	sd := &seeder{c: c}
	st := &state{}
	if err := sd.domain(ctx, &cfg, st); err != nil {
		t.Fatal(err)
	}
	if err := sd.fields(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := sd.template(ctx, st); err != nil {
		t.Fatal(err)
	}
	var other api.CreateTemplateResponse
	if err := sd.call(ctx, "CreateTemplate", st.domainParams(), "", &api.CreateTemplateRequest{
		Name: ptr("not-bench"), Status: ptr(api.TemplateStatusActive),
	}, &other); err != nil {
		t.Fatal(err)
	}
	foreign := st.caseInput(3)
	foreign.TemplateId = other.TemplateId
	uncategorized := st.caseInput(4)
	uncategorized.Fields = uncategorized.Fields[:2] // title and summary only
	for _, in := range []*api.CreateCaseRequest{foreign, uncategorized} {
		if err := sd.call(ctx, "CreateCase", st.domainParams(), "", in, nil); err != nil {
			t.Fatal(err)
		}
	}
	total := func() int64 {
		t.Helper()
		var out api.SearchCasesResponse
		if err := sd.call(ctx, "SearchCases", st.domainParams(), "", &api.SearchCasesRequest{MaxResults: ptr(int32(1))}, &out); err != nil {
			t.Fatal(err)
		}
		return out.TotalCount
	}
	if n := total(); n != 22 {
		t.Fatalf("domain holds %d cases, want 20 seeded + 2 added", n)
	}

	second := run(20)
	if s := second.Seed; s.Cases != 0 || s.CasesReused != 20 || s.DomainCreated || s.Fields != 0 {
		t.Errorf("second run seeded %+v, want 20 reused, none created", s)
	}
	if n := total(); n != 22 {
		t.Errorf("after the second run the domain holds %d cases, want 22", n)
	}
	var text strings.Builder
	if err := WriteText(&text, second); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "20 cases reused, 0 created") {
		t.Errorf("seed line does not say what was reused:\n%s", text.String())
	}
	js, _ := json.Marshal(second.Seed)
	if !strings.Contains(string(js), `"casesCreated":0`) || !strings.Contains(string(js), `"casesReused":20`) {
		t.Errorf("seed JSON %s", js)
	}

	// What seeding hands the workload: the first run's 20 cases, slot i
	// holding a case of category i mod categories, as a fresh seed would.
	if err := sd.cases(ctx, &cfg, st); err != nil {
		t.Fatal(err)
	}
	if sd.seed.Cases != 0 || sd.seed.CasesReused != 20 {
		t.Errorf("seeder %+v", sd.seed)
	}
	seen := map[string]bool{}
	for i, id := range st.caseIDs {
		if seen[id] {
			t.Errorf("case %s handed out twice", id)
		}
		seen[id] = true
		var out api.GetCaseResponse
		p := st.domainParams()
		p["caseId"] = id
		if err := sd.call(ctx, "GetCase", p, "", &api.GetCaseRequest{Fields: ids(st.categoryField)}, &out); err != nil {
			t.Fatal(err)
		}
		if k, ok := categoryOf(out.Fields, st.categoryField); !ok || k != i%categories || *out.TemplateId != st.templateID {
			t.Errorf("slot %d: case %s of template %s has fields %+v", i, id, *out.TemplateId, out.Fields)
		}
	}

	third := run(25)
	if s := third.Seed; s.Cases != 5 || s.CasesReused != 20 {
		t.Errorf("a run wanting 25 seeded %+v, want 20 reused and 5 created", s)
	}
	if n := total(); n != 27 {
		t.Errorf("after the third run the domain holds %d cases, want 27", n)
	}
}

// Seeding reports each case it creates, ending at the total, so the CLI
// can draw a bar while a large seed runs.
func TestBenchSeedProgress(t *testing.T) {
	var calls, last, total int
	_, err := Run(context.Background(), Config{Workload: []OpWeight{{"GetCase", 1}}, Concurrency: 4, Requests: 10, SeedCases: 30,
		SeedProgress: func(done, n int) {
			calls++
			if done != last+1 {
				t.Errorf("done %d after %d", done, last)
			}
			last, total = done, n
		}})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 30 || last != 30 || total != 30 {
		t.Fatalf("%d calls, last %d of %d; want 30 of 30", calls, last, total)
	}
}
