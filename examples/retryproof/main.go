// Command retryproof measures, in one run and side by side, how four
// Connect Cases clients cope with faults injected by an in-process
// localcases server, and draws the result:
//
//   - naive: SDK retries off, and a loop of 3 tries with a 1 s sleep
//     between them, the input built once per logical call;
//   - sdk-default: the SDK's standard retryer, as every client has it;
//   - sdk-adaptive: the SDK's adaptive retry mode (AWS_RETRY_MODE=adaptive);
//   - kit: resilience.WithDefaults().
//
// It sweeps InternalServerException rates on GetCase (every injected error
// carries Retry-After: 1), runs 100% outages of several lengths, offers
// twice GetCase's documented quota with the server enforcing it, makes
// CreateCase calls while a share of them commit and then fail, and times
// the kit's overhead with no faults. Then it checks the kit against its
// targets and writes a table, JSON and a PNG chart.
//
// Usage:
//
//	go run ./examples/retryproof                       # the full run, about 15 minutes
//	go run ./examples/retryproof -quick                # about 3 minutes, fewer calls
//	go run ./examples/retryproof -chart docs/retryproof.png -json > proof.json
//
// Fault decisions are seeded (-seed, -seeds): a cell's rules and scenario
// replay the same random stream for the same seed. What varies between runs
// is the interleaving of concurrent calls and the clients' own jitter, so
// the docs report ranges over several runs.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/localcases/localcases/localcasestest"
	"github.com/localcases/localcases/resilience"
)

// settings are the knobs of a run; all of them are printed with the results.
type settings struct {
	Seed             int64           `json:"seed"`
	Seeds            int             `json:"seeds"`
	Calls            int             `json:"callsPerCell"`
	Concurrency      int             `json:"concurrency"`
	Rates            []float64       `json:"faultRates"`
	Outages          []time.Duration `json:"outages"`
	Rate             int             `json:"outageCallsPerSecond"`
	Tail             time.Duration   `json:"recoveryWaitCap"`
	Creates          int             `json:"createCalls"`
	CommitFail       float64         `json:"commitThenFail"`
	ThrottleFor      time.Duration   `json:"throttleFor"`
	ThrottleDeadline time.Duration   `json:"throttleCallDeadline"`
	OverheadRounds   int             `json:"overheadRounds"`
	OverheadCalls    int             `json:"overheadCallsPerRound"`
	// Kit lists the options added to resilience.WithDefaults(), if any.
	Kit string `json:"kitOptions,omitempty"`
	// Cells are the measurements run (-cells).
	Cells []string `json:"cells"`
	// Variants are the kit variants measured beside it.
	Variants []string `json:"variants,omitempty"`
}

