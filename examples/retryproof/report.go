package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// results is everything a run measured, as printed and as JSON.
type results struct {
	Command  string   `json:"command"`
	Machine  string   `json:"machine"`
	Date     string   `json:"date"`
	Elapsed  string   `json:"elapsed"`
	Settings settings `json:"settings"`

	Rates    []rateResult              `json:"faultRates"`
	Outages  []outageResult            `json:"outages"`
	Throttle map[string]throttleResult `json:"throttling"`
	Create   map[string]createResult   `json:"commitThenFail"`
	Overhead overheadResult            `json:"overhead"`
	Targets  []target                  `json:"targets"`
}

type rateResult struct {
	Rate    float64               `json:"rate"`
	Clients map[string]clientRate `json:"clients"`
}

type clientRate struct {
	Success    float64 `json:"success"` // pooled over seeds
	SuccessMin float64 `json:"successMin"`
	SuccessMax float64 `json:"successMax"`
	PerCall    float64 `json:"requestsPerCall"`
	PerCallMin float64 `json:"requestsPerCallMin"`
	PerCallMax float64 `json:"requestsPerCallMax"`
	// Latency percentiles of successful calls; absent when none succeeded.
	P50 *float64 `json:"p50Seconds,omitempty"`
	P99 *float64 `json:"p99Seconds,omitempty"`
	// Retries the server saw after a Retry-After answer, and how many came
	// sooner than it asked (the naive client's tries are separate SDK calls
	// the server cannot link: it sleeps 1 s, which covers Retry-After: 1).
	RetryAfterRetries  int            `json:"retryAfterRetries"`
	RetryAfterViolated int            `json:"retryAfterViolated"`
	Failures           map[string]int `json:"failures,omitempty"`
}

type outageResult struct {
	Length  string                  `json:"length"`
	Clients map[string]clientOutage `json:"clients"`
}

type clientOutage struct {
	Calls    int     `json:"calls"`
	Requests int     `json:"requests"`
	PerCall  float64 `json:"requestsPerCall"`
	// RecoverySeconds is from the outage's end to the first success; absent
	// when none came within the wait cap.
	RecoverySeconds *float64 `json:"recoverySeconds,omitempty"`
}

type throttleResult struct {
	Calls         int            `json:"calls"`
	OK            int            `json:"ok"`
	Requests      int            `json:"requests"`
	Throttled     int            `json:"throttled"`
	Success       float64        `json:"success"`
	WastedPerCall float64        `json:"throttledPerCall"`
	Failures      map[string]int `json:"failures,omitempty"`
}

type createResult struct {
	Calls      int `json:"calls"`
	OK         int `json:"ok"`
	Cases      int `json:"cases"`
	Duplicates int `json:"duplicates"`
	// ToldFailed counts calls that reported failure although their case
	// exists (commit-then-fail the caller was not told about).
	ToldFailed int            `json:"toldFailedButCreated"`
	Failures   map[string]int `json:"failures,omitempty"`
}

type overheadResult struct {
	// Ratios of the kit's median GetCase latency to the bare SDK's, one per
	// round, sorted.
	Ratios []float64 `json:"ratios"`
	Median float64   `json:"median"`
}

type target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
}

