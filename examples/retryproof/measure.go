package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/resilience"
)

const (
	naiveName = "naive"
	sdkName   = "sdk-default"
	kitName   = "kit"

	retryAfterSeconds = 1
)

var clientNames = []string{naiveName, sdkName, kitName}

// accessKey names a client to the server: localcases attributes each
// request to the access key that signed it (fault.Record.ClientID), which
// is how the traffic report tells the three clients apart.
func accessKey(name, phase string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "")) + phase
}

// newClient builds one of the three clients, fresh, so that no state (the
// SDK's retry-token bucket, the kit's budget and breakers) leaks between
// cells. kitOpts are added to the kit's (none by default; see the -kit-*
// flags); they are ignored for the other clients.
func newClient(name, url, key string, kitOpts ...resilience.Option) *connectcases.Client {
	cfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(key, "secret", ""),
	}
	switch name {
	case naiveName:
		return connectcases.NewFromConfig(cfg, func(o *connectcases.Options) { o.Retryer = aws.NopRetryer{} })
	case sdkName:
		return connectcases.NewFromConfig(cfg) // aws.Config.Retryer nil: the SDK's default
	case kitName:
		return connectcases.NewFromConfig(cfg, resilience.WithDefaults(kitOpts...))
	}
	panic("unknown client " + name)
}

// naiveTries is how many times the naive loop calls the SDK.
const naiveTries = 3

// logical makes one logical call: one SDK call, or for the naive client up
// to naiveTries back to back. attempt must build its input afresh, as naive
// code does. For the naive client it also counts the retries that followed
// a Retry-After response, all of them too early since it never waits (the
// server cannot see this: each try is a separate SDK invocation).
func logical(name string, attempt func() error) (ignoredRetryAfter int, err error) {
	if name != naiveName {
		return 0, attempt()
	}
	for i := range naiveTries {
		if err = attempt(); err == nil {
			return ignoredRetryAfter, nil
		}
		var ise *types.InternalServerException
		if i < naiveTries-1 && errors.As(err, &ise) && aws.ToInt32(ise.RetryAfterSeconds) > 0 {
			ignoredRetryAfter++
		}
	}
	return ignoredRetryAfter, err
}

// why names the policy that ended a failed logical call.
func why(name string, err error) string {
	var quota ratelimit.QuotaExceededError // returned by value
	var maxAttempts *retry.MaxAttemptsError
	switch {
	case errors.Is(err, resilience.ErrBreakerOpen):
		return "breaker open"
	case errors.Is(err, resilience.ErrRetryBudgetExhausted):
		return "retry budget spent"
	case errors.As(err, &quota):
		return "retry quota spent"
	case errors.As(err, &maxAttempts), name == naiveName:
		return "attempts exhausted"
	}
	return "other: " + resilience.Explain(err).Code
}

type callResult struct {
	latency      time.Duration
	err          error
	raRetries    int
	raViolations int
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

type proof struct {
	s       settings
	url     string
	admin   *admin.Client
	start   time.Time
	kitOpts []resilience.Option

	// The domain, template and case the GetCase cells read.
	domain, template, caseID string
}

func (p *proof) progress(format string, args ...any) {
	log.Printf("[%5.1fs] "+format, append([]any{time.Since(p.start).Seconds()}, args...)...)
}

// reseed restarts the server's fault streams from seed
// (PUT /_localcases/faults/seed, which admin.Client has no method for).
func (p *proof) reseed(ctx context.Context, seed int64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, p.url+admin.Prefix+"faults/seed",
		bytes.NewReader(fmt.Appendf(nil, `{"seed": %d}`, seed)))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reseed: HTTP %d", resp.StatusCode)
	}
	return nil
}

