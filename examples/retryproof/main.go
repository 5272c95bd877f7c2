// Command retryproof measures, in one run and side by side, how three
// Connect Cases clients cope with faults injected by an in-process
// localcases server:
//
//   - naive: SDK retries off (aws.NopRetryer) and a loop of three attempts
//     with no backoff around each call, rebuilding the input each time;
//   - sdk-default: the SDK's default standard retryer (3 attempts, its own
//     backoff and retry-token bucket);
//   - kit: resilience.WithDefaults().
//
// Usage:
//
//	go run ./examples/retryproof            # full run, ~2.5 minutes
//	go run ./examples/retryproof -quick     # < 1 minute: 2 seeds, 100 calls, 5 s outage
//	go run ./examples/retryproof -json      # JSON on stdout (the table goes to stderr)
//
// Every injected InternalServerException carries Retry-After: 1. Faults are
// seeded (-seed): each client meets the same sequence of fault decisions,
// because every cell resets the server and reinstalls its rule, whose random
// stream depends only on the seed and the rule ID. Only the interleaving of
// concurrent calls and the clients' own jitter vary between runs.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/resilience"
)

// settings are the knobs of a run; all of them are printed with the results.
type settings struct {
	Seed        int64         `json:"seed"`
	Seeds       int           `json:"seeds"`
	Calls       int           `json:"callsPerCell"`
	Concurrency int           `json:"concurrency"`
	Outage      time.Duration `json:"outage"`
	Rate        int           `json:"outageCallsPerSecond"`
	Tail        time.Duration `json:"recoveryWaitCap"`
	Creates     int           `json:"createCalls"`
	// Kit lists the -kit-* options added to resilience.WithDefaults(), if any.
	Kit string `json:"kitOptions,omitempty"`
}

// MarshalJSON writes durations as Go duration strings ("30s").
func (s settings) MarshalJSON() ([]byte, error) {
	type plain settings
	return json.Marshal(struct {
		plain
		Outage string `json:"outage"`
		Tail   string `json:"recoveryWaitCap"`
	}{plain(s), s.Outage.String(), s.Tail.String()})
}

func main() {
	var s settings
	quick := flag.Bool("quick", false, "a run under a minute: 2 seeds, 100 calls per cell, 5s outage, 100 creates")
	asJSON := flag.Bool("json", false, "print the results as JSON on stdout (the table goes to stderr)")
	flag.Int64Var(&s.Seed, "seed", 1, "first server fault seed")
	flag.IntVar(&s.Seeds, "seeds", 10, "fault-rate cells are repeated with seeds seed, seed+1, …")
	flag.IntVar(&s.Calls, "calls", 300, "logical calls per client in each fault-rate cell")
	flag.IntVar(&s.Concurrency, "concurrency", 8, "concurrent callers per client in the fault-rate and duplicate cells")
	flag.DurationVar(&s.Outage, "outage", 30*time.Second, "length of the 100% outage")
	flag.IntVar(&s.Rate, "rate", 20, "logical calls per second each client starts during the outage")
	flag.DurationVar(&s.Tail, "recovery-wait", 35*time.Second, "how long after the outage to wait for each client's first success")
	flag.IntVar(&s.Creates, "creates", 200, "CreateCase calls per client in the duplicate cell")
	// What-if knobs for the kit; the published table uses none.
	kitConsecutive := flag.Uint("kit-consecutive", 0, "kit: BreakerSettings.ConsecutiveFailures (0: default)")
	kitOpenFor := flag.Duration("kit-open-for", 0, "kit: BreakerSettings.OpenFor (0: default)")
	kitBudget := flag.Float64("kit-budget", 0, "kit: WithRetryBudget ratio, floor 10, window 10s (0: default; <0: off)")
	flag.Parse()
	if *quick {
		setIfDefault := func(name string, set func()) {
			if !flagSet(name) {
				set()
			}
		}
		setIfDefault("seeds", func() { s.Seeds = 2 })
		setIfDefault("calls", func() { s.Calls = 100 })
		setIfDefault("outage", func() { s.Outage = 5 * time.Second })
		setIfDefault("creates", func() { s.Creates = 100 })
	}
	if s.Seeds < 1 || s.Calls < 1 || s.Concurrency < 1 || s.Rate < 1 || s.Creates < 1 || s.Outage <= 0 {
		log.Fatal("-seeds, -calls, -concurrency, -rate, -creates and -outage must be positive")
	}
	log.SetFlags(0)
	log.SetPrefix("retryproof: ")
	var kitOpts []resilience.Option
	var kitDesc []string
	if *kitConsecutive > 0 || *kitOpenFor > 0 {
		kitOpts = append(kitOpts, resilience.WithBreaker(resilience.BreakerSettings{
			ConsecutiveFailures: uint32(*kitConsecutive), OpenFor: *kitOpenFor,
		}))
		if *kitConsecutive > 0 {
			kitDesc = append(kitDesc, fmt.Sprintf("ConsecutiveFailures %d", *kitConsecutive))
		}
		if *kitOpenFor > 0 {
			kitDesc = append(kitDesc, fmt.Sprintf("OpenFor %s", *kitOpenFor))
		}
	}
	if *kitBudget != 0 {
		kitOpts = append(kitOpts, resilience.WithRetryBudget(*kitBudget, 10, 10*time.Second))
		kitDesc = append(kitDesc, fmt.Sprintf("retry budget ratio %g", *kitBudget))
	}
	s.Kit = strings.Join(kitDesc, ", ")

	table := io.Writer(os.Stdout)
	if *asJSON {
		table = os.Stderr
	}
	command := "go run ./examples/retryproof" + quoteArgs(os.Args[1:])
	fmt.Fprintf(table, "$ %s\n\n", command)

	ctx := context.Background()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Memory = true
	cfg.Seed = s.Seed
	srv, err := server.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		log.Fatal(err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(cctx)
	}()

	p := &proof{s: s, url: srv.URL(), admin: admin.NewClient(srv.URL()), start: time.Now(), kitOpts: kitOpts}
	res, err := p.run(ctx)
	if err != nil {
		log.Fatal(err)
	}
	res.Command = command
	res.Machine = fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	res.Elapsed = time.Since(p.start).Round(time.Second).String()
	res.print(table)
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			log.Fatal(err)
		}
	}
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func quoteArgs(args []string) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteByte(' ')
		if a == "" || strings.ContainsAny(a, " \t'\"$\\*?") {
			b.WriteString("'" + strings.ReplaceAll(a, "'", `'\''`) + "'")
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}

