// Package bench is localcases' load generator: it seeds the state a workload
// needs, drives a server with signed raw HTTP requests from a fixed number of
// workers, and reports throughput, latency percentiles, errors by type and
// the server's memory. With Ceiling it also drives a bare net/http server
// that does only the JSON decode and encode of the same operations, so the
// report says how far localcases is from what the machine can do.
//
// `localcases bench` is the command line over Run; tests call Run directly.
package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/internal/server"
)

// Config is one benchmark run. The zero value of every field but Workload
// has a usable default.
type Config struct {
	// URL drives a server that is already running; it must be on this
	// machine. Empty starts one in-process.
	URL string
	// Store is the in-process server's engine: "memory" (default),
	// "sqlite", or a postgres:// URL (server.Config.StoreURL).
	Store string
	// DataDir is the SQLite engine's directory. Empty: a temporary
	// directory removed after the run, so each run starts from an empty
	// database instead of one grown by earlier runs.
	DataDir string
	// Region signs requests and names the in-process server's Region.
	// Default us-east-1.
	Region string
	// AccessKeyID and SecretAccessKey sign requests. Default test/test.
	AccessKeyID, SecretAccessKey string

	// Workload is the operations to send and their weights (ParseWorkload).
	Workload []OpWeight
	// Concurrency is the number of workers, each with at most one request in
	// flight. Default 16.
	Concurrency int
	// Duration and Requests bound the measurement; whichever comes first
	// ends it. Both zero: 10 seconds.
	Duration time.Duration
	Requests int64
	// Rate, if > 0, sends requests on a fixed schedule of Rate per second
	// (open loop) instead of as fast as the workers get answers, and
	// measures latency from each request's scheduled time, so a server that
	// falls behind shows it in the percentiles rather than hiding it.
	Rate float64
	// SeedCases is how many cases workloads that read or update cases work
	// on. Cases of the bench template that the domain already holds (from
	// an earlier run) are reused; only the rest are created before
	// measuring. Default 1000.
	SeedCases int
	// DomainID uses an existing domain instead of finding or creating the
	// "localcases-bench" one (a server at its domain quota needs this).
	DomainID string
	// Ceiling also drives a bare net/http server with the same requests and
	// reports both.
	Ceiling bool
	// Timeout bounds each request. Default 30s.
	Timeout time.Duration
	// Servers is how many in-process servers share the one PostgreSQL
	// database of Store; the workers are spread over them evenly, as a
	// load balancer would. Default 1; more needs a postgres:// Store.
	Servers int
	// ExportTo, if set, receives the server's whole state (a snapshot for
	// localcases import) once seeding is done, before measuring: the way
	// to make a snapshot of SeedCases cases.
	ExportTo string
	// Events measures the workload a second time with the domain's case
	// events on and one webhook sink (served by the bench) taking them,
	// and reports the throughput ratio and the deliveries (EventsResult).
	Events bool
	// EventPairs is how many times the Events rounds run in the order on,
	// off, off, on (default 1). More, shorter rounds let the machine's
	// changing load fall on both arms alike; each group's own ratio is
	// reported, so the spread shows.
	EventPairs int

	// SeedProgress, if set, is called as seeding creates cases, with the
	// number created so far and the number to create; calls may come from
	// several goroutines but never concurrently.
	SeedProgress func(done, total int)

	// Progress, if set, receives a line per ProgressInterval (default 1s).
	Progress         io.Writer
	ProgressInterval time.Duration

	runID string
}