func (p *proof) run(ctx context.Context) (*results, error) {
	res := &results{Settings: p.s, Throttle: map[string]throttleResult{}, Create: map[string]createResult{}}
	if err := p.setup(ctx); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}

	if !slices.Contains(p.s.Cells, "rates") {
		p.s.Rates = nil
	}
	if !slices.Contains(p.s.Cells, "outages") {
		p.s.Outages = nil
	}
	agg := map[float64]map[string]*rateAgg{}
	for _, rate := range p.s.Rates {
		agg[rate] = map[string]*rateAgg{}
		for _, name := range clientNames {
			agg[rate][name] = newRateAgg()
		}
	}
	for i := range p.s.Seeds {
		seed := p.s.Seed + int64(i)
		for _, rate := range p.s.Rates {
			if err := p.reseed(ctx, seed); err != nil {
				return nil, err
			}
			cells, err := p.rateCells(ctx, rate)
			if err != nil {
				return nil, fmt.Errorf("%.0f%%, seed %d: %w", rate*100, seed, err)
			}
			var line []string
			for _, name := range clientNames {
				agg[rate][name].add(cells[name])
				line = append(line, fmt.Sprintf("%s %.1f%% at %.2f", name, 100*cells[name].successRate(), cells[name].perCall()))
			}
			p.progress("seed %d, %3.0f%% faults: %s", seed, rate*100, strings.Join(line, "; "))
		}
	}
	for _, rate := range p.s.Rates {
		rr := rateResult{Rate: rate, Clients: map[string]clientRate{}}
		for _, name := range clientNames {
			a := agg[rate][name]
			rr.Clients[name] = clientRate{
				Success: a.successRate(), SuccessMin: slices.Min(a.rates), SuccessMax: slices.Max(a.rates),
				PerCall: a.perCall(), PerCallMin: slices.Min(a.perCalls), PerCallMax: slices.Max(a.perCalls),
				P50: seconds(a.percentile(0.5)), P99: seconds(a.percentile(0.99)),
				RetryAfterRetries: a.raRetries, RetryAfterViolated: a.raViolated, Failures: a.reasons,
			}
		}
		res.Rates = append(res.Rates, rr)
	}

	if err := p.reseed(ctx, p.s.Seed); err != nil {
		return nil, err
	}
	for _, length := range p.s.Outages {
		cells, err := p.outage(ctx, length)
		if err != nil {
			return nil, fmt.Errorf("outage %s: %w", length, err)
		}
		or := outageResult{Length: length.String(), Clients: map[string]clientOutage{}}
		var line []string
		for _, name := range clientNames {
			c := cells[name]
			co := clientOutage{Calls: c.calls, Requests: c.requests, PerCall: c.perCall()}
			rec := "none"
			if !math.IsInf(c.recovery, 1) {
				co.RecoverySeconds = &c.recovery
				rec = fmt.Sprintf("%.2fs", c.recovery)
			}
			or.Clients[name] = co
			line = append(line, fmt.Sprintf("%s %.2f/call, back %s", name, co.PerCall, rec))
		}
		res.Outages = append(res.Outages, or)
		p.progress("outage %s: %s", length, strings.Join(line, "; "))
	}

	for _, name := range clientNames {
		if !slices.Contains(p.s.Cells, "throttle") {
			break
		}
		c, err := p.throttleCell(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("throttling %s: %w", name, err)
		}
		res.Throttle[name] = throttleResult{
			Calls: c.calls, OK: c.ok, Requests: c.requests, Throttled: c.throttled,
			Success: float64(c.ok) / float64(c.calls), WastedPerCall: float64(c.throttled) / float64(c.calls), Failures: c.reasons,
		}
		p.progress("throttling %s: %d/%d succeeded, %d requests, %d throttled", name, c.ok, c.calls, c.requests, c.throttled)
	}

	if slices.Contains(p.s.Cells, "create") {
		if err := p.reseed(ctx, p.s.Seed); err != nil {
			return nil, err
		}
		creates, err := p.createCells(ctx)
		if err != nil {
			return nil, fmt.Errorf("commit-then-fail: %w", err)
		}
		for _, name := range clientNames {
			c := creates[name]
			res.Create[name] = createResult{Calls: c.calls, OK: c.ok, Cases: c.cases, Duplicates: c.duplicates, ToldFailed: c.orphans, Failures: c.reasons}
			p.progress("commit-then-fail %s: %d/%d succeeded, %d cases, %d duplicates, %d told failed but created", name, c.ok, c.calls, c.cases, c.duplicates, c.orphans)
		}
	}

	if slices.Contains(p.s.Cells, "overhead") {
		ratios, err := p.overhead(ctx)
		if err != nil {
			return nil, fmt.Errorf("overhead: %w", err)
		}
		res.Overhead = overheadResult{Ratios: ratios, Median: ratios[len(ratios)/2]}
		p.progress("overhead: kit/bare median latency ratio %.3f (%.3f–%.3f)", res.Overhead.Median, ratios[0], ratios[len(ratios)-1])
	}

	res.Targets = res.targets()
	return res, nil
}

