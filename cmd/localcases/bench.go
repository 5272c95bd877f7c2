package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/localcases/localcases/bench"
)

type benchFlags struct {
	url, store, data, region  string
	export                    string
	op, mix, domainID         string
	concurrency, seedCases    int
	servers                   int
	requests                  int64
	rate                      float64
	duration, timeout         time.Duration
	ceiling, jsonOut, noProgr bool
	events                    bool
	eventPairs                int
	serveCeiling, answer      string
}

func (m *Main) benchCommand() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput, latency and memory of a localcases server",
		Long: `Measure throughput, latency percentiles, errors and memory of a localcases server.

bench starts a server in this process (--store memory, sqlite or a
postgres:// URL), or drives one that is already running on this machine (--url;
other hosts are refused). It seeds what
the workload needs through the API (a "localcases-bench" domain, two custom
fields, a template and --seed-cases cases, each only if needed, reusing what a
previous run left), then sends signed requests from --concurrency workers until
--duration or --requests runs out, printing a progress line every second on
stderr.

--events runs the workload a second time with the domain's case events on
and one webhook sink, served by bench itself, taking every event; it prints
the throughput next to the first run's, the deliveries per second and how
long each event took from its change to the webhook.

--ceiling also runs the same requests against a bare net/http server in this
process that only decodes each request into the operation's input type and
encodes a fixed copy of localcases' own answer, and prints both results side
by side with the ratio localcases / ceiling. --serve-ceiling ADDR serves that
bare server for a load generator outside this process, such as wrk: it
answers --op with the body in --ceiling-answer until interrupted, and
measures nothing itself.

--servers 2 (or more) starts that many in-process servers on the one
PostgreSQL database of --store, each with its own store and connection
pool, and spreads the workers over them evenly, as a load balancer would.

With --store sqlite the database goes in --data, or in a temporary directory
removed afterwards so every run starts empty.

Operations: ` + strings.Join(bench.Operations(), ", ") + `.
The cases plane (CreateCase, GetCase, UpdateCase, SearchCases) is driven
against the API model; a server that does not implement it answers 501
NotImplementedException and the seeding step says so.

Every flag can also be set through LOCALCASES_ and the flag name in upper
case with dashes as underscores (LOCALCASES_CONCURRENCY, ...).`,
		Example: `  localcases bench --op GetDomain --concurrency 50 --duration 10s --ceiling
  localcases bench --mix GetCase=60,SearchCases=20,UpdateCase=15,CreateCase=5 --seed-cases 10000
  localcases bench --url http://127.0.0.1:4599 --op ListFields --rate 2000 --duration 30s --json
  localcases bench --store sqlite --op CreateCase --events
  localcases bench --store postgres://127.0.0.1:5432/test --servers 2 --op CreateCase --concurrency 32`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := applyEnv(cmd.Flags(), m.Getenv); err != nil {
				return err
			}
			if f.serveCeiling != "" {
				return f.runCeiling(cmd)
			}
			cfg, err := f.config(cmd)
			if err != nil {
				return err
			}
			if !f.noProgr {
				cfg.Progress = cmd.ErrOrStderr()
			}
			// A bar while seeding, on a terminal only: 10,000 cases take
			// seconds, 100,000 minutes, and the measuring lines start after.
			if !f.noProgr && isTerminal(cmd.ErrOrStderr()) {
				var bar *progressbar.ProgressBar
				cfg.SeedProgress = func(done, total int) {
					if bar == nil {
						bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
							progressbar.OptionSetDescription("seeding cases"), progressbar.OptionShowCount(),
							progressbar.OptionShowIts(), progressbar.OptionSetItsString("cases"),
							progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
					}
					bar.Set(done)
				}
			}
			res, runErr := bench.Run(cmd.Context(), cfg)
			if res.Localcases.Requests == 0 && runErr != nil {
				return runErr
			}
			// An interrupted run still reports what it measured.
			if f.jsonOut {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else if err := bench.WriteText(cmd.OutOrStdout(), res); err != nil {
				return err
			}
			return runErr
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.url, "url", "", "drive a running server on this machine (http://127.0.0.1:4599); empty starts one in-process")
	fs.StringVar(&f.store, "store", "memory", "in-process engine: memory, sqlite, or a postgres:// URL")
	fs.StringVar(&f.data, "data", "", "SQLite directory for --store sqlite (default: a temporary directory, removed after the run)")
	fs.StringVar(&f.region, "region", "us-east-1", "Region to sign requests for (and of the in-process server)")
	fs.StringVar(&f.op, "op", "", "run a single operation, e.g. GetDomain")
	fs.StringVar(&f.mix, "mix", "", "run a weighted mix, e.g. GetCase=60,SearchCases=20,UpdateCase=15,CreateCase=5")
	fs.StringVar(&f.domainID, "domain-id", "", `use this existing domain instead of finding or creating "localcases-bench"`)
	fs.IntVar(&f.concurrency, "concurrency", 16, "workers, each with one request in flight")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "how long to measure (with --requests, whichever ends first)")
	fs.Int64Var(&f.requests, "requests", 0, "how many requests to send (0: no limit; alone, it replaces the default duration)")
	fs.Float64Var(&f.rate, "rate", 0, "open loop: send this many requests per second on a fixed schedule (0: closed loop, as fast as answered)")
	fs.StringVar(&f.export, "export", "", "write the server's state, once seeded, to this file (a snapshot for localcases import)")
	fs.IntVar(&f.servers, "servers", 1, "in-process servers sharing the one database of --store postgres://..., the workers spread over them")
	fs.IntVar(&f.seedCases, "seed-cases", 1000, "cases for workloads that read or update cases; the domain's bench-template cases from earlier runs are reused, only the rest created")
	fs.BoolVar(&f.ceiling, "ceiling", false, "also measure a bare net/http + encoding/json server and print the ratio")
	fs.StringVar(&f.serveCeiling, "serve-ceiling", "", "only serve the ceiling on this address (127.0.0.1:4700) for another load generator, until interrupted; needs --op and --ceiling-answer")
	fs.StringVar(&f.answer, "ceiling-answer", "", "with --serve-ceiling: a file holding a body localcases answered --op with, which the ceiling sends back")
	fs.BoolVar(&f.events, "events", false, "measure again with the domain's case events on and a webhook sink (served by bench) taking them: the throughput ratio, deliveries/s and delivery lag")
	fs.IntVar(&f.eventPairs, "event-pairs", 1, "with --events: how many groups of four rounds (on, off, off, on) to run; each round lasts --duration")
	fs.BoolVar(&f.jsonOut, "json", false, "print the result as JSON")
	fs.BoolVar(&f.noProgr, "quiet", false, "no progress lines on stderr")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "per-request timeout")
	return cmd
}