// results is what the run prints: one row per metric, one value per client.
type results struct {
	Command  string   `json:"command"`
	Machine  string   `json:"machine"`
	Elapsed  string   `json:"elapsed"`
	Settings settings `json:"settings"`
	Rows     []row    `json:"rows"`
	Notes    []string `json:"notes"`
}

type row struct {
	Metric string `json:"metric"`
	// Better is "higher" or "lower"; "" for rows that are context only.
	Better string `json:"better,omitempty"`
	// Values by client name; NaN is printed as "n/a" and omitted in JSON.
	Values  map[string]float64 `json:"values"`
	Display map[string]string  `json:"display"`
	// KitWins is "yes", "tie" or "no" (kit best, tied with the best, or not).
	KitWins string `json:"kitWins,omitempty"`
}

func newRow(metric, better string, format func(float64) string, values map[string]float64) row {
	r := row{Metric: metric, Better: better, Values: map[string]float64{}, Display: map[string]string{}}
	for k, v := range values {
		r.Display[k] = format(v)
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			r.Values[k] = v
		}
	}
	if better != "" {
		r.KitWins = verdict(r, better)
	}
	return r
}

// verdict compares the displayed values, so that two numbers that print
// the same are a tie.
func verdict(r row, better string) string {
	kit, ok := r.Values[kitName]
	if !ok {
		return "no"
	}
	tie := false
	for _, name := range clientNames {
		if name == kitName {
			continue
		}
		v, ok := r.Values[name]
		if !ok {
			continue
		}
		switch {
		case r.Display[name] == r.Display[kitName]:
			tie = true
		case better == "higher" && v > kit, better == "lower" && v < kit:
			return "no"
		}
	}
	if tie {
		return "tie"
	}
	return "yes"
}

func (r *results) print(w io.Writer) {
	s := r.Settings
	fmt.Fprintf(w, "Seeds %d–%d; %d calls per client per fault-rate cell and seed, %d concurrent; a %s outage at %d calls/s per client; %d CreateCase calls per client. Every injected InternalServerException carries Retry-After: 1.\n\n",
		s.Seed, s.Seed+int64(s.Seeds)-1, s.Calls, s.Concurrency, s.Outage, s.Rate, s.Creates)
	kit := "kit (resilience.WithDefaults)"
	if s.Kit != "" {
		kit = "kit (WithDefaults + " + s.Kit + ")"
	}
	fmt.Fprintf(w, "| Metric | naive (3 tries, no backoff) | sdk-default (standard retryer) | %s | kit wins? |\n", kit)
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | :---: |\n")
	for _, row := range r.Rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", row.Metric,
			row.Display[naiveName], row.Display[sdkName], row.Display[kitName], orDash(row.KitWins))
	}
	fmt.Fprintln(w)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	fmt.Fprintf(w, "\n%s; run took %s.\n", r.Machine, r.Elapsed)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func ratio(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

func count(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", v)
}

func dur(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case math.IsInf(v, 1):
		return "never"
	}
	d := time.Duration(v * float64(time.Second))
	switch {
	case d < time.Millisecond: // differences below are noise here
		return "< 1 ms"
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