// rules resets the server (rules, scenario, records) and installs js.
func (p *proof) rules(ctx context.Context, js string) error {
	if err := p.admin.Reset(ctx); err != nil {
		return err
	}
	rules, err := fault.ParseRules([]byte(js))
	if err != nil {
		return err
	}
	_, err = p.admin.SetRules(ctx, rules)
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

var faultRates = []float64{0.05, 0.20, 0.50}

func (p *proof) run(ctx context.Context) (*results, error) {
	res := &results{Settings: p.s}
	if err := p.setup(ctx); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}

	agg := map[float64]map[string]*rateAgg{}
	for _, rate := range faultRates {
		agg[rate] = map[string]*rateAgg{}
		for _, name := range clientNames {
			agg[rate][name] = &rateAgg{rateCell: rateCell{reasons: map[string]int{}}}
		}
	}
	for i := range p.s.Seeds {
		seed := p.s.Seed + int64(i)
		if err := p.reseed(ctx, seed); err != nil {
			return nil, err
		}
		var line []string
		for _, rate := range faultRates {
			for _, name := range clientNames {
				c, err := p.rateCell(ctx, name, rate)
				if err != nil {
					return nil, fmt.Errorf("%s at %.0f%%, seed %d: %w", name, rate*100, seed, err)
				}
				agg[rate][name].add(c)
				line = append(line, fmt.Sprintf("%d", c.ok))
			}
		}
		p.progress("seed %d: successes of %d calls (5%%, 20%%, 50%% faults × naive, sdk-default, kit): %s",
			seed, p.s.Calls, strings.Join(line, " "))
	}
	if err := p.reseed(ctx, p.s.Seed); err != nil {
		return nil, err
	}
	out, err := p.outage(ctx)
	if err != nil {
		return nil, fmt.Errorf("outage: %w", err)
	}
	dups := map[string]dupCell{}
	for _, name := range clientNames {
		d, err := p.duplicates(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("duplicates %s: %w", name, err)
		}
		dups[name] = d
		p.progress("%-11s commit-then-fail 20%%: %d/%d creates succeeded, %d cases, %d duplicates", name, d.ok, d.calls, d.cases, d.duplicates)
	}

	each := func(f func(name string) float64) map[string]float64 {
		m := map[string]float64{}
		for _, n := range clientNames {
			m[n] = f(n)
		}
		return m
	}
	for _, rate := range faultRates {
		r := newRow(fmt.Sprintf("Success rate, %.0f%% InternalServerException on GetCase", rate*100), "higher", pct,
			each(func(n string) float64 { return agg[rate][n].successRate() }))
		if p.s.Seeds > 1 {
			for _, n := range clientNames {
				lo, hi := agg[rate][n].spread()
				if l, h := fmt.Sprintf("%.0f", 100*lo), fmt.Sprintf("%.0f", 100*hi); l != h {
					r.Display[n] += " (" + l + "–" + h + ")"
				}
			}
		}
		res.Rows = append(res.Rows, r)
	}
	a20 := agg[0.20]
	res.Rows = append(res.Rows,
		newRow("Requests per logical call, 20% faults", "", ratio, each(func(n string) float64 { return a20[n].perCall() })),
		newRow("Retries sooner than the server's Retry-After, 20% faults", "lower", pct, each(func(n string) float64 { return a20[n].raViolationRate() })),
		newRow("p50 latency of successful calls, 20% faults", "lower", dur, each(func(n string) float64 { return a20[n].percentile(0.50) })),
		newRow("p99 latency of successful calls, 20% faults", "lower", dur, each(func(n string) float64 { return a20[n].percentile(0.99) })),
		newRow(fmt.Sprintf("Requests reaching the server per logical call, %s 100%% outage", p.s.Outage), "lower", ratio,
			each(func(n string) float64 { return out[n].perCall() })),
		newRow(fmt.Sprintf("Requests reaching the server during that outage (%d calls/s started per client)", p.s.Rate), "", count,
			each(func(n string) float64 { return float64(out[n].requests) })),
		newRow("Time from the end of the outage to the first success", "lower", func(v float64) string {
			if math.IsInf(v, 1) {
				return "> " + p.s.Tail.String()
			}
			return dur(v)
		}, each(func(n string) float64 { return out[n].recovery })),
		newRow("Duplicate cases, 20% commit-then-fail on CreateCase", "lower", count,
			each(func(n string) float64 { return float64(dups[n].duplicates) })),
		newRow("Success rate of those CreateCase calls", "higher", pct,
			each(func(n string) float64 { return float64(dups[n].ok) / float64(dups[n].calls) })),
	)
	cases := newRow("Cases created (SearchCases totalCount) / successful CreateCase calls", "", count, each(func(string) float64 { return math.NaN() }))
	for _, n := range clientNames {
		cases.Display[n] = fmt.Sprintf("%d / %d", dups[n].cases, dups[n].ok)
	}
	res.Rows = append(res.Rows, cases)

	seeds := fmt.Sprintf("seed %d", p.s.Seed)
	if p.s.Seeds > 1 {
		seeds = fmt.Sprintf("seeds %d–%d", p.s.Seed, p.s.Seed+int64(p.s.Seeds)-1)
	}
	res.Notes = []string{
		fmt.Sprintf("Fault-rate cells: %d calls per client and seed (%s, pooled; the range across seeds in brackets), one client at a time against a reset server, so every client meets the same seeded fault sequence.", p.s.Calls, seeds),
		fmt.Sprintf("The outage runs the three clients concurrently through one 100%% outage scenario on GetCase, each starting %d calls/s (open loop) until its first success after the end (waited for at most %s). Its requests are those of calls started during the outage, retries landing after the end included.", p.s.Rate, p.s.Tail),
		"Requests are counted by the server (traffic report, by signing access key). The naive client's retries are separate SDK invocations the server cannot link, so its Retry-After row is counted client-side: it never waits.",
	}
	for _, rate := range faultRates {
		var parts []string
		for _, n := range clientNames {
			parts = append(parts, fmt.Sprintf("%s %s", n, agg[rate][n].reasonText()))
		}
		res.Notes = append(res.Notes, fmt.Sprintf("Why calls failed at %.0f%%: %s.", rate*100, strings.Join(parts, "; ")))
	}
	var opened []string
	for _, rate := range faultRates {
		opened = append(opened, fmt.Sprintf("%d of %d at %.0f%%", agg[rate][kitName].breakerOpened, p.s.Seeds, rate*100))
	}
	res.Notes = append(res.Notes,
		fmt.Sprintf("The kit's GetCase breaker opened in %s of the seeded runs.", strings.Join(opened, ", ")),
		fmt.Sprintf("The kit's breaker during the outage (times relative to its end): %s.", out[kitName].note),
		fmt.Sprintf("Duplicate cell (seed %d, %d calls, %d concurrent): failed CreateCase calls whose case was committed anyway: naive %d, sdk-default %d, kit %d. Why calls failed: %s.",
			p.s.Seed, p.s.Creates, p.s.Concurrency, dups[naiveName].orphans, dups[sdkName].orphans, dups[kitName].orphans, dupReasons(dups)),
	)
	return res, nil
}

