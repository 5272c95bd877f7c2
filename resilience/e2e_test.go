package resilience

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"
)

// reply is one scripted HTTP response.
type reply struct {
	status  int
	errType string // X-Amzn-ErrorType
	header  map[string]string
	body    string
	hang    bool // block until the client gives up
}

var (
	replyISE = reply{status: 500, errType: "InternalServerException", header: map[string]string{"Retry-After": "2"}, body: `{"message":"boom"}`}
	replyOK  = reply{status: 200, body: `{"domains":[]}`}
)

// fakeCases is a scripted Connect Cases endpoint: request n gets script[n],
// or the last entry once the script is exhausted.
type fakeCases struct {
	script []reply
	n      atomic.Int32

	mu     sync.Mutex
	paths  []string
	bodies []string
}

func (f *fakeCases) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.n.Add(1))
	var body []byte
	if r.Body != nil { // client-side requests may have none
		body, _ = io.ReadAll(r.Body)
	}
	f.mu.Lock()
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()

	rp := f.script[min(n, len(f.script))-1]
	if rp.hang {
		<-r.Context().Done()
		return
	}
	w.Header().Set("X-Amzn-RequestId", "rid-"+string(rune('0'+n)))
	if rp.errType != "" {
		w.Header().Set("X-Amzn-ErrorType", rp.errType)
	}
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	if strings.HasPrefix(rp.body, "{") {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/html")
	}
	w.WriteHeader(rp.status)
	_, _ = io.WriteString(w, rp.body)
}

func (f *fakeCases) requests() int { return int(f.n.Load()) }

func serve(t *testing.T, script ...reply) (*fakeCases, *httptest.Server) {
	f := &fakeCases{script: script}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func newClient(url string, httpClient connectcases.HTTPClient, kit *Kit, more ...func(*connectcases.Options)) *connectcases.Client {
	return connectcases.New(connectcases.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		HTTPClient:   httpClient,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", Source: "test"}, nil
		}),
	}, append([]func(*connectcases.Options){kit.ClientOptions()}, more...)...)
}

// fast keeps real SDK sleeps negligible; assertions are on counts and on
// the delays the retryer chose, never on elapsed time.
func fast(opts ...Option) []Option {
	return append([]Option{
		WithBackoff(time.Microsecond, time.Millisecond),
		WithMaxRetryAfter(5 * time.Millisecond),
		withRnd(rndZero),
	}, opts...)
}

type logLine map[string]any

