package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/resilience"
)

// retryAfterSeconds is what every injected InternalServerException carries.
const retryAfterSeconds = 1

type proof struct {
	s       settings
	url     string
	admin   *admin.Client
	start   time.Time
	kitOpts []resilience.Option

	// The domain, template and case every client's GetCase calls read.
	fix fixture
}

type fixture struct{ domain, template, caseID string }

func (p *proof) progress(format string, args ...any) {
	log.Printf("[%6.1fs] "+format, append([]any{time.Since(p.start).Seconds()}, args...)...)
}

// closedLoop makes n logical calls with conc workers calling back to back.
func closedLoop(n, conc int, call func(i int) callResult) []callResult {
	out := make([]callResult, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := range next {
				out[i] = call(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// sideBySide runs cell for every client at once and collects the results.
func sideBySide[T any](cell func(name string) T) map[string]T {
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		out = map[string]T{}
	)
	for _, name := range clientNames {
		wg.Go(func() {
			v := cell(name)
			mu.Lock()
			out[name] = v
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// sharedRule installs one rule that every client's requests meet. One
// rule, not one per client's domain: each rule draws from a random stream
// of its own, fixed by the seed, and a client pinned to one stream keeps
// its luck at every fault rate (one seed gave one client 36% faults at a
// nominal 30%, and another 22%). Drawing from one stream in arrival order
// shares the luck out at random.
func (p *proof) sharedRule(ctx context.Context, rule map[string]any) error {
	return p.rules(ctx, []map[string]any{rule})
}

type callResult struct {
	latency time.Duration
	err     error
}

// put sends a JSON body to an admin endpoint admin.Client has no method for.
func (p *proof) put(ctx context.Context, path string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, p.url+admin.Prefix+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT %s: HTTP %d", path, resp.StatusCode)
	}
	return nil
}

// reseed restarts the server's fault streams from seed.
func (p *proof) reseed(ctx context.Context, seed int64) error {
	return p.put(ctx, "faults/seed", map[string]int64{"seed": seed})
}

func (p *proof) throttle(ctx context.Context, on bool) error {
	return p.put(ctx, "throttle", admin.Throttle{Enabled: on})
}

// rules resets the server's faults and records and installs rules.
func (p *proof) rules(ctx context.Context, rules []map[string]any) error {
	if err := p.admin.Reset(ctx); err != nil {
		return err
	}
	js, err := json.Marshal(rules)
	if err != nil {
		return err
	}
	parsed, err := fault.ParseRules(js)
	if err != nil {
		return err
	}
	_, err = p.admin.SetRules(ctx, parsed)
	return err
}

// usage returns the traffic report's lines by client (signing access key).
func (p *proof) usage(ctx context.Context) (map[string]fault.Usage, error) {
	rep, err := p.admin.Report(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]fault.Usage{}
	for _, u := range rep.ByClient {
		out[u.Key] = u
	}
	return out, nil
}

// setup creates the domain, template and case the cells use.
func (p *proof) setup(ctx context.Context) error {
	if err := p.admin.Reset(ctx); err != nil {
		return err
	}
	c := newClient(kitName, p.url, "SETUP")
	d, err := c.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("proof")})
	if err != nil {
		return err
	}
	t, err := c.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: d.DomainId, Name: aws.String("proof")})
	if err != nil {
		return err
	}
	cs, err := c.CreateCase(ctx, &connectcases.CreateCaseInput{DomainId: d.DomainId, TemplateId: t.TemplateId, Fields: title("read me")})
	if err != nil {
		return err
	}
	p.fix = fixture{domain: *d.DomainId, template: *t.TemplateId, caseID: *cs.CaseId}
	return nil
}

func title(s string) []types.FieldValue {
	return []types.FieldValue{{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: s}}}
}

func (p *proof) getCase(ctx context.Context, name string, c *connectcases.Client, opts ...func(*connectcases.Options)) error {
	f := p.fix
	in := &connectcases.GetCaseInput{
		DomainId: aws.String(f.domain), CaseId: aws.String(f.caseID),
		Fields: []types.FieldIdentifier{{Id: aws.String("title")}},
	}
	return logical(ctx, name, func() error {
		_, err := c.GetCase(ctx, in, opts...)
		return err
	})
}

// rateCell is one client, one seed, one fault rate.
type rateCell struct {
	calls, ok             int
	requests              int
	raRetries, raViolated int
	latencies             []time.Duration // of successful calls
	reasons               map[string]int  // why failed calls failed
}

// rateAgg pools a client's rate cells across seeds.
type rateAgg struct {
	rateCell
	rates    []float64 // success rate per seed
	perCalls []float64 // requests per call per seed
}

func newRateAgg() *rateAgg { return &rateAgg{rateCell: rateCell{reasons: map[string]int{}}} }

func (a *rateAgg) add(c rateCell) {
	a.calls += c.calls
	a.ok += c.ok
	a.requests += c.requests
	a.raRetries += c.raRetries
	a.raViolated += c.raViolated
	a.latencies = append(a.latencies, c.latencies...)
	for k, v := range c.reasons {
		a.reasons[k] += v
	}
	a.rates = append(a.rates, c.successRate())
	a.perCalls = append(a.perCalls, c.perCall())
}

func (c rateCell) successRate() float64 { return float64(c.ok) / float64(c.calls) }
func (c rateCell) perCall() float64     { return float64(c.requests) / float64(c.calls) }

// percentile is nearest-rank, in seconds.
func (c rateCell) percentile(q float64) float64 {
	if len(c.latencies) == 0 {
		return math.NaN()
	}
	l := slices.Clone(c.latencies)
	slices.Sort(l)
	i := int(math.Ceil(q*float64(len(l)))) - 1
	return l[max(i, 0)].Seconds()
}

// rateCells runs every client side by side for p.s.Calls GetCase calls while a seeded rule fails a fraction rate of
// them with InternalServerException (Retry-After: 1).
func (p *proof) rateCells(ctx context.Context, rate float64) (map[string]rateCell, error) {
	err := p.sharedRule(ctx, map[string]any{"id": "ise", "operation": "GetCase", "probability": rate,
		"error": map[string]any{"code": "InternalServerException", "retryAfterSeconds": retryAfterSeconds}})
	if err != nil {
		return nil, err
	}
	out := sideBySide(func(name string) rateCell {
		client := newClient(name, p.url, accessKey(name, ""), p.kitOpts...)
		results := closedLoop(p.s.Calls, p.s.Concurrency, func(int) callResult {
			t := time.Now()
			err := p.getCase(ctx, name, client)
			return callResult{latency: time.Since(t), err: err}
		})
		cell := rateCell{calls: len(results), reasons: map[string]int{}}
		for _, r := range results {
			if r.err == nil {
				cell.ok++
				cell.latencies = append(cell.latencies, r.latency)
			} else {
				cell.reasons[why(name, r.err)]++
			}
		}
		return cell
	})
	u, err := p.usage(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range clientNames {
		c := out[name]
		us := u[accessKey(name, "")]
		c.requests = us.Attempts
		// The naive client's tries are separate SDK calls the server cannot
		// link; it always waits naiveSleep, which covers Retry-After: 1.
		c.raRetries, c.raViolated = us.RetryAfter.Retries, us.RetryAfter.Violated
		out[name] = c
	}
	return out, nil
}

type outageCell struct {
	calls    int     // started during the outage
	requests int     // reaching the server for those calls
	recovery float64 // seconds from the end to the first success; +Inf if none
}

func (c outageCell) perCall() float64 { return float64(c.requests) / float64(c.calls) }

// outage runs every client side by side through one 100% GetCase outage
// scenario, each starting p.s.Rate calls a second (open loop: a slow call
// does not delay the next) until its first success after the end.
func (p *proof) outage(ctx context.Context, length time.Duration) (map[string]outageCell, error) {
	if err := p.admin.Reset(ctx); err != nil {
		return nil, err
	}
	st, err := p.admin.StartScenario(ctx, "outage", fault.ScenarioParams{
		Duration: fault.Duration(length), Operations: []string{"GetCase"},
	})
	if err != nil {
		return nil, err
	}
	end := st.EndsAt
	out := sideBySide(func(name string) outageCell {
		client := newClient(name, p.url, accessKey(name, "-OUT"), p.kitOpts...)
		after := func(o *connectcases.Options) {
			o.Credentials = credentials.NewStaticCredentialsProvider(accessKey(name, "-AFTER"), "secret", "")
		}
		return p.callThrough(ctx, name, client, end, after)
	})
	u, err := p.usage(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range clientNames {
		c := out[name]
		c.requests = u[accessKey(name, "-OUT")].Attempts
		out[name] = c
	}
	return out, nil
}

// callThrough is one client's open-loop traffic through the outage. Calls
// started before end sign with the client's "-OUT" key, later ones with
// afterOpt's, so the server's report separates the outage's requests.
func (p *proof) callThrough(ctx context.Context, name string, client *connectcases.Client, end time.Time, afterOpt func(*connectcases.Options)) outageCell {
	var (
		mu      sync.Mutex
		firstOK time.Time
		calls   int
		wg      sync.WaitGroup
	)
	recovered := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !firstOK.IsZero()
	}
	cctx, cancel := context.WithDeadline(ctx, end.Add(p.s.Tail)) // calls in flight at the cap are cut off
	defer cancel()
	tick := time.NewTicker(time.Second / time.Duration(p.s.Rate))
	defer tick.Stop()
loop:
	for {
		select {
		case <-cctx.Done():
			break loop
		case now := <-tick.C:
			if !now.Before(end) && recovered() {
				break loop
			}
			var opts []func(*connectcases.Options)
			if now.Before(end) {
				calls++
			} else {
				opts = append(opts, afterOpt)
			}
			wg.Go(func() {
				if err := p.getCase(cctx, name, client, opts...); err != nil {
					return
				}
				done := time.Now()
				mu.Lock()
				if !done.Before(end) && (firstOK.IsZero() || done.Before(firstOK)) {
					firstOK = done
				}
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	c := outageCell{calls: calls, recovery: math.Inf(1)}
	if !firstOK.IsZero() {
		c.recovery = firstOK.Sub(end).Seconds()
	}
	return c
}

type throttleCell struct {
	calls, ok int
	requests  int
	throttled int // requests answered ThrottlingException: wasted
	reasons   map[string]int
}

// throttleCell offers one client, alone (the quota's bucket is shared),
// twice GetCase's documented quota for p.s.ThrottleFor, open loop, each
// call with a p.s.ThrottleDeadline deadline, while the server enforces the
// real quotas.
func (p *proof) throttleCell(ctx context.Context, name string) (throttleCell, error) {
	if err := p.admin.Reset(ctx); err != nil {
		return throttleCell{}, err
	}
	if err := p.throttle(ctx, true); err != nil {
		return throttleCell{}, err
	}
	defer p.throttle(context.WithoutCancel(ctx), false)
	q := fault.DefaultQuotas()["GetCase"]
	// Let the bucket fill, so every client starts with the full burst.
	time.Sleep(time.Duration(float64(q.Burst)/q.Rate*float64(time.Second)) + 100*time.Millisecond)
	client := newClient(name, p.url, accessKey(name, "-THR"), p.kitOpts...)
	offered := 2 * q.Rate
	n := int(offered * p.s.ThrottleFor.Seconds())
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		cell = throttleCell{calls: n, reasons: map[string]int{}}
	)
	tick := time.NewTicker(time.Duration(float64(time.Second) / offered))
	for range n {
		<-tick.C
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, p.s.ThrottleDeadline)
			defer cancel()
			err := p.getCase(cctx, name, client)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				cell.ok++
			} else {
				cell.reasons[why(name, err)]++
			}
		})
	}
	tick.Stop()
	wg.Wait()
	u, err := p.usage(ctx)
	if err != nil {
		return cell, err
	}
	us := u[accessKey(name, "-THR")]
	cell.requests = us.Attempts
	rep, err := p.admin.Requests(ctx, 10000)
	if err != nil {
		return cell, err
	}
	for _, r := range rep {
		if r.ClientID == accessKey(name, "-THR") && r.Status == http.StatusTooManyRequests {
			cell.throttled++
		}
	}
	return cell, nil
}

type createCell struct {
	calls, ok  int
	cases      int // cases the domain holds afterwards
	duplicates int // cases beyond the first for one logical call
	orphans    int // logical calls that failed yet created a case
	reasons    map[string]int
	failed     map[int]bool
}

// createCells makes p.s.Creates CreateCase calls per client, side by side,
// while a fraction p.s.CommitFail of CreateCase
// requests commit and then fail with InternalServerException. Each logical
// call gets a unique title, so a search tells how many cases it left.
func (p *proof) createCells(ctx context.Context) (map[string]createCell, error) {
	err := p.sharedRule(ctx, map[string]any{"id": "commit-then-fail", "operation": "CreateCase",
		"probability": p.s.CommitFail, "action": "commit-then-fail",
		"error": map[string]any{"code": "InternalServerException", "retryAfterSeconds": retryAfterSeconds}})
	if err != nil {
		return nil, err
	}
	out := sideBySide(func(name string) createCell {
		client := newClient(name, p.url, accessKey(name, "-CREATE"), p.kitOpts...)
		f := p.fix
		results := closedLoop(p.s.Creates, p.s.Concurrency, func(i int) callResult {
			// Built once per logical call: the SDK writes the clientToken
			// it generates into it, so the naive loop's tries share it.
			in := &connectcases.CreateCaseInput{
				DomainId: aws.String(f.domain), TemplateId: aws.String(f.template), Fields: title(fmt.Sprintf("%s-%d", name, i)),
			}
			err := logical(ctx, name, func() error {
				_, err := client.CreateCase(ctx, in)
				return err
			})
			return callResult{err: err}
		})
		cell := createCell{calls: len(results), reasons: map[string]int{}, failed: map[int]bool{}}
		for i, r := range results {
			if r.err == nil {
				cell.ok++
			} else {
				cell.reasons[why(name, r.err)]++
				cell.failed[i] = true
			}
		}
		return cell
	})
	if err := p.admin.ClearRules(ctx); err != nil {
		return nil, err
	}
	// Count what each call left behind.
	return out, p.countCases(ctx, out)
}

func (p *proof) countCases(ctx context.Context, out map[string]createCell) error {
	setup := newClient(kitName, p.url, "SETUP")
	perTitle := map[string]int{}
	pages := connectcases.NewSearchCasesPaginator(setup, &connectcases.SearchCasesInput{
		DomainId: aws.String(p.fix.domain), MaxResults: aws.Int32(100),
		Fields: []types.FieldIdentifier{{Id: aws.String("title")}},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, c := range page.Cases {
			for _, f := range c.Fields {
				if v, ok := f.Value.(*types.FieldValueUnionMemberStringValue); ok && aws.ToString(f.Id) == "title" {
					perTitle[v.Value]++
				}
			}
		}
	}
	for _, name := range clientNames {
		cell := out[name]
		for i := range cell.calls {
			n := perTitle[fmt.Sprintf("%s-%d", name, i)]
			cell.cases += n
			cell.duplicates += max(n-1, 0)
			if cell.failed[i] && n > 0 {
				cell.orphans++
			}
		}
		out[name] = cell
	}
	return nil
}

// overhead measures the kit's cost per call with no faults: sequential
// GetCase calls, a bare SDK call and a kit call in turn (which goes first
// alternates), so that the machine's drift falls on both alike; each
// round's ratio is of the two medians.
func (p *proof) overhead(ctx context.Context) ([]float64, error) {
	if err := p.admin.Reset(ctx); err != nil {
		return nil, err
	}
	bare := newClient(sdkName, p.url, "BARE")
	kit := newClient(kitName, p.url, "KIT", p.kitOpts...)
	timed := func(c *connectcases.Client, name string) (time.Duration, error) {
		t := time.Now()
		err := p.getCase(ctx, name, c)
		return time.Since(t), err
	}
	round := func() (float64, error) {
		lb := make([]time.Duration, 0, p.s.OverheadCalls)
		lk := make([]time.Duration, 0, p.s.OverheadCalls)
		for i := range p.s.OverheadCalls {
			for j := range 2 {
				if (i+j)%2 == 0 {
					d, err := timed(bare, sdkName)
					if err != nil {
						return 0, err
					}
					lb = append(lb, d)
				} else {
					d, err := timed(kit, kitName)
					if err != nil {
						return 0, err
					}
					lk = append(lk, d)
				}
			}
		}
		slices.Sort(lb)
		slices.Sort(lk)
		return float64(lk[len(lk)/2]) / float64(lb[len(lb)/2]), nil
	}
	if _, err := round(); err != nil { // warm up connections and first-call paths
		return nil, err
	}
	var ratios []float64
	for range p.s.OverheadRounds {
		r, err := round()
		if err != nil {
			return nil, err
		}
		ratios = append(ratios, r)
	}
	sort.Float64s(ratios)
	return ratios, nil
}

func reasonText(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}