// targets checks the kit against the goals docs/RESILIENCE.md states, on
// the worst seed wherever seeds differ.
func (r *results) targets() []target {
	var out []target
	add := func(name, want, got string, met bool) {
		out = append(out, target{Name: name, Want: want, Got: got, Met: met})
	}
	for _, rr := range r.Rates {
		if rr.Rate > 0.5 {
			continue
		}
		k := rr.Clients[kitName]
		best := 0.0
		for _, n := range []string{naiveName, sdkName, adaptiveName} {
			best = max(best, rr.Clients[n].Success)
		}
		add(fmt.Sprintf("success at %.0f%% faults, pooled", rr.Rate*100), "kit ≥ every other client",
			fmt.Sprintf("kit %s, best other %s", pct(k.Success), pct(best)), k.Success >= best)
		switch rr.Rate {
		case 0.3:
			add("30% faults, worst seed", "≥ 99.5% success at ≤ 1.45 requests per call",
				fmt.Sprintf("%s at %.3f", pct(k.SuccessMin), k.PerCallMax), k.SuccessMin >= 0.995 && k.PerCallMax <= 1.45)
		case 0.5:
			add("50% faults, worst seed", "≥ 90% success at ≤ 2.0 requests per call",
				fmt.Sprintf("%s at %.3f", pct(k.SuccessMin), k.PerCallMax), k.SuccessMin >= 0.90 && k.PerCallMax <= 2.0)
		}
	}
	worstPer, worstRec := 0.0, 0.0
	recovered := true
	for _, o := range r.Outages {
		k := o.Clients[kitName]
		worstPer = max(worstPer, k.PerCall)
		if k.RecoverySeconds == nil {
			recovered = false
		} else {
			worstRec = max(worstRec, *k.RecoverySeconds)
		}
	}
	if len(r.Outages) > 0 {
		add("requests per logical call during a 100% outage, worst length", "≤ 1.05", fmt.Sprintf("%.3f", worstPer), worstPer <= 1.05)
		got := fmt.Sprintf("%.2f s", worstRec)
		if !recovered {
			got = "no success within the wait cap"
		}
		add("first success after the outage ends, worst length", "≤ 1.0 s", got, recovered && worstRec <= 1.0)
	}
	early := 0
	for _, rr := range r.Rates {
		early += rr.Clients[kitName].RetryAfterViolated
	}
	add("retries sooner than Retry-After, all fault-rate cells", "0", fmt.Sprint(early), early == 0)
	if c, ok := r.Create[kitName]; ok {
		add("duplicate cases under commit-then-fail", "0", fmt.Sprint(c.Duplicates), c.Duplicates == 0)
		sdk := r.Create[sdkName]
		add("CreateCase calls told 'failed' although their case exists", "kit ≤ sdk-default",
			fmt.Sprintf("kit %d, sdk-default %d", c.ToldFailed, sdk.ToldFailed), c.ToldFailed <= sdk.ToldFailed)
	}
	if t, ok := r.Throttle[kitName]; ok {
		a := r.Throttle[adaptiveName]
		add("twice the GetCase quota: success and wasted requests", "kit ≥ sdk-adaptive, ≤ its throttled requests per call",
			fmt.Sprintf("kit %s at %.2f throttled/call, sdk-adaptive %s at %.2f", pct(t.Success), t.WastedPerCall, pct(a.Success), a.WastedPerCall),
			t.Success >= a.Success && t.WastedPerCall <= a.WastedPerCall)
	}
	if len(r.Overhead.Ratios) > 0 {
		add("overhead per call with no faults (median of rounds)", "≤ 1.02 × the bare SDK",
			fmt.Sprintf("%.3f (rounds %.3f–%.3f)", r.Overhead.Median, r.Overhead.Ratios[0], r.Overhead.Ratios[len(r.Overhead.Ratios)-1]),
			r.Overhead.Median <= 1.02)
	}
	return out
}

