package resilience

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
)

type fakeProbe struct {
	mu      sync.Mutex
	results []error
	calls   int
	opts    connectcases.Options
	input   *connectcases.ListDomainsInput
}

func (f *fakeProbe) ListDomains(_ context.Context, in *connectcases.ListDomainsInput, optFns ...func(*connectcases.Options)) (*connectcases.ListDomainsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.input = in
	for _, fn := range optFns {
		fn(&f.opts)
	}
	err := f.results[min(f.calls, len(f.results)-1)]
	f.calls++
	return &connectcases.ListDomainsOutput{}, err
}

func (f *fakeProbe) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func TestHealthTransitions(t *testing.T) {
	errAccess := respErr(403, nil, &types.AccessDeniedException{})
	probe := &fakeProbe{results: []error{
		nil, errISE, errISE, errISE, errISE, nil, errThrottle, nil, errAccess,
	}}
	clk := newFakeClock()
	hc := NewHealthChecker(probe, HealthConfig{Clock: clk})
	if s := hc.Status(); s.State != HealthUnknown {
		t.Fatalf("initial %v", s.State)
	}
	var seen []HealthState
	cancel := hc.Subscribe(func(s HealthStatus) { seen = append(seen, s.State) })

	want := []HealthState{
		HealthOperational, HealthDegraded, HealthDegraded, HealthOutage, HealthOutage,
		HealthOperational, HealthDegraded, HealthOperational, HealthOperational,
	}
	for i, w := range want {
		clk.Advance(time.Second)
		s := hc.Check(context.Background())
		if s.State != w {
			t.Fatalf("probe %d: %v, want %v", i+1, s.State, w)
		}
		if s.CheckedAt != clk.Now() {
			t.Fatalf("CheckedAt %v", s.CheckedAt)
		}
	}
	if got := hc.Status(); got.Err == nil || Explain(got.Err).Code != "AccessDeniedException" {
		t.Fatalf("a client error keeps the service operational but is reported: %+v", got)
	}
	if got := hc.Status().Since; !got.Equal(clk.Now().Add(-time.Second)) {
		t.Fatalf("Since = %v, want the time of the last change", got)
	}
	wantSeen := []HealthState{HealthOperational, HealthDegraded, HealthOutage, HealthOperational, HealthDegraded, HealthOperational}
	if !reflect.DeepEqual(seen, wantSeen) {
		t.Fatalf("notified %v, want %v", seen, wantSeen)
	}

	cancel()
	probe.results = []error{errISE}
	hc.Check(context.Background())
	if len(seen) != len(wantSeen) {
		t.Fatal("notified after unsubscribe")
	}

	if probe.input.MaxResults == nil || *probe.input.MaxResults != 1 {
		t.Fatalf("probe input %+v", probe.input)
	}
	if _, ok := probe.opts.Retryer.(aws.NopRetryer); !ok {
		t.Fatalf("probe must not retry, Retryer = %T", probe.opts.Retryer)
	}
}

func TestHealthIgnoresCallerCancellation(t *testing.T) {
	hc := NewHealthChecker(&fakeProbe{results: []error{context.Canceled}}, HealthConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s := hc.Check(ctx); s.State != HealthUnknown {
		t.Fatalf("state %v", s.State)
	}
}

func TestHealthServerEndpoint(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		probe   error
		want    HealthState
		wantSrv HealthState
	}{
		{"degraded reported by server", 200, `{"status":"degraded","faults":["latency"],"version":"1"}`, nil, HealthDegraded, HealthDegraded},
		{"outage reported by server", 200, `{"status":"OUTAGE"}`, nil, HealthOutage, HealthOutage},
		{"server operational cannot hide a failed probe", 200, `{"status":"operational"}`, errISE, HealthDegraded, HealthOperational},
		{"404 ignored", 404, `{"status":"outage"}`, nil, HealthOperational, ""},
		{"503 with a body is read", 503, `{"status":"outage"}`, nil, HealthOutage, HealthOutage},
		{"server start-up status ignored", 503, `{"status":"starting"}`, nil, HealthOperational, ""},
		{"not json ignored", 200, `<html>ok</html>`, nil, HealthOperational, ""},
		{"unknown status ignored", 200, `{"status":"fine"}`, nil, HealthOperational, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				path = r.Method + " " + r.URL.Path
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			hc := NewHealthChecker(&fakeProbe{results: []error{tt.probe}}, HealthConfig{Endpoint: srv.URL + "/", HTTPClient: srv.Client()})
			s := hc.Check(context.Background())
			if s.State != tt.want || s.Server != tt.wantSrv {
				t.Fatalf("state %v server %q, want %v %q", s.State, s.Server, tt.want, tt.wantSrv)
			}
			if path != "GET /_localcases/health" {
				t.Fatalf("requested %q", path)
			}
		})
	}
}

// The probe must measure the service even when the client's own breaker is
// open, or an outage could never be seen to end.
func TestHealthProbeBypassesKit(t *testing.T) {
	f, srv := serve(t, replyOK)
	kit := New()
	kit.ForceOpen(time.Hour)
	client := newClient(srv.URL, srv.Client(), kit)
	if _, err := client.ListDomains(context.Background(), &connectcases.ListDomainsInput{}); !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("regular call: %v", err)
	}
	s := NewHealthChecker(client, HealthConfig{}).Check(context.Background())
	if s.State != HealthOperational || f.requests() != 1 {
		t.Fatalf("state %v, requests %d, err %v", s.State, f.requests(), s.Err)
	}
}

func TestHealthRunProbesOnInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		probe := &fakeProbe{results: []error{nil}}
		hc := NewHealthChecker(probe, HealthConfig{Interval: 10 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { hc.Run(ctx); close(done) }()

		synctest.Wait()
		if n := probe.count(); n != 1 {
			t.Fatalf("calls at start %d", n)
		}
		time.Sleep(25 * time.Second)
		synctest.Wait()
		if n := probe.count(); n != 3 {
			t.Fatalf("calls after 25s %d", n)
		}
		cancel()
		<-done
	})
}