func parseLogs(t *testing.T, buf *bytes.Buffer) []logLine {
	t.Helper()
	var lines []logLine
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m logLine
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func TestEndToEndInternalErrorThenSuccess(t *testing.T) {
	f, srv := serve(t, replyISE, replyOK)
	rec := &recorder{}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	kit := New(fast(WithEvents(rec.events()), WithLogger(logger))...)
	client := newClient(srv.URL, srv.Client(), kit)

	out, err := client.ListDomains(context.Background(), &connectcases.ListDomainsInput{MaxResults: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Domains) != 0 || f.requests() != 2 {
		t.Fatalf("requests = %d", f.requests())
	}
	if f.paths[0] != "POST /domains-list" {
		t.Fatalf("path %q", f.paths[0])
	}

	if len(rec.failed) != 1 || len(rec.scheduled) != 1 || len(rec.calls) != 1 {
		t.Fatalf("events: %d failed, %d scheduled, %d calls", len(rec.failed), len(rec.scheduled), len(rec.calls))
	}
	s := rec.scheduled[0]
	// Retry-After: 2 asked for 2s; WithMaxRetryAfter clamps it to 5ms.
	if s.Operation != "ListDomains" || s.Attempt != 1 || s.Code != "InternalServerException" ||
		s.HTTPStatus != 500 || s.RequestID != "rid-1" || s.Delay != 5*time.Millisecond {
		t.Fatalf("retry scheduled: %+v", s)
	}
	c := rec.calls[0]
	if c.Attempts != 2 || c.Err != nil || c.HTTPStatus != 200 || c.RequestID != "rid-2" {
		t.Fatalf("call finished: %+v", c)
	}

	lines := parseLogs(t, &logs)
	if len(lines) != 2 {
		t.Fatalf("want 2 log lines, got %d:\n%s", len(lines), logs.String())
	}
	if lines[0]["msg"] != "connectcases attempt failed, retrying" || lines[0]["delay"] != float64(5*time.Millisecond) ||
		lines[0]["error_code"] != "InternalServerException" || lines[0]["request_id"] != "rid-1" ||
		lines[0]["attempt"] != float64(1) || lines[0]["http_status"] != float64(500) {
		t.Fatalf("attempt line: %v", lines[0])
	}
	if lines[1]["msg"] != "connectcases call succeeded after retry" || lines[1]["attempts"] != float64(2) {
		t.Fatalf("outcome line: %v", lines[1])
	}
	if strings.Contains(logs.String(), "boom") || strings.Contains(logs.String(), "AKIDEXAMPLE") {
		t.Fatalf("logs leak messages or credentials:\n%s", logs.String())
	}
}

func TestEndToEndClassification(t *testing.T) {
	tests := []struct {
		name     string
		first    reply
		requests int
		wantCode string // "" for success
	}{
		{"503 html", reply{status: 503, body: "<html>Service Unavailable</html>"}, 2, ""},
		{"502 empty", reply{status: 502}, 2, ""},
		{"504 html", reply{status: 504, body: "<html>Gateway Timeout</html>"}, 2, ""},
		{"503 with Retry-After", reply{status: 503, header: map[string]string{"Retry-After": "1"}, body: "busy"}, 2, ""},
		{"429 throttling", reply{status: 429, errType: "ThrottlingException", body: `{"message":"slow down"}`}, 2, ""},
		{"400 validation", reply{status: 400, errType: "ValidationException", body: `{"message":"bad"}`}, 1, "ValidationException"},
		{"403 access denied", reply{status: 403, errType: "AccessDeniedException", body: `{"message":"no"}`}, 1, "AccessDeniedException"},
		{"404 not found", reply{status: 404, errType: "ResourceNotFoundException", body: `{"message":"gone"}`}, 1, "ResourceNotFoundException"},
		{"409 conflict", reply{status: 409, errType: "ConflictException", body: `{"message":"dup"}`}, 1, "ConflictException"},
		{"402 quota", reply{status: 402, errType: "ServiceQuotaExceededException", body: `{"message":"full"}`}, 1, "ServiceQuotaExceededException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := serve(t, tt.first, replyOK)
			client := newClient(srv.URL, srv.Client(), New(fast()...))
			_, err := client.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
			if f.requests() != tt.requests {
				t.Fatalf("requests = %d, want %d (err %v)", f.requests(), tt.requests, err)
			}
			if tt.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			// ListDomains does not model every code (NotFound, Conflict and
			// quota arrive as generic API errors): classification is by code.
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
				t.Fatalf("err = %v, want code %s", err, tt.wantCode)
			}
		})
	}
}

func TestEndToEndGivesUpAfterMaxAttempts(t *testing.T) {
	f, srv := serve(t, replyISE)
	rec := &recorder{}
	client := newClient(srv.URL, srv.Client(), New(fast(WithEvents(rec.events()))...))
	_, err := client.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
	var maxErr *retry.MaxAttemptsError
	var ise *types.InternalServerException
	if f.requests() != 5 || !errors.As(err, &maxErr) || !errors.As(err, &ise) {
		t.Fatalf("requests=%d err=%v", f.requests(), err)
	}
	if len(rec.failed) != 5 || len(rec.scheduled) != 4 || rec.calls[0].Attempts != 5 ||
		rec.calls[0].Code != "InternalServerException" || rec.calls[0].Stopped != StopMaxAttempts {
		t.Fatalf("events: %d failed, %d scheduled, call %+v", len(rec.failed), len(rec.scheduled), rec.calls[0])
	}
	if got := UserMessage(err); got != "The service had a temporary problem and several tries did not get through. Please try again in 2 seconds." {
		t.Fatalf("UserMessage = %q", got)
	}
	if e := Explain(err); e.Code != "InternalServerException" || !e.Retryable || e.HTTPStatus != 500 || e.Stopped != StopMaxAttempts {
		t.Fatalf("Explain = %+v", e)
	}
}