// runCeiling is --serve-ceiling.
func (f *benchFlags) runCeiling(cmd *cobra.Command) error {
	if f.op == "" || f.answer == "" {
		return fmt.Errorf("--serve-ceiling needs --op and --ceiling-answer")
	}
	answer, err := os.ReadFile(f.answer)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "ceiling for %s on http://%s\n", f.op, f.serveCeiling)
	return bench.ServeCeiling(cmd.Context(), f.serveCeiling, f.op, answer)
}

func (f *benchFlags) config(cmd *cobra.Command) (bench.Config, error) {
	w, err := bench.ParseWorkload(f.op, f.mix)
	if err != nil {
		return bench.Config{}, err
	}
	cfg := bench.Config{
		URL: f.url, Region: f.region, Workload: w, DomainID: f.domainID,
		Concurrency: f.concurrency, Requests: f.requests, Rate: f.rate,
		SeedCases: f.seedCases, Ceiling: f.ceiling, Duration: f.duration, Timeout: f.timeout,
		Events: f.events, EventPairs: f.eventPairs, Servers: f.servers, ExportTo: f.export,
	}
	fs := cmd.Flags()
	// --store has a default for the help text; only a chosen value is
	// passed on, so that --url with the default is not a conflict.
	if fs.Changed("store") {
		cfg.Store = f.store
	}
	cfg.DataDir = f.data
	if f.concurrency <= 0 {
		return cfg, fmt.Errorf("--concurrency must be at least 1")
	}
	if f.seedCases < 0 {
		return cfg, fmt.Errorf("--seed-cases must not be negative")
	}
	// --requests alone means "exactly N requests", not "N requests or ten
	// seconds, whichever first".
	if !fs.Changed("duration") && fs.Changed("requests") {
		cfg.Duration = 0
	}
	if cfg.Duration < 0 || f.requests < 0 || f.rate < 0 {
		return cfg, fmt.Errorf("--duration, --requests and --rate must not be negative")
	}
	return cfg, nil
}