func (c *Config) defaults() error {
	if len(c.Workload) == 0 {
		return fmt.Errorf("no workload: set Workload (see ParseWorkload)")
	}
	for _, w := range c.Workload {
		if _, ok := catalogue[w.Op]; !ok {
			return unknownOp(w.Op)
		}
		if w.Weight <= 0 {
			return fmt.Errorf("weight of %s must be > 0", w.Op)
		}
	}
	if c.Store == "" {
		c.Store = "memory"
	}
	if c.URL != "" {
		if _, err := checkLoopback(c.URL); err != nil {
			return err
		}
		if c.DataDir != "" || c.Store != "memory" {
			return fmt.Errorf("--store and --data configure the in-process server; they do not apply with --url")
		}
	} else {
		switch {
		case c.Store == "memory" || c.Store == "sqlite":
		case strings.HasPrefix(c.Store, "postgres://") || strings.HasPrefix(c.Store, "postgresql://"):
		default:
			return fmt.Errorf("--store %q: want memory, sqlite or a postgres:// URL", c.Store)
		}
		if c.DataDir != "" && c.Store != "sqlite" {
			return fmt.Errorf("--data is the SQLite engine's directory; it needs --store sqlite")
		}
	}
	if c.Servers == 0 {
		c.Servers = 1
	}
	if c.Servers < 0 {
		return fmt.Errorf("servers must be at least 1")
	}
	if c.Servers > 1 && (c.URL != "" || !strings.HasPrefix(c.Store, "postgres")) {
		return fmt.Errorf("--servers above 1 starts servers sharing one database; it needs --store with a postgres:// URL")
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.AccessKeyID == "" {
		c.AccessKeyID, c.SecretAccessKey = "test", "test"
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.Duration < 0 || c.Requests < 0 || c.Rate < 0 {
		return fmt.Errorf("duration, requests and rate must not be negative")
	}
	if c.Duration == 0 && c.Requests == 0 {
		c.Duration = 10 * time.Second
	}
	if c.SeedCases == 0 {
		c.SeedCases = 1000
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = time.Second
	}
	var b [4]byte
	rand.Read(b[:])
	c.runID = hex.EncodeToString(b[:])
	return nil
}

// Result is a whole run: the settings, what seeding did, and the
// measurements.
type Result struct {
	Workload     string       `json:"workload"`
	Mix          []OpWeight   `json:"mix"`
	Concurrency  int          `json:"concurrency"`
	Mode         string       `json:"mode"` // "closed-loop" or "open-loop"
	TargetRate   float64      `json:"targetRate,omitempty"`
	LimitSeconds float64      `json:"limitSeconds,omitempty"`
	LimitReqs    int64        `json:"limitRequests,omitempty"`
	Server       ServerInfo   `json:"server"`
	Machine      Machine      `json:"machine"`
	Seed         Seed         `json:"seed"`
	Localcases   Measurement  `json:"localcases"`
	Ceiling      *Measurement `json:"ceiling,omitempty"`
	// Ratio is localcases / ceiling for each metric.
	Ratio *Ratio `json:"ratio,omitempty"`
	// Events is the measurement with case events on (Config.Events).
	Events *EventsResult `json:"events,omitempty"`
}

// ServerInfo says what was measured.
type ServerInfo struct {
	URL       string `json:"url"`
	InProcess bool   `json:"inProcess"`
	// Servers is how many in-process servers shared the database.
	Servers int    `json:"servers,omitempty"`
	Store   string `json:"store"`
	Version string `json:"version,omitempty"`
}

// Machine is where the run happened.
type Machine struct {
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"goVersion"`
}

// Measurement is one measurement against one server.
type Measurement struct {
	Seconds   float64 `json:"seconds"`
	Requests  int64   `json:"requests"`
	Successes int64   `json:"successes"`
	Errors    int64   `json:"errors"`
	// Throughput is completed requests (successes and errors) per second.
	Throughput   float64          `json:"throughput"`
	Latency      Latency          `json:"latency"`
	ErrorsByType map[string]int64 `json:"errorsByType"`
	Ops          []OpMeasurement  `json:"ops"`
	RSS          RSS              `json:"rss"`
	CPU          CPU              `json:"cpu"`
	// Timeline has one point per ProgressInterval: a server that slows
	// down as it fills up shows it here, not in the run's averages.
	Timeline []Point `json:"timeline"`
	// Uncaptured lists operations for which localcases gave the ceiling no
	// 2xx answer to replay; the ceiling answers those with an empty output.
	Uncaptured []string `json:"uncaptured,omitempty"`
}

// Point is the state of a measurement at one moment.
type Point struct {
	Seconds float64 `json:"seconds"`
	// Requests and Errors are cumulative; Throughput is over the interval
	// since the previous point.
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	Throughput float64 `json:"throughput"`
	RSSBytes   int64   `json:"rssBytes"`
}

// OpMeasurement is one operation's share of a Measurement.
type OpMeasurement struct {
	Op           string           `json:"op"`
	Requests     int64            `json:"requests"`
	Successes    int64            `json:"successes"`
	Errors       int64            `json:"errors"`
	Latency      Latency          `json:"latency"`
	ErrorsByType map[string]int64 `json:"errorsByType,omitempty"`
}

// RSS is the server process's resident memory in bytes, sampled through
// GET /_localcases/stats before, every ProgressInterval during, and after
// the measurement; -1 when the server does not answer it.
type RSS struct {
	StartBytes int64 `json:"startBytes"`
	PeakBytes  int64 `json:"peakBytes"`
	EndBytes   int64 `json:"endBytes"`
	Samples    int   `json:"samples"`
}

// Ratio is localcases divided by ceiling: below 1 for throughput and above
// 1 for latency and memory mean localcases costs more than the bare server.
type Ratio struct {
	Throughput float64 `json:"throughput"`
	P50        float64 `json:"p50"`
	P90        float64 `json:"p90"`
	P99        float64 `json:"p99"`
	Max        float64 `json:"max"`
	RSSPeak    float64 `json:"rssPeak"`
}

// Run seeds, measures and, with cfg.Ceiling, measures the ceiling. A
// cancelled ctx ends the measurement early; Run then returns what it had
// with ctx's error.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.defaults(); err != nil {
		return Result{}, err
	}
	res := Result{
		Workload:    workloadString(cfg.Workload),
		Mix:         cfg.Workload,
		Concurrency: cfg.Concurrency,
		Mode:        "closed-loop",
		TargetRate:  cfg.Rate,
		LimitReqs:   cfg.Requests,
		Machine:     Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()},
	}
	res.LimitSeconds = cfg.Duration.Seconds()
	if cfg.Rate > 0 {
		res.Mode = "open-loop"
	}
	need := mergeNeeds(cfg.Workload)

	base := cfg.URL
	var srv *server.Server
	stopSrv := func() {}
	if base == "" {
		var err error
		var cleanup func()
		if srv, cleanup, err = startServer(ctx, &cfg, need); err != nil {
			return res, err
		}
		stop := sync.OnceFunc(func() { stopServer(srv); cleanup() })
		defer stop()
		stopSrv = stop
		base = srv.URL()
		res.Server = ServerInfo{URL: base, InProcess: true, Store: srv.Store().Kind(), Version: srv.Config().Version, Servers: cfg.Servers}
	} else {
		res.Server = ServerInfo{URL: base}
		res.Server.Store, res.Server.Version = health(ctx, base)
	}

	c, err := newClient(base, &cfg)
	if err != nil {
		return res, err
	}
	sd := &seeder{c: c}
	st, err := sd.run(ctx, &cfg, need)
	res.Seed = sd.seed
	if err != nil {
		c.close()
		return res, err
	}
	if cfg.ExportTo != "" {
		if err := exportTo(ctx, base, cfg.ExportTo); err != nil {
			c.close()
			return res, fmt.Errorf("export: %w", err)
		}
	}
	gens, err := buildGenerators(cfg.Workload, st)
	if err != nil {
		c.close()
		return res, err
	}
	var captured map[string]any
	if cfg.Ceiling {
		captured = capture(ctx, c, cfg.Workload, gens, cfg.runID)
	}
	c.close()

	bases := []string{base}
	for range cfg.Servers - 1 {
		more, cleanup, err := startServer(ctx, &cfg, need)
		if err != nil {
			return res, err
		}
		defer func() { stopServer(more); cleanup() }()
		bases = append(bases, more.URL())
	}
	res.Localcases, err = measure(ctx, &cfg, "localcases", bases, gens)
	if err == nil && cfg.Events {
		res.Events, err = measureEvents(ctx, &cfg, base, st, gens, res.Localcases)
	}
	if err != nil || !cfg.Ceiling {
		return res, err
	}

	// The ceiling runs alone: the in-process server's goroutines and heap
	// would otherwise share the CPU and count in the process's RSS.
	stopSrv()
	runtime.GC()
	debug.FreeOSMemory()
	ceil, err := startCeiling(cfg.Workload, captured)
	if err != nil {
		return res, fmt.Errorf("ceiling: %w", err)
	}
	defer ceil.close()
	run, err := measure(ctx, &cfg, "ceiling", []string{ceil.url}, gens)
	for _, w := range cfg.Workload {
		if captured[w.Op] == nil {
			run.Uncaptured = append(run.Uncaptured, w.Op)
		}
	}
	res.Ceiling = &run
	res.Ratio = ratio(res.Localcases, run)
	return res, err
}

// startServer starts the in-process server; cleanup removes the temporary
// data directory, if it made one, once the server is closed.
func startServer(ctx context.Context, cfg *Config, need needs) (srv *server.Server, cleanup func(), err error) {
	sc := server.DefaultConfig()
	sc.Addr = "127.0.0.1:0"
	sc.Region = cfg.Region
	cleanup = func() {}
	switch {
	case cfg.Store == "memory":
		sc.Memory = true
	case cfg.Store == "sqlite":
		sc.DataDir = cfg.DataDir
		if sc.DataDir == "" {
			dir, err := os.MkdirTemp("", "localcases-bench-")
			if err != nil {
				return nil, nil, err
			}
			sc.DataDir = dir
			cleanup = func() { os.RemoveAll(dir) }
		}
	default:
		sc.StoreURL = cfg.Store
	}
	sc.Version = "bench"
	if need&needFieldQuota != 0 {
		// A CreateField workload adds a field per request; the documented
		// quota (500) would turn most of a run into quota errors.
		sc.Quotas.FieldsPerDomain = 1 << 30
	}
	srv, err = server.New(ctx, sc)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	if err := srv.Open(); err != nil {
		srv.Close(context.Background())
		cleanup()
		return nil, nil, err
	}
	return srv, cleanup, nil
}

func stopServer(srv *server.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Close(ctx)
}

func buildGenerators(w []OpWeight, st *state) ([]generator, error) {
	gens := make([]generator, len(w))
	for i, o := range w {
		g, err := catalogue[o.Op].gen(st)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Op, err)
		}
		gens[i] = g
	}
	return gens, nil
}

// picker draws an operation index by weight.
type picker struct {
	cum   []int
	total int
}

func newPicker(w []OpWeight) picker {
	p := picker{cum: make([]int, len(w))}
	for i, o := range w {
		p.total += o.Weight
		p.cum[i] = p.total
	}
	return p
}

func (p picker) pick(r *mrand.Rand) int {
	if len(p.cum) == 1 {
		return 0
	}
	x := r.IntN(p.total)
	return sort.SearchInts(p.cum, x+1)
}

// measure drives bases (worker i sends to bases[i mod len]) with cfg's
// workers until the duration or request budget is spent.
func measure(ctx context.Context, cfg *Config, label string, bases []string, gens []generator) (Measurement, error) {
	clients := make([]*client, len(bases))
	for i, base := range bases {
		c, err := newClient(base, cfg)
		if err != nil {
			return Measurement{}, err
		}
		defer c.close()
		clients[i] = c
	}
	nops := len(cfg.Workload)
	// Workers share a few histogram shards rather than one each: a shard
	// is 35 KiB per operation, and a thousand workers need not cost 35 MB.
	nshards := min(cfg.Concurrency, 2*runtime.GOMAXPROCS(0))
	shards := make([][]*histogram, nshards)
	for i := range shards {
		shards[i] = make([]*histogram, nops)
		for j := range shards[i] {
			shards[i][j] = new(histogram)
		}
	}
	errsByWorker := make([][]map[string]int64, cfg.Concurrency)
	pk := newPicker(cfg.Workload)

	var done, failed atomic.Int64
	var issued atomic.Int64
	var stop atomic.Bool
	var tickets chan time.Time

	rss := newSampler(bases[0])
	rssStart := rss.sample()
	cpu := markCPU()
	start := time.Now()

	schedCtx, cancelSched := context.WithCancel(ctx)
	defer cancelSched()
	if cfg.Duration > 0 {
		t := time.AfterFunc(cfg.Duration, func() { stop.Store(true); cancelSched() })
		defer t.Stop()
	}
	if cfg.Rate > 0 {
		tickets = make(chan time.Time, cfg.Concurrency)
		go schedule(schedCtx, start, cfg.Rate, cfg.Requests, tickets)
	}

	var wg sync.WaitGroup
	for id := range cfg.Concurrency {
		wg.Go(func() {
			wgen := &workerGen{id: id, rnd: mrand.New(mrand.NewPCG(uint64(id), 0x6c63)), runID: cfg.runID}
			c := clients[id%len(clients)]
			hs := shards[id%nshards]
			errs := make([]map[string]int64, nops)
			defer func() { errsByWorker[id] = errs }()
			for {
				var t0 time.Time
				if tickets != nil {
					t, ok := <-tickets
					if !ok {
						return
					}
					t0 = t
				} else {
					if stop.Load() || ctx.Err() != nil {
						return
					}
					if cfg.Requests > 0 && issued.Add(1) > cfg.Requests {
						return
					}
				}
				i := pk.pick(wgen.rnd)
				r := gens[i].next(wgen)
				wgen.seq++
				req, err := c.build(ctx, r)
				if err != nil {
					errs[i] = addErr(errs[i], "client: "+err.Error())
					continue
				}
				if t0.IsZero() {
					t0 = time.Now()
				}
				o := c.send(req, false)
				lat := time.Since(t0)
				if o.errType != "" && ctx.Err() != nil {
					// Interrupted by the caller: not the server's error.
					return
				}
				hs[i].record(lat)
				done.Add(1)
				if o.errType != "" {
					failed.Add(1)
					errs[i] = addErr(errs[i], o.errType)
				}
			}
		})
	}

	finished := make(chan struct{})
	var timeline []Point
	var progWG sync.WaitGroup
	progWG.Go(func() {
		tk := time.NewTicker(cfg.ProgressInterval)
		defer tk.Stop()
		var last int64
		lastT := start
		for {
			select {
			case <-finished:
				return
			case now := <-tk.C:
				cur := rss.sample()
				n, nf := done.Load(), failed.Load()
				el := now.Sub(start).Seconds()
				p := Point{Seconds: el, Requests: n, Errors: nf, Throughput: float64(n-last) / now.Sub(lastT).Seconds(), RSSBytes: cur}
				timeline = append(timeline, p)
				last, lastT = n, now
				if cfg.Progress != nil {
					fmt.Fprintf(cfg.Progress, "[%s] %5.1fs  %9d requests  %8.0f/s (last %.0f/s)  %d errors  rss %s\n",
						label, el, n, float64(n)/el, p.Throughput, nf, mib(cur))
				}
			}
		}
	})
	wg.Wait()
	elapsed := time.Since(start)
	cpuUse := cpu.since(runtime.NumCPU())
	close(finished)
	progWG.Wait()
	rssEnd := rss.sample()
	// A final sample that timed out on a saturated machine falls back to
	// the latest good one rather than reporting nothing.
	if rssEnd < 0 {
		rssEnd = rss.last()
	}

	run := Measurement{Seconds: elapsed.Seconds(), ErrorsByType: map[string]int64{}, CPU: cpuUse, Timeline: timeline}
	run.RSS = RSS{StartBytes: rssStart, EndBytes: rssEnd, PeakBytes: rss.peak(), Samples: rss.samples()}
	total := new(histogram)
	for i, w := range cfg.Workload {
		h := new(histogram)
		for _, s := range shards {
			h.merge(s[i])
		}
		total.merge(h)
		op := OpMeasurement{Op: w.Op, Requests: int64(h.n.Load()), Latency: h.latency()}
		for _, we := range errsByWorker {
			for k, v := range we[i] {
				if op.ErrorsByType == nil {
					op.ErrorsByType = map[string]int64{}
				}
				op.ErrorsByType[k] += v
				op.Errors += v
				run.ErrorsByType[k] += v
			}
		}
		op.Successes = op.Requests - op.Errors
		run.Ops = append(run.Ops, op)
		run.Errors += op.Errors
	}
	run.Requests = int64(total.n.Load())
	run.Successes = run.Requests - run.Errors
	run.Latency = total.latency()
	if run.Seconds > 0 {
		run.Throughput = float64(run.Requests) / run.Seconds
	}
	return run, ctx.Err()
}

func addErr(m map[string]int64, k string) map[string]int64 {
	if m == nil {
		m = map[string]int64{}
	}
	m[k]++
	return m
}

// schedule sends each request's intended start time on out, rate per
// second from start, until ctx ends or limit tickets have gone. When the
// workers fall behind, the send blocks, but the intended times keep to the
// schedule: the wait shows up as latency instead of silently lowering the
// offered load (coordinated omission).
func schedule(ctx context.Context, start time.Time, rate float64, limit int64, out chan<- time.Time) {
	defer close(out)
	interval := time.Duration(float64(time.Second) / rate)
	for i := int64(0); limit == 0 || i < limit; i++ {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			// Sleeping per ticket would cap the rate at the timer's
			// resolution; tickets already due go out back to back.
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
		}
		select {
		case <-ctx.Done():
			return
		case out <- at:
		}
	}
}

func ratio(l, c Measurement) *Ratio {
	div := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	r := &Ratio{
		Throughput: div(l.Throughput, c.Throughput),
		P50:        div(l.Latency.P50Ms, c.Latency.P50Ms),
		P90:        div(l.Latency.P90Ms, c.Latency.P90Ms),
		P99:        div(l.Latency.P99Ms, c.Latency.P99Ms),
		Max:        div(l.Latency.MaxMs, c.Latency.MaxMs),
	}
	if l.RSS.PeakBytes > 0 && c.RSS.PeakBytes > 0 {
		r.RSSPeak = div(float64(l.RSS.PeakBytes), float64(c.RSS.PeakBytes))
	}
	return r
}

// health asks a running server what it is; a server that is not localcases
// (or an old one) just leaves the fields empty.
func health(ctx context.Context, base string) (store, version string) {
	var h struct{ Store, Version string }
	if err := getJSON(ctx, base+"/_localcases/health", &h); err != nil {
		return "", ""
	}
	return h.Store, h.Version
}

// exportTo writes the state of the server at base to the file path, as
// localcases export does.
func exportTo(ctx context.Context, base, path string) error {
	snap, err := admin.NewClient(base).Export(ctx)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := json.NewEncoder(w).Encode(snap); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