func TestEndToEndBreakerStopsRetriesAndFailsFast(t *testing.T) {
	f, srv := serve(t, replyISE)
	rec := &recorder{}
	var logs bytes.Buffer
	kit := New(fast(WithEvents(rec.events()), WithClock(newFakeClock()),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
		WithBreaker(BreakerSettings{ConsecutiveFailures: 2, OpenFor: 30 * time.Second}), withRnd(rndMid))...)
	client := newClient(srv.URL, srv.Client(), kit)

	// Attempts 1 and 2 fail and trip the breaker; attempt 3 is refused
	// locally, which ends the retry loop.
	_, err := client.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
	if f.requests() != 2 || !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("requests=%d err=%v", f.requests(), err)
	}
	var boe *BreakerOpenError
	if !errors.As(err, &boe) || boe.RetryIn != 30*time.Second || boe.Operation != "ListDomains" {
		t.Fatalf("BreakerOpenError = %+v", boe)
	}
	// The next call never reaches the server.
	_, err = client.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
	if f.requests() != 2 || !errors.Is(err, ErrBreakerOpen) {
		t.Fatalf("requests=%d err=%v", f.requests(), err)
	}
	if got := UserMessage(err); got != "The service is temporarily unavailable. Please try again in 30 seconds." {
		t.Fatalf("UserMessage = %q", got)
	}
	if len(rec.changes) != 1 || rec.changes[0] != "ListDomains:closed->open" {
		t.Fatalf("transitions %v", rec.changes)
	}
	var reasons []any
	for _, l := range parseLogs(t, &logs) {
		if r, ok := l["reason"]; ok {
			reasons = append(reasons, r)
		}
	}
	if len(reasons) != 2 || reasons[0] != "circuit breaker open" || reasons[1] != "circuit breaker open" {
		t.Fatalf("reasons %v\n%s", reasons, logs.String())
	}
}

type tokenFunc func() (string, error)

func (f tokenFunc) GetIdempotencyToken() (string, error) { return f() }