func dupReasons(dups map[string]dupCell) string {
	var parts []string
	for _, n := range clientNames {
		parts = append(parts, n+" "+reasonText(dups[n].reasons))
	}
	return strings.Join(parts, "; ")
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

// setup creates the domain, template and case the GetCase cells read.
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
	p.domain, p.template, p.caseID = *d.DomainId, *t.TemplateId, *cs.CaseId
	return nil
}

func title(s string) []types.FieldValue {
	return []types.FieldValue{{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: s}}}
}

func (p *proof) getCase(ctx context.Context, c *connectcases.Client, opts ...func(*connectcases.Options)) error {
	_, err := c.GetCase(ctx, &connectcases.GetCaseInput{
		DomainId: aws.String(p.domain), CaseId: aws.String(p.caseID),
		Fields: []types.FieldIdentifier{{Id: aws.String("title")}},
	}, opts...)
	return err
}

// rateCell is one client, one seed, one fault rate.
type rateCell struct {
	calls, ok             int
	requests              int
	raRetries, raViolated int
	latencies             []time.Duration // of successful calls
	reasons               map[string]int  // why failed calls failed
	breakerOpened         bool
}

// rateAgg pools a client's rate cells across seeds.
type rateAgg struct {
	rateCell
	rates         []float64 // success rate per seed
	breakerOpened int       // seeds in which the kit's breaker opened
}

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
	a.rates = append(a.rates, float64(c.ok)/float64(c.calls))
	if c.breakerOpened {
		a.breakerOpened++
	}
}

func (a *rateAgg) spread() (lo, hi float64) { return slices.Min(a.rates), slices.Max(a.rates) }

