package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/jackc/pgx/v5"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/fault/redislimit/redistest"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
	"github.com/localcases/localcases/store/storetest"
)

// sharedServers starts n servers on one throwaway PostgreSQL schema, as n
// processes behind a load balancer would run, and returns them with an SDK
// client each, and the database's URL and the schema.
func sharedServers(t *testing.T, n int, opts ...func(*server.Config)) ([]*server.Server, []*connectcases.Client, string, string) {
	t.Helper()
	u := storetest.PostgresURL(t)
	schema := storetest.PostgresSchema(t, u)
	storeURL := storetest.WithSchema(u, schema)
	var srvs []*server.Server
	var clients []*connectcases.Client
	for range n {
		srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) {
			c.Memory, c.StoreURL = false, storeURL
			for _, o := range opts {
				o(c)
			}
		}))
		srvs = append(srvs, srv)
		clients = append(clients, servertest.Client(srv.URL()))
	}
	return srvs, clients, u, schema
}

// waitFor polls cond until it holds; the timeout is generous because a
// loaded machine can delay a notification, and the poll catches up within
// a second of the next read anyway.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func listDomainsErr(c *connectcases.Client) error {
	_, err := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
	return err
}

func isInternal(err error) bool {
	var ise *types.InternalServerException
	return errors.As(err, &ise)
}