func TestEndToEndCreateCaseIdempotency(t *testing.T) {
	empty := func(o *connectcases.Options) {
		o.IdempotencyTokenProvider = tokenFunc(func() (string, error) { return "", nil })
	}
	throttle := reply{status: 429, errType: "ThrottlingException", body: `{"message":"slow"}`}
	created := reply{status: 200, body: `{"caseId":"c1","caseArn":"arn:aws:cases:us-east-1:123456789012:domain/d1/case/c1"}`}
	tests := []struct {
		name     string
		first    reply
		opt      func(*connectcases.Options)
		requests int
	}{
		{"SDK token: retried", replyISE, nil, 2},
		{"no token: 500 not retried", replyISE, empty, 1},
		{"no token: throttle retried", throttle, empty, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := serve(t, tt.first, created)
			var more []func(*connectcases.Options)
			if tt.opt != nil {
				more = append(more, tt.opt)
			}
			client := newClient(srv.URL, srv.Client(), New(fast()...), more...)
			_, err := client.CreateCase(context.Background(), &connectcases.CreateCaseInput{
				DomainId: aws.String("d1"), TemplateId: aws.String("t1"), Fields: []types.FieldValue{},
			})
			if f.requests() != tt.requests {
				t.Fatalf("requests = %d, want %d (err %v)", f.requests(), tt.requests, err)
			}
			if f.paths[0] != "POST /domains/d1/cases" {
				t.Fatalf("path %q", f.paths[0])
			}
			if tt.requests == 1 {
				if err == nil || !strings.Contains(err.Error(), "clientToken") {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.bodies[0] != f.bodies[1] {
				t.Fatalf("retry changed the body (and token):\n%s\n%s", f.bodies[0], f.bodies[1])
			}
		})
	}
}

func TestEndToEndAttemptTimeout(t *testing.T) {
	f, srv := serve(t, reply{hang: true}, replyOK)
	rec := &recorder{}
	client := newClient(srv.URL, srv.Client(), New(fast(WithAttemptTimeout(50*time.Millisecond), WithEvents(rec.events()))...))
	if _, err := client.ListDomains(context.Background(), &connectcases.ListDomainsInput{}); err != nil {
		t.Fatal(err)
	}
	if f.requests() != 2 || len(rec.failed) != 1 || rec.failed[0].Code != "Timeout" {
		t.Fatalf("requests=%d failed=%+v", f.requests(), rec.failed)
	}
}

func TestEndToEndRetryBudget(t *testing.T) {
	f, srv := serve(t, replyISE)
	rec := &recorder{}
	kit := New(fast(WithRetryBudget(0.01, 1), WithEvents(rec.events()))...)
	client := newClient(srv.URL, srv.Client(), kit)
	_, err := client.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
	var ise *types.InternalServerException
	if f.requests() != 2 || !errors.Is(err, ErrRetryBudgetExhausted) || !errors.As(err, &ise) {
		t.Fatalf("requests=%d err=%v", f.requests(), err)
	}
	if len(rec.exhausted) != 1 {
		t.Fatalf("OnBudgetExhausted %v", rec.exhausted)
	}
	// Told apart from running out of attempts, for operators and users.
	if e := Explain(err); e.Code != "InternalServerException" || e.Stopped != StopBudget ||
		!strings.Contains(e.OperatorAction, "retry budget is spent") || !strings.Contains(e.String(), "Retries stopped: retry budget spent") {
		t.Fatalf("Explain = %+v", e)
	}
	if got := UserMessage(err); got != "The service is having trouble right now and many requests are failing. Please try again in a minute." {
		t.Fatalf("UserMessage = %q", got)
	}
	if rec.calls[0].Stopped != StopBudget || rec.calls[0].Attempts != 2 {
		t.Fatalf("CallInfo = %+v", rec.calls[0])
	}
}

func TestEndToEndCallerDeadlineShorterThanRetryAfter(t *testing.T) {
	f, srv := serve(t, replyISE, replyOK)
	client := newClient(srv.URL, srv.Client(), New(withRnd(rndZero)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := client.ListDomains(ctx, &connectcases.ListDomainsInput{})
	if f.requests() != 1 || err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("requests=%d err=%v", f.requests(), err)
	}
}

func TestEndToEndConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	rec := &recorder{}
	client := newClient(url, nil, New(fast(WithMaxAttempts(2), WithEvents(rec.events()))...))
	_, err := client.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
	if err == nil || len(rec.failed) != 2 || rec.failed[0].Code != "NetworkError" {
		t.Fatalf("err=%v failed=%+v", err, rec.failed)
	}
	if e := Explain(err); e.Code != "NetworkError" || !e.Retryable {
		t.Fatalf("Explain = %+v", e)
	}
}

// inMemory sends requests straight to a handler: no sockets, so the whole
// client can run inside a synctest bubble.
type inMemory struct{ h http.Handler }

func (m inMemory) Do(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// With synctest's fake time the SDK's real sleeps cost nothing, so the
// full Retry-After and the backoff curve can be checked exactly.
func TestEndToEndWaitsExactly(t *testing.T) {
	tests := []struct {
		name     string
		script   []reply
		opts     []Option
		requests int
		waited   time.Duration
	}{
		{"Retry-After 2 honoured", []reply{replyISE, replyOK}, []Option{withRnd(rndZero)}, 2, 2 * time.Second},
		{"backoff at the top of full jitter",
			[]reply{{status: 503, body: "x"}}, []Option{withRnd(rndMax)}, 5,
			100*time.Millisecond + 200*time.Millisecond + 400*time.Millisecond + 800*time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeCases{script: tt.script}
				client := newClient("http://cases.test", inMemory{f}, New(tt.opts...))
				start := time.Now()
				_, _ = client.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
				if got := time.Since(start); got != tt.waited || f.requests() != tt.requests {
					t.Fatalf("waited %v over %d requests, want %v over %d", got, f.requests(), tt.waited, tt.requests)
				}
			})
		})
	}
}
