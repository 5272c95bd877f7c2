package server_test

// The resilience kit against a real localcases server injecting faults:
// what the kit promises, counted by the server rather than by the kit.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/internal/servertest"
	"github.com/localcases/localcases/localcasestest"
	"github.com/localcases/localcases/resilience"
	"github.com/localcases/localcases/store/storetest"
)

// kitEnv is a server, a domain with a template and one case, and a client
// with the kit whose waits are kept short: Retry-After is clamped to a few
// milliseconds and the backoff is tiny, so the tests count, never time.
type kitEnv struct {
	srv                      *localcasestest.Server
	domain, template, caseID string
	calls                    []resilience.CallInfo
	mu                       sync.Mutex
}

func newKitEnv(t *testing.T) *kitEnv {
	t.Helper()
	e := &kitEnv{srv: localcasestest.New(t, engineOptions(t)...)}
	ctx := context.Background()
	c := e.srv.Client(noRetries)
	d, err := c.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("kit")})
	if err != nil {
		t.Fatal(err)
	}
	tp, err := c.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: d.DomainId, Name: aws.String("kit")})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := c.CreateCase(ctx, &connectcases.CreateCaseInput{DomainId: d.DomainId, TemplateId: tp.TemplateId,
		Fields: []types.FieldValue{sdkcS("title", "kit")}})
	if err != nil {
		t.Fatal(err)
	}
	e.domain, e.template, e.caseID = *d.DomainId, *tp.TemplateId, *cs.CaseId
	return e
}

// engineOptions runs the kit's tests on the engine servertest.StoreEnv
// names, as CI runs the other end-to-end suites.
func engineOptions(t *testing.T) []localcasestest.Option {
	switch engine := os.Getenv(servertest.StoreEnv); engine {
	case "", "memory":
		return nil
	case "sqlite":
		return []localcasestest.Option{localcasestest.WithSQLite()}
	case "postgres":
		return []localcasestest.Option{localcasestest.WithPostgres(storetest.PostgresURL(t))}
	default:
		t.Fatalf("%s=%q: want memory, sqlite or postgres", servertest.StoreEnv, engine)
		return nil
	}
}

func noRetries(o *connectcases.Options) { o.Retryer = aws.NopRetryer{} }