func (a *rateAgg) reasonText() string { return reasonText(a.reasons) }

func (c rateCell) successRate() float64 { return float64(c.ok) / float64(c.calls) }
func (c rateCell) perCall() float64     { return float64(c.requests) / float64(c.calls) }

func (c rateCell) raViolationRate() float64 {
	if c.raRetries == 0 {
		return math.NaN()
	}
	return float64(c.raViolated) / float64(c.raRetries)
}

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

// rateCell: p.s.Calls GetCase calls while a seeded rule fails a fraction
// rate of them with InternalServerException (Retry-After: 1).
func (p *proof) rateCell(ctx context.Context, name string, rate float64) (rateCell, error) {
	err := p.rules(ctx, fmt.Sprintf(`[{"id": "ise", "operation": "GetCase", "probability": %g,
		"error": {"code": "InternalServerException", "retryAfterSeconds": %d}}]`, rate, retryAfterSeconds))
	if err != nil {
		return rateCell{}, err
	}
	key := accessKey(name, "")
	var opened atomic.Bool
	client := newClient(name, p.url, key, append(slices.Clone(p.kitOpts), resilience.WithEvents(resilience.Events{
		OnBreakerStateChange: func(_ string, _, to resilience.BreakerState) {
			if to == resilience.BreakerOpen {
				opened.Store(true)
			}
		},
	}))...)
	results := closedLoop(p.s.Calls, p.s.Concurrency, func(int) callResult {
		t := time.Now()
		ignored, err := logical(name, func() error { return p.getCase(ctx, client) })
		return callResult{latency: time.Since(t), err: err, raRetries: ignored, raViolations: ignored}
	})
	cell := rateCell{calls: len(results), reasons: map[string]int{}, breakerOpened: opened.Load()}
	for _, r := range results {
		if r.err == nil {
			cell.ok++
			cell.latencies = append(cell.latencies, r.latency)
		} else {
			cell.reasons[why(name, r.err)]++
		}
		cell.raRetries += r.raRetries
		cell.raViolated += r.raViolations
	}
	u, err := p.usage(ctx)
	if err != nil {
		return cell, err
	}
	cell.requests = u[key].Attempts
	if name != naiveName {
		cell.raRetries, cell.raViolated = u[key].RetryAfter.Retries, u[key].RetryAfter.Violated
	}
	return cell, nil
}

type outageCell struct {
	calls    int     // started during the outage
	requests int     // reaching the server for those calls
	recovery float64 // seconds from the end to the first success; +Inf if none
	note     string
}

func (c outageCell) perCall() float64 { return float64(c.requests) / float64(c.calls) }

