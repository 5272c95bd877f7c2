package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
)

func mustRules(t *testing.T, srv *server.Server, js string) {
	t.Helper()
	rules, err := fault.ParseRules([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.NewClient(srv.URL()).SetRules(context.Background(), rules); err != nil {
		t.Fatal(err)
	}
}

// noDelayRetryer is the SDK's standard retryer with its backoff removed, so
// tests that count attempts do not wait.
func noDelayRetryer(maxAttempts int) func(*connectcases.Options) {
	return func(o *connectcases.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = maxAttempts
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
}

func TestFaultInternalServerExceptionWithRetryAfter(t *testing.T) {
	srv := servertest.MustOpen(t)
	c := servertest.Client(srv.URL())
	mustRules(t, srv, `[{"operation":"ListDomains","error":{"code":"InternalServerException","retryAfterSeconds":7}}]`)
	_, err := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
	var ise *types.InternalServerException
	if !errors.As(err, &ise) {
		t.Fatalf("err = %v, want InternalServerException", err)
	}
	if ise.RetryAfterSeconds == nil || *ise.RetryAfterSeconds != 7 {
		t.Errorf("RetryAfterSeconds = %v, want 7", ise.RetryAfterSeconds)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
		t.Errorf("status = %v, want 500", err)
	}
}

func TestFaultActions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		rules string
		check func(t *testing.T, err error)
	}{
		{"throttling", `[{"operation":"ListDomains","error":{"code":"ThrottlingException"}}]`, func(t *testing.T, err error) {
			var te *types.ThrottlingException
			if !errors.As(err, &te) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"status override", `[{"operation":"ListDomains","error":{"code":"InternalServerException","statusCode":503}}]`, func(t *testing.T, err error) {
			var re *smithyhttp.ResponseError
			var ise *types.InternalServerException
			if !errors.As(err, &re) || re.HTTPStatusCode() != 503 || !errors.As(err, &ise) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"load balancer 502", `[{"operation":"ListDomains","action":"http","httpStatus":502}]`, func(t *testing.T, err error) {
			var re *smithyhttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != 502 {
				t.Fatalf("err = %v", err)
			}
			var ise *types.InternalServerException
			if errors.As(err, &ise) {
				t.Errorf("a load balancer page must not parse as a modelled error")
			}
		}},
		{"drop", `[{"operation":"ListDomains","action":"drop"}]`, func(t *testing.T, err error) {
			// The SDK wraps transport failures in a ResponseError with no status.
			var re *smithyhttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != 0 || !strings.Contains(err.Error(), "EOF") {
				t.Fatalf("err = %v, want a connection closed with no response", err)
			}
		}},
		{"undeclared error skipped", `[{"operation":"ListDomains","error":{"code":"ResourceNotFoundException"}}]`, func(t *testing.T, err error) {
			if err != nil {
				t.Fatalf("ListDomains does not declare ResourceNotFoundException, so the rule must not fire: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := servertest.MustOpen(t)
			mustRules(t, srv, tt.rules)
			_, err := servertest.Client(srv.URL()).ListDomains(ctx, &connectcases.ListDomainsInput{})
			tt.check(t, err)
		})
	}
}

func TestFaultLatencyIsRecorded(t *testing.T) {
	srv := servertest.MustOpen(t)
	mustRules(t, srv, `[{"operation":"ListDomains","latency":"50ms"}]`)
	if _, err := servertest.Client(srv.URL()).ListDomains(context.Background(), &connectcases.ListDomainsInput{}); err != nil {
		t.Fatal(err)
	}
	recs := srv.Records().Recent(1)
	// The server slept at least the injected latency before answering; a
	// lower bound, not a timing threshold.
	if len(recs) != 1 || !recs[0].Injected || recs[0].Latency < 50*time.Millisecond || recs[0].Status != 200 {
		t.Fatalf("record = %+v", recs)
	}
}

func TestFaultHangOutlastsClientTimeout(t *testing.T) {
	srv := servertest.MustOpen(t)
	mustRules(t, srv, `[{"operation":"ListDomains","action":"hang","hang":"30s"}]`)
	c := servertest.Client(srv.URL(), func(o *connectcases.Options) {
		o.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond}
	})
	_, err := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
	if err == nil || !strings.Contains(err.Error(), "Timeout") && !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err = %v, want a client timeout", err)
	}
}

// TestFaultFailAttemptsThenPass is the setup users ask for: fail the first
// two attempts of every call, then let the third through.
func TestFaultFailAttemptsThenPass(t *testing.T) {
	srv := servertest.MustOpen(t)
	mustRules(t, srv, `[{"operation":"ListDomains","attempts":"1-2","error":{"code":"InternalServerException","retryAfterSeconds":0}}]`)
	c := servertest.Client(srv.URL(), noDelayRetryer(3))
	for i := 0; i < 3; i++ {
		if _, err := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	rep := srv.Records().Report()
	if len(rep.ByOperation) != 1 {
		t.Fatalf("report = %+v", rep)
	}
	u := rep.ByOperation[0]
	if u.Invocations != 3 || u.Attempts != 9 || u.Injected != 6 {
		t.Errorf("invocations %d attempts %d injected %d, want 3 9 6", u.Invocations, u.Attempts, u.Injected)
	}
}

// TestFaultSeedReplays: the same seed and the same requests meet the same
// faults.
func TestFaultSeedReplays(t *testing.T) {
	run := func(seed int64) string {
		srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.Seed = seed }))
		mustRules(t, srv, `[{"operation":"ListDomains","probability":0.5,"error":{"code":"InternalServerException"}}]`)
		c := servertest.Client(srv.URL())
		var b strings.Builder
		for i := 0; i < 40; i++ {
			_, err := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
			b.WriteByte(map[bool]byte{true: 'x', false: '.'}[err != nil])
		}
		return b.String()
	}
	a, b, other := run(42), run(42), run(7)
	if a != b {
		t.Errorf("seed 42 gave %s then %s", a, b)
	}
	if a == other {
		t.Errorf("seeds 42 and 7 gave the same faults %s", a)
	}
	if !strings.Contains(a, "x") || !strings.Contains(a, ".") {
		t.Errorf("probability 0.5 gave %s", a)
	}
}

// TestFaultHeader: one call fails without touching shared rules.
func TestFaultHeader(t *testing.T) {
	srv := servertest.MustOpen(t)
	c := servertest.Client(srv.URL())
	withFault := func(v string) func(*connectcases.Options) {
		return func(o *connectcases.Options) {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("x-localcases-fault", v))
		}
	}
	_, err := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{}, withFault("InternalServerException;retryAfter=3"))
	var ise *types.InternalServerException
	if !errors.As(err, &ise) || aws.ToInt32(ise.RetryAfterSeconds) != 3 {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{}); err != nil {
		t.Fatalf("a call without the header failed: %v", err)
	}
}