func main() {
	s := settings{
		Rates:   []float64{0, 0.05, 0.20, 0.30, 0.50, 0.70, 1},
		Outages: []time.Duration{17 * time.Second, 20 * time.Second, 21 * time.Second, 23 * time.Second},
	}
	quick := flag.Bool("quick", false, "a shorter run: 1 seed, 100 calls per cell, one 5 s outage, 50 creates, 5 s of throttling")
	asJSON := flag.Bool("json", false, "print the results as JSON on stdout (the table goes to stderr)")
	chart := flag.String("chart", "", "write the chart to this PNG file")
	replot := flag.String("replot", "", "draw -chart from this earlier -json output instead of measuring")
	flag.Int64Var(&s.Seed, "seed", 1, "first server fault seed")
	flag.IntVar(&s.Seeds, "seeds", 2, "fault-rate cells are repeated with seeds seed, seed+1, …")
	flag.IntVar(&s.Calls, "calls", 300, "logical calls per client in each fault-rate cell")
	flag.IntVar(&s.Concurrency, "concurrency", 8, "concurrent callers per client in the fault-rate and CreateCase cells")
	flag.IntVar(&s.Rate, "rate", 20, "logical calls per second each client starts during an outage")
	flag.DurationVar(&s.Tail, "recovery-wait", 10*time.Second, "how long after an outage to wait for each client's first success")
	flag.IntVar(&s.Creates, "creates", 200, "CreateCase calls per client in the commit-then-fail cell")
	flag.Float64Var(&s.CommitFail, "commit-fail", 0.3, "share of CreateCase requests that commit and then fail")
	flag.DurationVar(&s.ThrottleFor, "throttle-for", 15*time.Second, "how long each client offers twice the GetCase quota")
	flag.DurationVar(&s.ThrottleDeadline, "throttle-deadline", 10*time.Second, "deadline of each call in the throttling cell")
	flag.IntVar(&s.OverheadRounds, "overhead-rounds", 10, "rounds of the no-fault overhead comparison")
	flag.IntVar(&s.OverheadCalls, "overhead-calls", 200, "sequential calls per client in each overhead round")
	outages := flag.String("outages", "17s,20s,21s,23s", "comma-separated lengths of the 100% outages")
	cells := flag.String("cells", "rates,outages,throttle,create,overhead", "which measurements to run, comma-separated")
	rates := flag.String("rates", "0,5,20,30,50,70,100", "comma-separated InternalServerException rates, in percent")
	// What-if knobs for the kit; the published figures use none.
	kitAttempts := flag.Int("kit-attempts", 0, "kit: WithMaxAttempts (0: default)")
	kitBudget := flag.Float64("kit-budget", 0, "kit: WithRetryBudget ratio, default reserve (0: default; <0: off)")
	kitBreaker := flag.Bool("kit-breaker", false, "kit: WithBreaker(BreakerSettings{}) (the defaults)")
	withVariants := flag.String("variants", "kit+breaker,kit+shedding", "comma-separated kit variants measured beside the default (\"\" for none)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("retryproof: ")

	if *replot != "" {
		if err := redraw(*replot, *chart); err != nil {
			log.Fatal(err)
		}
		return
	}
	var err error
	if s.Outages, err = parseDurations(*outages); err != nil {
		log.Fatal(err)
	}
	if s.Rates, err = parsePercents(*rates); err != nil {
		log.Fatal(err)
	}
	for _, c := range strings.Split(*cells, ",") {
		switch c = strings.TrimSpace(c); c {
		case "rates", "outages", "throttle", "create", "overhead":
			s.Cells = append(s.Cells, c)
		default:
			log.Fatalf("-cells: unknown %q (want rates, outages, throttle, create, overhead)", c)
		}
	}
	if *quick {
		setIfDefault := func(name string, set func()) {
			if !flagSet(name) {
				set()
			}
		}
		setIfDefault("seeds", func() { s.Seeds = 1 })
		setIfDefault("calls", func() { s.Calls = 100 })
		setIfDefault("outages", func() { s.Outages = []time.Duration{5 * time.Second} })
		setIfDefault("creates", func() { s.Creates = 50 })
		setIfDefault("throttle-for", func() { s.ThrottleFor = 5 * time.Second })
		setIfDefault("overhead-rounds", func() { s.OverheadRounds = 4 })
	}
	if s.Seeds < 1 || s.Calls < 1 || s.Concurrency < 1 || s.Rate < 1 || s.Creates < 1 ||
		s.OverheadRounds < 1 || s.OverheadCalls < 1 || s.ThrottleFor <= 0 {
		log.Fatal("counts and durations must be positive")
	}
	var kitOpts []resilience.Option
	var kitDesc []string
	if *kitAttempts > 0 {
		kitOpts = append(kitOpts, resilience.WithMaxAttempts(*kitAttempts))
		kitDesc = append(kitDesc, fmt.Sprintf("WithMaxAttempts(%d)", *kitAttempts))
	}
	if *kitBudget != 0 {
		kitOpts = append(kitOpts, resilience.WithRetryBudget(*kitBudget, 0))
		kitDesc = append(kitDesc, fmt.Sprintf("WithRetryBudget(%g, 10)", *kitBudget))
	}
	if *kitBreaker {
		kitOpts = append(kitOpts, resilience.WithBreaker(resilience.BreakerSettings{}))
		kitDesc = append(kitDesc, "WithBreaker(defaults)")
	}
	s.Kit = strings.Join(kitDesc, ", ")
	for _, v := range strings.Split(*withVariants, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if _, ok := variants[v]; !ok {
			log.Fatalf("-variants: unknown %q", v)
		}
		clientNames = append(clientNames, v)
		s.Variants = append(s.Variants, v)
	}

	table := io.Writer(os.Stdout)
	if *asJSON {
		table = os.Stderr
	}
	command := "go run ./examples/retryproof" + quoteArgs(os.Args[1:])
	fmt.Fprintf(table, "$ %s\n\n", command)

	ctx := context.Background()
	srv, err := localcasestest.Start(localcasestest.WithSeed(s.Seed))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	p := &proof{s: s, url: srv.URL(), admin: srv.Admin(), start: time.Now(), kitOpts: kitOpts}
	res, err := p.run(ctx)
	if err != nil {
		log.Fatal(err)
	}
	res.Command = command
	res.Machine = fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	res.Date = time.Now().UTC().Format("2006-01-02")
	res.Elapsed = time.Since(p.start).Round(time.Second).String()
	res.print(table)
	if *chart != "" {
		if err := res.chart(*chart); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(table, "chart: %s\n", *chart)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			log.Fatal(err)
		}
	}
}

// redraw draws the chart of an earlier run from its JSON.
func redraw(from, to string) error {
	if to == "" {
		return fmt.Errorf("-replot needs -chart")
	}
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	clientNames = append(clientNames, res.Settings.Variants...)
	return res.chart(to)
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func parseDurations(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("-outages: %q is not a positive duration", f)
		}
		out = append(out, d)
	}
	return out, nil
}

func parsePercents(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		var v float64
		if _, err := fmt.Sscan(strings.TrimSpace(f), &v); err != nil || v < 0 || v > 100 {
			return nil, fmt.Errorf("-rates: %q is not a percentage", f)
		}
		out = append(out, v/100)
	}
	return out, nil
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