func (r *results) print(w io.Writer) {
	s := r.Settings
	fmt.Fprintf(w, "Seeds %d–%d; %d GetCase calls per client per fault-rate cell and seed, %d concurrent, the clients side by side. Every injected InternalServerException carries Retry-After: %d.\n\n",
		s.Seed, s.Seed+int64(s.Seeds)-1, s.Calls, s.Concurrency, retryAfterSeconds)
	head := func(first string) {
		fmt.Fprintf(w, "| %s |", first)
		for _, n := range clientNames {
			fmt.Fprintf(w, " %s |", n)
		}
		fmt.Fprintf(w, "\n| --- |%s\n", strings.Repeat(" ---: |", len(clientNames)))
	}
	row := func(label string, cell func(name string) string) {
		fmt.Fprintf(w, "| %s |", label)
		for _, n := range clientNames {
			fmt.Fprintf(w, " %s |", cell(n))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Success (pooled; range over seeds):")
	fmt.Fprintln(w)
	head("faults")
	for _, rr := range r.Rates {
		row(fmt.Sprintf("%.0f%%", rr.Rate*100), func(n string) string {
			c := rr.Clients[n]
			return pct(c.Success) + spread(pct(c.SuccessMin), pct(c.SuccessMax))
		})
	}
	fmt.Fprintln(w, "\nRequests per logical call (pooled; range over seeds):")
	fmt.Fprintln(w)
	head("faults")
	for _, rr := range r.Rates {
		row(fmt.Sprintf("%.0f%%", rr.Rate*100), func(n string) string {
			c := rr.Clients[n]
			return fmt.Sprintf("%.3f", c.PerCall) + spread(fmt.Sprintf("%.3f", c.PerCallMin), fmt.Sprintf("%.3f", c.PerCallMax))
		})
	}
	fmt.Fprintln(w, "\nLatency of successful calls, p50 / p99:")
	fmt.Fprintln(w)
	head("faults")
	for _, rr := range r.Rates {
		row(fmt.Sprintf("%.0f%%", rr.Rate*100), func(n string) string {
			return dur(rr.Clients[n].P50) + " / " + dur(rr.Clients[n].P99)
		})
	}
	if len(r.Outages) > 0 {
		fmt.Fprintf(w, "\n100%% GetCase outages, %d calls/s started per client: requests per call during the outage; time from its end to the first success:\n\n", s.Rate)
		head("outage")
		for _, o := range r.Outages {
			row(o.Length, func(n string) string {
				c := o.Clients[n]
				rec := "> " + s.Tail.String()
				if c.RecoverySeconds != nil {
					rec = dur(c.RecoverySeconds)
				}
				return fmt.Sprintf("%.3f; %s", c.PerCall, rec)
			})
		}
	}
	if len(r.Throttle) > 0 {
		fmt.Fprintf(w, "\nTwice GetCase's quota for %s, server enforcing it, %s deadline per call: success; throttled requests per call:\n\n", s.ThrottleFor, s.ThrottleDeadline)
		head("")
		row("GetCase", func(n string) string {
			t := r.Throttle[n]
			return fmt.Sprintf("%s; %.2f", pct(t.Success), t.WastedPerCall)
		})
	}
	if len(r.Create) > 0 {
		fmt.Fprintf(w, "\nCreateCase, %.0f%% commit-then-fail, %d calls per client: succeeded; told failed although created; duplicate cases:\n\n", s.CommitFail*100, s.Creates)
		head("")
		row("CreateCase", func(n string) string {
			c := r.Create[n]
			return fmt.Sprintf("%d; %d; %d", c.OK, c.ToldFailed, c.Duplicates)
		})
	}
	fmt.Fprintln(w, "\nWhy failed calls failed:")
	var thr []string
	for _, n := range clientNames {
		if t, ok := r.Throttle[n]; ok && len(t.Failures) > 0 {
			thr = append(thr, n+": "+reasonText(t.Failures))
		}
	}
	if len(thr) > 0 {
		fmt.Fprintf(w, "- throttling: %s\n", strings.Join(thr, "; "))
	}
	for _, rr := range r.Rates {
		var parts []string
		for _, n := range clientNames {
			if f := rr.Clients[n].Failures; len(f) > 0 {
				parts = append(parts, n+": "+reasonText(f))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "- %.0f%%: %s\n", rr.Rate*100, strings.Join(parts, "; "))
		}
	}
	fmt.Fprintln(w, "\nKit targets:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | want | got | met |")
	fmt.Fprintln(w, "| --- | --- | --- | :---: |")
	for _, t := range r.Targets {
		met := "yes"
		if !t.Met {
			met = "**no**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.Name, t.Want, t.Got, met)
	}
	fmt.Fprintf(w, "\n%s, %s; run took %s.\n", r.Machine, r.Date, r.Elapsed)
}

func spread(lo, hi string) string {
	if lo == hi {
		return ""
	}
	return " (" + lo + "–" + hi + ")"
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

// seconds keeps NaN (no data) out of the JSON, which cannot carry it.
func seconds(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

func dur(p *float64) string {
	if p == nil {
		return "n/a"
	}
	v := *p
	d := time.Duration(v * float64(time.Second))
	switch {
	case d < time.Millisecond:
		return "< 1 ms"
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