func TestFaultOutageOnHealthPage(t *testing.T) {
	srv := servertest.MustOpen(t)
	ac := admin.NewClient(srv.URL())
	ctx := context.Background()
	if _, err := ac.StartScenario(ctx, "outage", fault.ScenarioParams{Duration: fault.Duration(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, err := servertest.Client(srv.URL()).GetDomain(ctx, &connectcases.GetDomainInput{DomainId: aws.String("x")})
	var ise *types.InternalServerException
	if !errors.As(err, &ise) {
		t.Fatalf("during an outage: %v", err)
	}
	h, err := ac.Health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != fault.StatusOutage || !h.Ready || h.Scenario == nil || h.Scenario.Name != "outage" || len(h.Scenario.Events) == 0 {
		t.Errorf("health = %+v", h)
	}
	if err := ac.StopScenario(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := servertest.Client(srv.URL()).ListDomains(ctx, &connectcases.ListDomainsInput{}); err != nil {
		t.Errorf("after the outage: %v", err)
	}
}

// TestFaultRulesChangeUnderLoad runs under -race: rule changes while
// requests are in flight must be safe.
func TestFaultRulesChangeUnderLoad(t *testing.T) {
	srv := servertest.MustOpen(t)
	c := servertest.Client(srv.URL())
	ac := admin.NewClient(srv.URL())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				c.ListDomains(ctx, &connectcases.ListDomainsInput{})
			}
		}()
	}
	for i := 0; i < 30; i++ {
		rules, _ := fault.ParseRules([]byte(fmt.Sprintf(`[{"operation":"ListDomains","probability":0.%d}]`, i%10)))
		if _, err := ac.SetRules(ctx, rules); err != nil {
			t.Error(err)
		}
		if i%7 == 0 {
			ac.ClearRules(ctx)
		}
	}
	cancel()
	wg.Wait()
}

// TestFaultReportShowsIgnoredRetryAfter: the SDK's standard retryer does not
// read Retry-After, and the report says so.
func TestFaultReportShowsIgnoredRetryAfter(t *testing.T) {
	srv := servertest.MustOpen(t)
	mustRules(t, srv, `[{"operation":"ListDomains","attempts":"1","error":{"code":"InternalServerException","retryAfterSeconds":2}}]`)
	c := servertest.Client(srv.URL(), noDelayRetryer(3))
	if _, err := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{}); err != nil {
		t.Fatal(err)
	}
	rep := srv.Records().Report()
	if len(rep.ByClient) != 1 || rep.ByClient[0].RetryAfter.Violated != 1 || len(rep.Violations) != 1 {
		t.Errorf("report = %+v", rep)
	}
}