// TestSharedRulesApplyToEveryServer: a rule set through one server fails
// calls on the others, and removed through another it stops everywhere.
func TestSharedRulesApplyToEveryServer(t *testing.T) {
	srvs, clients, _, _ := sharedServers(t, 3)
	ctx := t.Context()
	rules, err := fault.ParseRules([]byte(`[{"id":"down","operation":"ListDomains","error":{"code":"InternalServerException"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.NewClient(srvs[0].URL()).SetRules(ctx, rules); err != nil {
		t.Fatal(err)
	}
	// The server that took the change answers with it at once.
	if err := listDomainsErr(clients[0]); !isInternal(err) {
		t.Fatalf("server 0 right after the change: %v, want InternalServerException", err)
	}
	for i := 1; i < len(srvs); i++ {
		waitFor(t, "the rule fails ListDomains on server "+string(rune('0'+i)), func() bool { return isInternal(listDomainsErr(clients[i])) })
	}
	if _, err := exec.LookPath("aws"); err == nil {
		cmd := exec.Command("aws", "connectcases", "list-domains", "--endpoint-url", srvs[2].URL())
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "InternalServerException") {
			t.Errorf("the AWS CLI on server 2: %v\n%s", err, out)
		}
	} else {
		t.Log("the AWS CLI is not on PATH; its call is skipped")
	}

	if err := admin.NewClient(srvs[1].URL()).ClearRules(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range srvs {
		waitFor(t, "the cleared rule stops failing server "+string(rune('0'+i)), func() bool { return listDomainsErr(clients[i]) == nil })
	}
}

// TestSharedCountRuleFailsNInSum: count: 5 fails five calls over three
// servers taking calls at once, not five on each.
func TestSharedCountRuleFailsNInSum(t *testing.T) {
	srvs, clients, _, _ := sharedServers(t, 3)
	ctx := t.Context()
	rules, err := fault.ParseRules([]byte(`[{"id":"five","operation":"ListDomains","count":5,"error":{"code":"InternalServerException"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.NewClient(srvs[2].URL()).SetRules(ctx, rules); err != nil {
		t.Fatal(err)
	}
	for i := range srvs {
		waitFor(t, "every server holds the rule", func() bool { return len(srvs[i].Faults().Rules()) == 1 })
	}
	var failed, other atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			switch err := listDomainsErr(clients[i%3]); {
			case isInternal(err):
				failed.Add(1)
			case err != nil:
				other.Add(1)
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 5 {
		t.Fatalf("%d of 60 calls failed over three servers, want 5", failed.Load())
	}
	// Every server's status counts the firings of all.
	for i := range srvs {
		resp, err := http.Get(srvs[i].URL() + "/_localcases/faults/status")
		if err != nil {
			t.Fatal(err)
		}
		var st []fault.RuleStatus
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil || len(st) != 1 || st[0].Fired != 5 || !st[0].Spent || st[0].Active {
			t.Errorf("server %d status: %+v %v, want fired 5, spent", i, st, err)
		}
	}
	// Once the database has refused, every server holds the rule spent.
	for i := range srvs {
		if err := listDomainsErr(clients[i]); err != nil {
			t.Errorf("server %d after the rule was spent: %v", i, err)
		}
	}
}

// TestSharedScenarioRunsOnOneClock: a scenario started through one server
// has one start on every server, and its phases fail calls everywhere.
func TestSharedScenarioRunsOnOneClock(t *testing.T) {
	srvs, clients, _, _ := sharedServers(t, 2)
	ctx := t.Context()
	body := []byte(`{"name":"late-outage","phases":[
		{"name":"calm","duration":"300ms"},
		{"name":"outage","rules":[{"operation":"ListDomains","error":{"code":"InternalServerException"}}]}]}`)
	if _, err := admin.NewClient(srvs[1].URL()).Load(ctx, body, "json"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "server 0 runs the scenario", func() bool { return srvs[0].Faults().ActiveScenario() != nil })
	a, b := srvs[0].Faults().ActiveScenario(), srvs[1].Faults().ActiveScenario()
	if !a.StartedAt.Equal(b.StartedAt) || a.Name != "late-outage" {
		t.Fatalf("two clocks: server 0 started %q at %v, server 1 %q at %v", a.Name, a.StartedAt, b.Name, b.StartedAt)
	}
	for i := range srvs {
		waitFor(t, "the outage phase fails server "+string(rune('0'+i)), func() bool { return isInternal(listDomainsErr(clients[i])) })
		st := srvs[i].Faults().ActiveScenario()
		if st.Phase != "outage" || !st.PhaseStartedAt.Equal(a.StartedAt.Add(300*time.Millisecond)) {
			t.Errorf("server %d: phase %q from %v, want outage from %v", i, st.Phase, st.PhaseStartedAt, a.StartedAt.Add(300*time.Millisecond))
		}
	}
	// Every server's AWS Health API posts the issue, and closes it when the
	// scenario stops through another.
	openEvents := func(url string) int {
		status, _, out := servertest.HealthCall(t, url, "DescribeEvents", `{"filter":{"eventStatusCodes":["open"]}}`)
		if status != http.StatusOK {
			t.Fatalf("DescribeEvents: %d %v", status, out)
		}
		events, _ := out["events"].([]any)
		return len(events)
	}
	for i := range srvs {
		if n := openEvents(srvs[i].URL()); n != 1 {
			t.Errorf("server %d lists %d open AWS Health events during the outage, want 1", i, n)
		}
	}
	if err := admin.NewClient(srvs[0].URL()).StopScenario(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "server 1 stops the scenario", func() bool { return srvs[1].Faults().ActiveScenario() == nil })
	if n := openEvents(srvs[1].URL()); n != 0 {
		t.Errorf("server 1 lists %d open AWS Health events after the scenario stopped on server 0, want 0", n)
	}
}

// TestSharedSeedAndFileAtStart: the seed is the database's once it has
// one, and a server started with the file already installed keeps the
// rules as they are (their counts and windows).
func TestSharedSeedAndFileAtStart(t *testing.T) {
	u := storetest.PostgresURL(t)
	storeURL := storetest.WithSchema(u, storetest.PostgresSchema(t, u))
	file := t.TempDir() + "/faults.yaml"
	if err := os.WriteFile(file, []byte("rules:\n  - operation: ListDomains\n    count: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func(seed int64) *server.Server {
		return servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) {
			c.Memory, c.StoreURL, c.Seed, c.FaultsFile = false, storeURL, seed, file
		}))
	}
	first := start(7)
	if err := listDomainsErr(servertest.Client(first.URL())); !isInternal(err) {
		t.Fatalf("the file's rule did not fire: %v", err)
	}
	second := start(8)
	if got := second.Faults().Seed(); got != 7 {
		t.Errorf("second server's seed %d, want the database's 7", got)
	}
	if got, want := second.Faults().State().Rules, first.Faults().State().Rules; len(got) != 1 || !got[0].Added.Equal(want[0].Added) {
		t.Fatalf("the second start replaced the rules: %+v, was %+v", got, want)
	}
	if err := listDomainsErr(servertest.Client(second.URL())); err != nil {
		t.Fatalf("the spent count: 1 rule fired again after a second server started: %v", err)
	}
}

// TestSharedStateUnavailable: a change that cannot reach the shared state
// answers 503 and says so; a bad rule is still 400.
func TestSharedStateUnavailable(t *testing.T) {
	srvs, _, db, schema := sharedServers(t, 1)
	ctx := t.Context()
	c := admin.NewClient(srvs[0].URL())
	post := func(body string) int {
		t.Helper()
		resp, err := http.Post(srvs[0].URL()+"/_localcases/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(`[{"operation":"NoSuchOperation"}]`); got != http.StatusBadRequest {
		t.Errorf("a bad rule: %d, want 400", got)
	}
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP TABLE `+pgx.Identifier{schema, "fault_state"}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	if got := post(`[{"operation":"ListDomains"}]`); got != http.StatusServiceUnavailable {
		t.Fatalf("a change with the state table gone: %d, want 503", got)
	}
	_, err = c.SetRules(ctx, []fault.Rule{{Operation: fault.StringList{"ListDomains"}}})
	if err == nil || !strings.Contains(err.Error(), "shared fault state is unavailable") || !strings.Contains(err.Error(), "nothing changed") {
		t.Errorf("the 503's message: %v", err)
	}
	if got := srvs[0].Faults().Rules(); len(got) != 0 {
		t.Errorf("a failed change installed rules: %v", got)
	}
}

// TestSharedFaultPropagation measures how long a rule set through one
// server takes to reach another (docs/FAULTS.md, "Several servers as one
// service"): run with -v to read the figures.
func TestSharedFaultPropagation(t *testing.T) {
	srvs, _, _, _ := sharedServers(t, 2)
	ctx := t.Context()
	c := admin.NewClient(srvs[0].URL())
	var delays []time.Duration
	for i := range 20 {
		rules := []fault.Rule{{ID: "p" + string(rune('a'+i)), Operation: fault.StringList{"ListDomains"}}}
		start := time.Now()
		if _, err := c.SetRules(ctx, rules); err != nil {
			t.Fatal(err)
		}
		deadline := start.Add(30 * time.Second)
		for {
			if r := srvs[1].Faults().Rules(); len(r) == 1 && r[0].ID == rules[0].ID {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("change %d did not reach the second server", i)
			}
			time.Sleep(200 * time.Microsecond)
		}
		delays = append(delays, time.Since(start))
	}
	slices.Sort(delays)
	t.Logf("propagation over %d changes (set on one server, held by the other): median %v, max %v",
		len(delays), delays[len(delays)/2], delays[len(delays)-1])
}

// TestSharedThrottleQuotaHoldsInSum: three servers throttling through one
// Redis admit one burst between them; with buckets in each process they
// would admit three. The rate is so slow that no token comes back during
// the test, so the count is exact.
func TestSharedThrottleQuotaHoldsInSum(t *testing.T) {
	redisURL := redistest.URL(t)
	// The buckets are per account and Region, as AWS's quotas are: an
	// account of its own keeps other tests' calls out of this test's.
	account := "9" + strconv.FormatUint(uint64(time.Now().UnixNano())%1e11, 10)
	account += strings.Repeat("0", 12-len(account))
	srvs, clients, _, _ := sharedServers(t, 3, func(c *server.Config) {
		c.Account, c.ThrottleRedis = account, redisURL
		c.Throttle.Operations = map[string]fault.Limit{"ListDomains": {Rate: 0.001, Burst: 6}}
	})
	var allowed, throttled atomic.Int64
	var wg sync.WaitGroup
	for i := range 45 {
		wg.Go(func() {
			var te *types.ThrottlingException
			switch err := listDomainsErr(clients[i%3]); {
			case err == nil:
				allowed.Add(1)
			case errors.As(err, &te):
				throttled.Add(1)
			default:
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i, srv := range srvs {
		if n := srv.Faults().Throttler().FailedOpen(); n != 0 {
			t.Fatalf("server %d failed open %d times with Redis up", i, n)
		}
	}
	if allowed.Load() != 6 || throttled.Load() != 39 {
		t.Fatalf("%d allowed and %d throttled of 45 calls over three servers, want the burst of 6 and 39", allowed.Load(), throttled.Load())
	}
	th, err := admin.NewClient(srvs[0].URL()).Throttle(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !th.Enabled || !strings.HasPrefix(th.Buckets, "redis://") || th.FailedOpen != 0 {
		t.Errorf("GET /_localcases/throttle: %+v, want enabled, buckets in Redis, none failed open", th)
	}
}

// TestThrottleRedisUnreachableFailsOpen: a server whose Redis does not
// answer starts, allows every call, and counts them.
func TestThrottleRedisUnreachableFailsOpen(t *testing.T) {
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) {
		c.ThrottleRedis = "redis://127.0.0.1:1/0"
		c.Throttle.Operations = map[string]fault.Limit{"ListDomains": {Rate: 0.001, Burst: 1}}
	}))
	c := servertest.Client(srv.URL())
	for i := range 4 {
		if err := listDomainsErr(c); err != nil {
			t.Fatalf("call %d with Redis down: %v", i, err)
		}
	}
	th, err := admin.NewClient(srv.URL()).Throttle(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !th.Enabled || th.FailedOpen != 4 {
		t.Errorf("GET /_localcases/throttle: %+v, want enabled and 4 failed open", th)
	}
}

// TestSharedThrottleSettings: PUT /_localcases/throttle on one server turns
// throttling on, with its limits, on the others.
func TestSharedThrottleSettings(t *testing.T) {
	srvs, clients, _, _ := sharedServers(t, 2)
	ctx := t.Context()
	if _, err := admin.NewClient(srvs[0].URL()).SetThrottle(ctx, admin.Throttle{
		Enabled: true, Operations: map[string]fault.Limit{"ListDomains": {Rate: 0.001, Burst: 1}},
	}); err != nil {
		t.Fatal(err)
	}
	th := srvs[1].Faults().Throttler()
	waitFor(t, "server 1 throttles ListDomains at the new limit", func() bool {
		return th.Enabled() && th.Limit("ListDomains") == (fault.Limit{Rate: 0.001, Burst: 1})
	})
	// Buckets in each process (no Redis): server 1 admits its own burst of one.
	if err := listDomainsErr(clients[1]); err != nil {
		t.Fatalf("the first call: %v", err)
	}
	var te *types.ThrottlingException
	if err := listDomainsErr(clients[1]); !errors.As(err, &te) {
		t.Fatalf("the second call: %v, want ThrottlingException", err)
	}
}