// setRules replaces the server's fault rules with those in js.
func (e *kitEnv) setRules(t *testing.T, js string) {
	t.Helper()
	rules, err := fault.ParseRules([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Faults().Set(rules...); err != nil {
		t.Fatal(err)
	}
}

func (e *kitEnv) client(opts ...resilience.Option) *connectcases.Client {
	opts = append([]resilience.Option{
		resilience.WithBackoff(time.Microsecond, time.Millisecond),
		resilience.WithMaxRetryAfter(2 * time.Millisecond),
		resilience.WithEvents(resilience.Events{OnCallFinished: func(c resilience.CallInfo) {
			e.mu.Lock()
			e.calls = append(e.calls, c)
			e.mu.Unlock()
		}}),
	}, opts...)
	return e.srv.Client(noRetries, resilience.WithDefaults(opts...))
}

func (e *kitEnv) getCase(c *connectcases.Client) error {
	_, err := c.GetCase(context.Background(), &connectcases.GetCaseInput{
		DomainId: aws.String(e.domain), CaseId: aws.String(e.caseID), Fields: sdkcIDs("title"),
	})
	return err
}

// requests is how many GetCase requests the server saw.
func (e *kitEnv) requests(t *testing.T, op string) int {
	t.Helper()
	rep, err := e.srv.Admin().Report(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rep.ByOperation {
		if o.Key == op {
			return o.Attempts
		}
	}
	return 0
}

// A brownout the retries ride out: every call succeeds unless five
// attempts in a row fail, and CallInfo.Attempts is exactly what the server
// received.
func TestKitRidesOutBrownout(t *testing.T) {
	e := newKitEnv(t)
	e.setRules(t, `[{"operation":"GetCase","probability":0.5,"error":{"code":"InternalServerException","retryAfterSeconds":1}}]`)
	c := e.client()
	const n = 200
	failed := 0
	for range n {
		if err := e.getCase(c); err != nil {
			failed++
			var ise *types.InternalServerException
			if !errors.As(err, &ise) || resilience.Explain(err).Stopped != resilience.StopMaxAttempts {
				t.Fatalf("a call failed for another reason than five faults in a row: %v", err)
			}
		}
	}
	sent := 0
	for _, ci := range e.calls {
		sent += ci.Attempts
	}
	if got := e.requests(t, "GetCase"); got != sent {
		t.Fatalf("server saw %d GetCase requests, the kit reports %d sent", got, sent)
	}
	// 5 attempts at 50%: 1 call in 32 fails; a budget or breaker stopping
	// retries would fail many more.
	if failed > n/10 {
		t.Fatalf("%d of %d calls failed at a 50%% fault rate", failed, n)
	}
	t.Logf("%d of %d failed, %.2f requests per call", failed, n, float64(sent)/n)
}

// In an outage the kit sends its reserve of retries and then first
// attempts only; when the service returns, the next call goes through at
// once, with no breaker or probe delay.
func TestKitOutageCostsReserveThenRecoversAtOnce(t *testing.T) {
	e := newKitEnv(t)
	e.setRules(t, `[{"operation":"GetCase","error":{"code":"InternalServerException","retryAfterSeconds":1}}]`)
	c := e.client()
	const n = 100
	for i := range n {
		err := e.getCase(c)
		if err == nil {
			t.Fatal("a call succeeded during the outage")
		}
		if i == n-1 {
			if s := resilience.Explain(err).Stopped; s != resilience.StopBudget {
				t.Fatalf("last outage call stopped by %q, want %q", s, resilience.StopBudget)
			}
			if got := resilience.UserMessage(err); got != "The service is having trouble right now and many requests are failing. Please try again in a minute." {
				t.Fatalf("UserMessage = %q", got)
			}
		}
	}
	if got, want := e.requests(t, "GetCase"), n+10; got != want {
		t.Fatalf("server saw %d requests for %d calls, want %d (one each plus the reserve of 10)", got, n, want)
	}
	if err := e.srv.Admin().ClearRules(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.getCase(c); err != nil {
		t.Fatalf("first call after the outage: %v", err)
	}
	if last := e.calls[len(e.calls)-1]; last.Attempts != 1 {
		t.Fatalf("first call after the outage took %d attempts", last.Attempts)
	}
}

// CreateCase whose attempts commit and then fail: the kit retries with the
// clientToken the SDK filled in, so every call that reports success has
// exactly one case and none has two.
func TestKitCommitThenFailMakesNoDuplicates(t *testing.T) {
	e := newKitEnv(t)
	e.setRules(t, `[{"operation":"CreateCase","probability":0.3,"action":"commit-then-fail",
		"error":{"code":"InternalServerException","retryAfterSeconds":1}}]`)
	c := e.client()
	const n = 60
	ok := map[string]bool{}
	for i := range n {
		title := fmt.Sprintf("kit-%d", i)
		_, err := c.CreateCase(context.Background(), &connectcases.CreateCaseInput{
			DomainId: aws.String(e.domain), TemplateId: aws.String(e.template), Fields: []types.FieldValue{sdkcS("title", title)},
		})
		ok[title] = err == nil
	}
	e.srv.Admin().ClearRules(context.Background())
	perTitle := map[string]int{}
	plain := e.srv.Client(noRetries)
	p := connectcases.NewSearchCasesPaginator(plain, &connectcases.SearchCasesInput{DomainId: aws.String(e.domain), Fields: sdkcIDs("title")})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, cs := range page.Cases {
			perTitle[fmt.Sprint(sdkcValues(cs.Fields)["title"])]++
		}
	}
	for title, succeeded := range ok {
		switch n := perTitle[title]; {
		case n > 1:
			t.Errorf("%s: %d cases", title, n)
		case succeeded && n != 1:
			t.Errorf("%s: reported created, %d cases", title, n)
		}
	}
}

// The kit's own attempt limit wins over aws.Config.RetryMaxAttempts (what
// AWS_MAX_ATTEMPTS sets), which the SDK would otherwise wrap around it.
func TestKitMaxAttemptsWinsOverConfig(t *testing.T) {
	e := newKitEnv(t)
	e.setRules(t, `[{"operation":"GetCase","error":{"code":"InternalServerException","retryAfterSeconds":0}}]`)
	c := e.srv.Client(noRetries, func(o *connectcases.Options) { o.RetryMaxAttempts = 2 },
		resilience.WithDefaults(resilience.WithMaxAttempts(3), resilience.WithBackoff(time.Microsecond, time.Millisecond)))
	err := e.getCase(c)
	if err == nil {
		t.Fatal("want the outage's error")
	}
	if got := e.requests(t, "GetCase"); got != 3 {
		t.Fatalf("server saw %d requests, want the kit's 3", got)
	}
}
