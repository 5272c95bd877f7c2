package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	awshealth "github.com/aws/aws-sdk-go-v2/service/health"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
)

// scrape reads url's /metrics as Prometheus does and returns the families
// by name.
func scrape(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := servertest.RawClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

// sample returns the value of the series of family name whose labels
// include labels (name=value pairs): a counter's or gauge's value, or a
// histogram's sample count. Absent series read 0.
func sample(mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	mf := mfs[name]
	if mf == nil {
		return 0
	}
	var sum float64
next:
	for _, m := range mf.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// TestMetricsCountWhatWasSent: /metrics counts the calls the Go SDK and
// the AWS CLI made, by operation and code, with the faults injected and the
// calls throttled among them.
func TestMetricsCountWhatWasSent(t *testing.T) {
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) {
		c.Memory = true // the store label below names the engine
		c.Throttle = fault.ThrottleConfig{Enabled: true, Default: &fault.Unlimited, Operations: map[string]fault.Limit{
			"GetDomain":    {Rate: 1e-9, Burst: 1}, // one call, then ThrottlingException for good
			"CreateDomain": fault.Unlimited, "ListDomains": fault.Unlimited, "ListFields": fault.Unlimited, "ListLayouts": fault.Unlimited,
		}}
	}))
	ctx := context.Background()
	c := servertest.Client(srv.URL())
	err := srv.Faults().AddRules([]fault.Rule{
		{Operation: fault.StringList{"ListFields"}, Count: aws.Int(1), Error: &fault.ErrorSpec{Code: "InternalServerException"}},
		{Operation: fault.StringList{"ListLayouts"}, Count: aws.Int(1), Action: fault.ActionHTTP, HTTPStatus: 503},
	})
	if err != nil {
		t.Fatal(err)
	}

	d, err := c.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("metrics")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("metrics")})
	mustCode(t, err, "ConflictException")
	for range 2 {
		if _, err := c.ListDomains(ctx, &connectcases.ListDomainsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.GetDomain(ctx, &connectcases.GetDomainInput{DomainId: d.DomainId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetDomain(ctx, &connectcases.GetDomainInput{DomainId: d.DomainId})
	mustCode(t, err, "ThrottlingException")
	_, err = c.ListFields(ctx, &connectcases.ListFieldsInput{DomainId: d.DomainId})
	mustCode(t, err, "InternalServerException")
	if _, err := c.ListFields(ctx, &connectcases.ListFieldsInput{DomainId: d.DomainId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListLayouts(ctx, &connectcases.ListLayoutsInput{DomainId: d.DomainId}); err == nil {
		t.Fatal("ListLayouts: want the injected 503")
	}
	// The AWS Health API on the same port counts too, under its own names.
	if _, err := healthClient(srv.URL()).DescribeEvents(ctx, &awshealth.DescribeEventsInput{}); err != nil {
		t.Fatal(err)
	}
	listDomains := 2.0
	if _, err := exec.LookPath("aws"); err == nil {
		cmd := exec.Command("aws", "connectcases", "list-domains", "--endpoint-url", srv.URL())
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("aws connectcases list-domains: %v\n%s", err, out)
		}
		listDomains++
	} else {
		t.Log("the AWS CLI is not on PATH; counting the SDK's calls only")
	}

	mfs := scrape(t, srv.URL(), "")
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"localcases_requests_total", []string{"operation", "CreateDomain", "code", "OK"}, 1},
		{"localcases_requests_total", []string{"operation", "CreateDomain", "code", "ConflictException"}, 1},
		{"localcases_requests_total", []string{"operation", "ListDomains", "code", "OK"}, listDomains},
		{"localcases_requests_total", []string{"operation", "GetDomain", "code", "OK"}, 1},
		{"localcases_requests_total", []string{"operation", "GetDomain", "code", "ThrottlingException"}, 1},
		{"localcases_requests_total", []string{"operation", "ListFields", "code", "InternalServerException"}, 1},
		{"localcases_requests_total", []string{"operation", "ListFields", "code", "OK"}, 1},
		{"localcases_requests_total", []string{"operation", "ListLayouts", "code", "503"}, 1},
		{"localcases_requests_total", []string{"operation", "DescribeEvents", "code", "OK"}, 1},
		{"localcases_requests_total", nil, 10 + listDomains - 2},
		{"localcases_request_duration_seconds", []string{"operation", "CreateDomain"}, 2},
		{"localcases_request_duration_seconds", nil, 10 + listDomains - 2},
		{"localcases_faults_injected_total", []string{"operation", "ListFields", "action", "error"}, 1},
		{"localcases_faults_injected_total", []string{"operation", "ListLayouts", "action", "http"}, 1},
		{"localcases_faults_injected_total", nil, 2},
		{"localcases_throttled_total", []string{"operation", "GetDomain", "reason", "quota"}, 1},
		{"localcases_throttled_total", nil, 1},
		{"localcases_in_flight", nil, 0},
	} {
		if got := sample(mfs, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	// Each successful CreateDomain writes in one transaction at least, and
	// every call reads in one; the exact number is the service's business.
	if n := sample(mfs, "localcases_store_transaction_duration_seconds", "engine", "memory", "kind", "update"); n < 1 {
		t.Errorf("update transactions = %v, want at least 1", n)
	}
	if n := sample(mfs, "localcases_store_transaction_duration_seconds", "engine", "memory", "kind", "view"); n < 1 {
		t.Errorf("view transactions = %v, want at least 1", n)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_open_fds"} {
		if mfs[name] == nil {
			t.Errorf("%s missing: the Go runtime and process collectors are not registered", name)
		}
	}
}

// TestMetricsPerServer: two servers in one process keep their own counts.
func TestMetricsPerServer(t *testing.T) {
	a, b := servertest.MustOpen(t), servertest.MustOpen(t)
	if _, err := servertest.Client(a.URL()).ListDomains(context.Background(), &connectcases.ListDomainsInput{}); err != nil {
		t.Fatal(err)
	}
	if got := sample(scrape(t, a.URL(), ""), "localcases_requests_total"); got != 1 {
		t.Errorf("server a counted %v requests, want 1", got)
	}
	if got := sample(scrape(t, b.URL(), ""), "localcases_requests_total"); got != 0 {
		t.Errorf("server b counted %v requests, want 0", got)
	}
}

// TestMetricsProtected: /metrics is guarded like the admin API: loopback
// only without a token, the token from anywhere with one, and never for a
// page on a rebound host name.
func TestMetricsProtected(t *testing.T) {
	get := func(h http.Handler, remote, host, token string) int {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr = remote
		req.Host = host
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	open := servertest.MustOpen(t).Handler()
	locked := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.AdminToken = "s3cret" })).Handler()
	for _, tt := range []struct {
		name              string
		h                 http.Handler
		remote, host, tok string
		want              int
	}{
		{"loopback", open, "127.0.0.1:5000", "127.0.0.1:4599", "", http.StatusOK},
		{"remote without a token", open, "192.0.2.7:5000", "192.0.2.1:4599", "", http.StatusForbidden},
		{"rebound host name", open, "127.0.0.1:5000", "attacker.example:4599", "", http.StatusForbidden},
		{"token required", locked, "127.0.0.1:5000", "127.0.0.1:4599", "", http.StatusForbidden},
		{"wrong token", locked, "192.0.2.7:5000", "metrics.example:4599", "nope", http.StatusForbidden},
		{"remote with the token", locked, "192.0.2.7:5000", "metrics.example:4599", "s3cret", http.StatusOK},
	} {
		t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
			if got := get(tt.h, tt.remote, tt.host, tt.tok); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
}

// TestMetricsInFlight: a call held by an injected delay shows in
// localcases_in_flight until it ends.
func TestMetricsInFlight(t *testing.T) {
	srv := servertest.MustOpen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		servertest.Client(srv.URL()).ListDomains(ctx, &connectcases.ListDomainsInput{}, func(o *connectcases.Options) {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("x-localcases-fault", "latency=10m"))
		})
	}()
	waitFor := func(want float64) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			got := sample(scrape(t, srv.URL(), ""), "localcases_in_flight")
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("localcases_in_flight = %v; waited a minute for %v", got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(1)
	cancel()
	<-done
	waitFor(0)
}

// TestMetricsCountDeliveries: every case event counts per sink by result:
// delivered to a webhook that accepts it; to one that refuses it for good,
// one failed attempt and then dead-lettered.
func TestMetricsCountDeliveries(t *testing.T) {
	ok, refuses := skNewHook(t), skNewHook(t)
	refuses.setStatus(http.StatusBadRequest) // permanent: dead-lettered at once
	e := sdkcSetup(t, servertest.WithConfig(func(c *server.Config) {
		c.Events.Sinks = []server.SinkEntry{{Name: "ok", URL: ok.URL}, {Name: "refuses", URL: refuses.URL}}
	}))
	evConfigure(t, e, false)
	for range 3 {
		e.create()
	}
	deliveries := func(sink, result string) float64 {
		return sample(scrape(t, e.srv.URL(), ""), "localcases_event_deliveries_total", "sink", sink, "result", result)
	}
	skWait(t, "3 deliveries and 3 dead letters in the metrics", func() bool {
		return deliveries("ok", "delivered") >= 3 && deliveries("refuses", "dead_lettered") >= 3
	})
	mfs := scrape(t, e.srv.URL(), "")
	for _, tt := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"sink", "ok", "result", "delivered"}, 3},
		{[]string{"sink", "refuses", "result", "failed"}, 3},
		{[]string{"sink", "refuses", "result", "dead_lettered"}, 3},
		{[]string{"sink", "ok"}, 3},
		{[]string{"sink", "refuses"}, 6},
	} {
		if got := sample(mfs, "localcases_event_deliveries_total", tt.labels...); got != tt.want {
			t.Errorf("localcases_event_deliveries_total%v = %v, want %v", tt.labels, got, tt.want)
		}
	}
	if got := len(ok.got()); got != 3 {
		t.Errorf("the webhook got %d events, want 3", got)
	}
	if got := sample(mfs, "localcases_requests_total", "operation", "CreateCase", "code", "OK"); got != 3 {
		t.Errorf("CreateCase OK = %v, want 3", got)
	}
}