// TestThrottleWithQuotas: with throttling on, calls beyond an operation's
// burst get ThrottlingException. The refill rate is set near zero so the
// count does not depend on how fast the test runs.
func TestThrottleWithQuotas(t *testing.T) {
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) {
		c.Throttle = fault.ThrottleConfig{Enabled: true, Operations: map[string]fault.Limit{"ListDomains": {Rate: 0.0001, Burst: 3}}}
	}))
	c := servertest.Client(srv.URL())
	var codes []string
	for i := 0; i < 5; i++ {
		_, err := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
		codes = append(codes, errCode(err))
	}
	if got := strings.Join(codes, ","); got != ",,,ThrottlingException,ThrottlingException" {
		t.Errorf("codes = %s", got)
	}
	// Other operations keep their own buckets.
	if _, err := c.CreateDomain(context.Background(), &connectcases.CreateDomainInput{Name: aws.String("x")}); err != nil {
		t.Errorf("CreateDomain: %v", err)
	}
	lim := srv.Faults().Throttler().Limit("CreateCase")
	if lim.Rate != 2 || lim.Burst != 10 {
		t.Errorf("CreateCase quota = %+v, want the documented 2/s burst 10", lim)
	}
}

// TestAuditNamesTheSigningKey: audit events carry the caller's principal,
// derived from the access key that signed the request.
func TestAuditNamesTheSigningKey(t *testing.T) {
	ctx := context.Background()
	srv := servertest.MustOpen(t)
	c := servertest.Client(srv.URL())
	domain := aws.String(newDomain(t, c))
	tpl := must[*connectcases.CreateTemplateOutput](t)(c.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: domain, Name: aws.String("t")}))
	cs := must[*connectcases.CreateCaseOutput](t)(c.CreateCase(ctx, &connectcases.CreateCaseInput{
		DomainId: domain, TemplateId: tpl.TemplateId,
		Fields: []types.FieldValue{{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: "hello"}}},
	}))
	ev := must[*connectcases.GetCaseAuditEventsOutput](t)(c.GetCaseAuditEvents(ctx, &connectcases.GetCaseAuditEventsInput{DomainId: domain, CaseId: cs.CaseId}))
	if len(ev.AuditEvents) != 1 || aws.ToString(ev.AuditEvents[0].PerformedBy.IamPrincipalArn) != "arn:aws:iam::000000000000:user/AKIDLOCALCASES" {
		t.Fatalf("audit = %+v", ev.AuditEvents)
	}
}

// DELETE /_localcases/faults removes the rules a body describes, as
// LocalStack's chaos API does: a member the template sets must match, and
// an operation matches whether either side writes it as a string or a list.
func TestFaultDeleteByTemplate(t *testing.T) {
	srv := servertest.MustOpen(t)
	add := `[
		{"service": "connectcases", "region": "us-east-1", "operation": "CreateCase", "probability": 0.5,
		 "error": {"statusCode": 500, "code": "InternalServerException"}},
		{"operation": ["GetCase", "SearchCases"], "error": {"code": "ThrottlingException"}},
		{"operation": "UpdateCase", "latency": {"min": "10ms", "max": "10ms"}}
	]`
	tests := []struct {
		name, remove string
		left         int
	}{
		{"operation as a string", `[{"operation": "CreateCase"}]`, 2},
		{"LocalStack's whole rule", `[{"service": "connectcases", "region": "us-east-1", "operation": "CreateCase",
			"probability": 0.5, "error": {"statusCode": 500, "code": "InternalServerException"}}]`, 2},
		{"operation list", `[{"operation": ["GetCase", "SearchCases"]}]`, 2},
		{"a nested member", `[{"error": {"code": "ThrottlingException"}}]`, 2},
		{"two templates", `[{"operation": "CreateCase"}, {"operation": "UpdateCase"}]`, 1},
		{"no match", `[{"operation": "CreateCase", "probability": 0.9}]`, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			do := func(method, body string) []fault.Rule {
				t.Helper()
				req, _ := http.NewRequest(method, srv.URL()+admin.Prefix+"faults", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := servertest.RawClient().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s: HTTP %d", method, resp.StatusCode)
				}
				var rules []fault.Rule
				if err := json.NewDecoder(resp.Body).Decode(&rules); err != nil {
					t.Fatal(err)
				}
				return rules
			}
			do(http.MethodPost, add)
			if left := do(http.MethodDelete, tt.remove); len(left) != tt.left {
				t.Fatalf("%d rules left, want %d: %+v", len(left), tt.left, left)
			}
		})
	}
}