// outage runs the three clients concurrently through a 100% GetCase outage
// scenario, each starting p.s.Rate calls a second (open loop: a slow call
// does not delay the next) until its first success after the end.
func (p *proof) outage(ctx context.Context) (map[string]outageCell, error) {
	if err := p.admin.Reset(ctx); err != nil {
		return nil, err
	}
	p.progress("outage: %s of InternalServerException on GetCase, %d calls/s per client", p.s.Outage, p.s.Rate)
	st, err := p.admin.StartScenario(ctx, "outage", fault.ScenarioParams{
		Duration: fault.Duration(p.s.Outage), Operations: []string{"GetCase"},
	})
	if err != nil {
		return nil, err
	}
	end := st.EndsAt

	var (
		mu          sync.Mutex
		transitions []string
		out         = map[string]outageCell{}
		wg          sync.WaitGroup
	)
	events := resilience.WithEvents(resilience.Events{
		OnBreakerStateChange: func(_ string, _, to resilience.BreakerState) {
			mu.Lock()
			defer mu.Unlock()
			transitions = append(transitions, fmt.Sprintf("%s at %+.1fs", to, time.Since(end).Seconds()))
		},
	})
	for _, name := range clientNames {
		client := newClient(name, p.url, accessKey(name, "-OUT"), append(slices.Clone(p.kitOpts), events)...)
		after := func(o *connectcases.Options) {
			o.Credentials = credentials.NewStaticCredentialsProvider(accessKey(name, "-AFTER"), "secret", "")
		}
		wg.Go(func() {
			c := p.callThrough(ctx, name, client, end, after)
			mu.Lock()
			out[name] = c
			mu.Unlock()
		})
	}
	wg.Wait()

	u, err := p.usage(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range clientNames {
		c := out[name]
		c.requests = u[accessKey(name, "-OUT")].Attempts
		out[name] = c
		rec := "none"
		if !math.IsInf(c.recovery, 1) {
			rec = fmt.Sprintf("%.2fs", c.recovery)
		}
		p.progress("%-11s outage: %d calls, %d requests; first success %s after the end", name, c.calls, c.requests, rec)
	}
	kc := out[kitName]
	kc.note = strings.Join(transitions, ", ")
	if len(transitions) == 0 {
		kc.note = "it never opened"
	}
	out[kitName] = kc
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
	// Calls still in flight at the cap are cut off.
	cctx, cancel := context.WithDeadline(ctx, end.Add(p.s.Tail))
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
				_, err := logical(name, func() error { return p.getCase(cctx, client, opts...) })
				if err != nil {
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

type dupCell struct {
	calls, ok  int
	cases      int // SearchCases totalCount
	duplicates int // cases beyond the first for one logical call
	orphans    int // logical calls that failed yet created a case
	reasons    map[string]int
}

// duplicates makes p.s.Creates CreateCase calls, in a domain of the
// client's own, while 20% of CreateCase requests commit and then fail.
// Each logical call gets a unique title, so a search tells how many cases
// each one left behind.
func (p *proof) duplicates(ctx context.Context, name string) (dupCell, error) {
	if err := p.admin.Reset(ctx); err != nil {
		return dupCell{}, err
	}
	setup := newClient(kitName, p.url, "SETUP")
	d, err := setup.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("dup-" + name)})
	if err != nil {
		return dupCell{}, err
	}
	t, err := setup.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: d.DomainId, Name: aws.String("dup")})
	if err != nil {
		return dupCell{}, err
	}
	err = p.rules(ctx, fmt.Sprintf(`[{"id": "commit-then-fail", "operation": "CreateCase", "probability": 0.2,
		"action": "commit-then-fail", "error": {"code": "InternalServerException", "retryAfterSeconds": %d}}]`, retryAfterSeconds))
	if err != nil {
		return dupCell{}, err
	}
	client := newClient(name, p.url, accessKey(name, ""), p.kitOpts...)
	results := closedLoop(p.s.Creates, p.s.Concurrency, func(i int) callResult {
		_, err := logical(name, func() error {
			// Built afresh for every attempt, as naive code does: no
			// clientToken, so the SDK generates a new one per SDK call.
			_, err := client.CreateCase(ctx, &connectcases.CreateCaseInput{
				DomainId: d.DomainId, TemplateId: t.TemplateId, Fields: title(fmt.Sprintf("%s-%d", name, i)),
			})
			return err
		})
		return callResult{err: err}
	})
	if err := p.admin.ClearRules(ctx); err != nil {
		return dupCell{}, err
	}
	cell := dupCell{calls: len(results), reasons: map[string]int{}}
	for _, r := range results {
		if r.err == nil {
			cell.ok++
		} else {
			cell.reasons[why(name, r.err)]++
		}
	}
	perTitle := map[string]int{}
	var token *string
	for first := true; first || token != nil; first = false {
		page, err := setup.SearchCases(ctx, &connectcases.SearchCasesInput{
			DomainId: d.DomainId, NextToken: token, MaxResults: aws.Int32(25),
			Fields: []types.FieldIdentifier{{Id: aws.String("title")}},
		})
		if err != nil {
			return cell, err
		}
		if first {
			cell.cases = int(page.TotalCount)
		}
		for _, c := range page.Cases {
			for _, f := range c.Fields {
				if v, ok := f.Value.(*types.FieldValueUnionMemberStringValue); ok && aws.ToString(f.Id) == "title" {
					perTitle[v.Value]++
				}
			}
		}
		token = page.NextToken
	}
	for i, r := range results {
		n := perTitle[fmt.Sprintf("%s-%d", name, i)]
		cell.duplicates += max(n-1, 0)
		if r.err != nil && n > 0 {
			cell.orphans++
		}
	}
	return cell, nil
}
