package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/api"
)

// EventsResult is the --events measurement: the workload again, with the
// domain's case events on and one webhook sink (served by the bench itself)
// taking every event, in rounds that alternate with rounds with events off.
//
// Both arms are treated alike. The usual measurement (Result.Localcases,
// events off) runs first on a fresh store, which makes it faster than any
// later round, so it is a warm-up: reported, and left out of the ratio.
// The rounds after it run in the order on, off, off, on (Config.EventPairs
// times over), so a drift that is linear in time (the machine's load, the
// store's growth) falls on both arms equally.
type EventsResult struct {
	// Measurement is the first round with events on.
	Measurement Measurement `json:"measurement"`
	// Rounds are the throughputs of each round, in the order run; the
	// first is the warm-up.
	Rounds []EventsRound `json:"rounds"`
	// ThroughputRatio is the mean throughput of the rounds with events on
	// over that of the rounds with events off, the warm-up left out.
	ThroughputRatio float64 `json:"throughputRatio"`
	// GroupRatios is the same ratio for each group of four rounds (on,
	// off, off, on) alone: their spread is the measurement's noise.
	GroupRatios []float64 `json:"groupRatios"`
	// Delivered is the events the webhook received (each id once).
	Delivered int64 `json:"delivered"`
	// Duplicates is events received again (delivery is at least once).
	Duplicates int64 `json:"duplicates"`
	// DrainSeconds is the longest time, after a round with events on, the
	// sink took to catch up with the outbox; DeliveriesPerSecond is
	// Delivered over the rounds with events on and their drains.
	DrainSeconds        float64 `json:"drainSeconds"`
	DeliveriesPerSecond float64 `json:"deliveriesPerSecond"`
	// Lag is from each event's change (approximateChangeTime) to the
	// webhook receiving it.
	Lag Latency `json:"lag"`
	// CaughtUp is false when the sink did not catch up within drainLimit
	// after a round.
	CaughtUp bool `json:"caughtUp"`
}

// EventsRound is one round's throughput.
type EventsRound struct {
	Events     bool    `json:"events"`
	Warmup     bool    `json:"warmup,omitempty"`
	Throughput float64 `json:"throughput"`
	Successes  int64   `json:"successes"`
}

// eventOrder is the order of the measured rounds (true: events on): pairs
// groups of on, off, off, on.
func eventOrder(pairs int) []bool {
	var o []bool
	for range max(pairs, 1) {
		o = append(o, true, false, false, true)
	}
	return o
}

// drainLimit bounds the wait for the sink to catch up after a measurement.
const drainLimit = 2 * time.Minute

// benchSink names the sink the bench adds and removes.
const benchSink = "localcases-bench"

// receiver is the webhook the bench serves to the sink.
type receiver struct {
	srv *http.Server
	url string

	mu    sync.Mutex
	seen  map[string]bool
	dups  atomic.Int64
	n     atomic.Int64
	lag   histogram
	first time.Time
	last  time.Time
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{seen: map[string]bool{}, url: "http://" + ln.Addr().String() + "/events"}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var ev struct {
		ID     string `json:"id"`
		Detail struct {
			ApproximateChangeTime time.Time `json:"approximateChangeTime"`
		} `json:"detail"`
	}
	if err == nil {
		err = json.Unmarshal(body, &ev)
	}
	if err != nil || ev.ID == "" {
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	dup := r.seen[ev.ID]
	r.seen[ev.ID] = true
	if r.first.IsZero() {
		r.first = now
	}
	r.last = now
	r.mu.Unlock()
	if dup {
		r.dups.Add(1)
	} else {
		r.n.Add(1)
		if !ev.Detail.ApproximateChangeTime.IsZero() {
			r.lag.record(max(now.Sub(ev.Detail.ApproximateChangeTime), 0))
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.srv.Shutdown(ctx)
}

// setEvents turns the domain's case events on (publishing title and status)
// or off.
func (s *seeder) setEvents(ctx context.Context, st *state, on bool) error {
	conf := &api.EventBridgeConfiguration{Enabled: &on}
	if on {
		conf.IncludedData = &api.EventIncludedData{CaseData: &api.CaseEventIncludedData{Fields: ids("title", "status")}}
	}
	return s.call(ctx, "PutCaseEventConfiguration", st.domainParams(), "", &api.PutCaseEventConfigurationRequest{EventBridge: conf}, nil)
}

// measureEvents runs the rounds with events on and off (see EventsResult).
// Events and the sink are turned off again afterwards, so a server driven
// with --url is left as it was.
func measureEvents(ctx context.Context, cfg *Config, base string, st *state, gens []generator, off Measurement) (*EventsResult, error) {
	c, err := newClient(base, cfg)
	if err != nil {
		return nil, err
	}
	defer c.close()
	sd := &seeder{c: c}
	rcv, err := startReceiver()
	if err != nil {
		return nil, err
	}
	defer rcv.close()
	ac := admin.NewClient(base)
	ac.DeleteSink(ctx, benchSink) // left by an interrupted run
	if _, err := ac.AddSink(ctx, benchSink, rcv.url, "", false); err != nil {
		return nil, fmt.Errorf("add the webhook sink: %w", err)
	}
	defer func() {
		bg, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sd.setEvents(bg, st, false)
		ac.DeleteSink(bg, benchSink)
	}()
	res := &EventsResult{Rounds: []EventsRound{{Warmup: true, Throughput: off.Throughput, Successes: off.Successes}}, CaughtUp: true}
	var onSum, offSum, onSeconds float64
	var onN, offN int
	var groupOn, groupOff float64
	eventsOn := false
	for round, on := range eventOrder(cfg.EventPairs) {
		if on != eventsOn {
			if err := sd.setEvents(ctx, st, on); err != nil {
				return res, fmt.Errorf("turn case events on (%v): %w", on, err)
			}
			eventsOn = on
		}
		// A run ID per round: the tokens of an earlier round again would
		// make every CreateCase a replay, which publishes nothing.
		rc := *cfg
		label := "events off"
		if on {
			label = "events on"
		}
		rc.runID += fmt.Sprintf("-events-%d", round)
		m, err := measure(ctx, &rc, label, []string{base}, gens)
		if on && onN == 0 {
			res.Measurement = m
		}
		res.Rounds = append(res.Rounds, EventsRound{Events: on, Throughput: m.Throughput, Successes: m.Successes})
		if on {
			onSum, onN = onSum+m.Throughput, onN+1
			onSeconds += m.Seconds
			groupOn += m.Throughput
		} else {
			offSum, offN = offSum+m.Throughput, offN+1
			groupOff += m.Throughput
		}
		if err != nil {
			return res, err
		}
		if round%4 == 3 {
			if groupOff > 0 {
				res.GroupRatios = append(res.GroupRatios, groupOn/groupOff)
			}
			groupOn, groupOff = 0, 0
		}
		if !on {
			continue
		}
		// Events turn off and the sink catches up before the next round,
		// which must not pay for this one's deliveries.
		if err := sd.setEvents(ctx, st, false); err != nil {
			return res, fmt.Errorf("turn case events off: %w", err)
		}
		eventsOn = false
		drain, caughtUp, err := waitCaughtUp(ctx, ac)
		if err != nil {
			return res, err
		}
		res.CaughtUp = res.CaughtUp && caughtUp
		res.DrainSeconds = max(res.DrainSeconds, drain.Seconds())
		onSeconds += drain.Seconds()
	}
	if offSum > 0 && onN > 0 {
		res.ThroughputRatio = (onSum / float64(onN)) / (offSum / float64(offN))
	}
	res.Delivered, res.Duplicates = rcv.n.Load(), rcv.dups.Load()
	if onSeconds > 0 {
		res.DeliveriesPerSecond = float64(res.Delivered) / onSeconds
	}
	res.Lag = rcv.lag.latency()
	return res, nil
}

// waitCaughtUp waits until the bench's sink has no lag, up to drainLimit.
func waitCaughtUp(ctx context.Context, ac *admin.Client) (time.Duration, bool, error) {
	start := time.Now()
	for {
		sinks, err := ac.Sinks(ctx)
		if err != nil {
			return time.Since(start), false, err
		}
		for _, s := range sinks {
			if s.Name == benchSink && s.Lag == 0 {
				return time.Since(start), true, nil
			}
		}
		if time.Since(start) > drainLimit {
			return time.Since(start), false, nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), false, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func writeEvents(b *strings.Builder, off Measurement, e *EventsResult) {
	fmt.Fprintf(b, "\ncase events on, one webhook sink (--events): a warm-up round with events off, then %d rounds on, off, off, on:\n", len(e.Rounds)-1)
	var rounds []string
	for _, r := range e.Rounds {
		state := "off"
		if r.Events {
			state = "on"
		}
		if r.Warmup {
			state = "warm-up off"
		}
		rounds = append(rounds, fmt.Sprintf("%s %.0f", state, r.Throughput))
	}
	fmt.Fprintf(b, "  throughput    %.2f of events off (req/s by round: %s)\n", e.ThroughputRatio, strings.Join(rounds, ", "))
	if len(e.GroupRatios) > 1 {
		lo, hi := slices.Min(e.GroupRatios), slices.Max(e.GroupRatios)
		med := median(e.GroupRatios)
		fmt.Fprintf(b, "  by group      %d groups of on, off, off, on: ratios %.2f to %.2f, median %.2f\n", len(e.GroupRatios), lo, hi, med)
	}
	fmt.Fprintf(b, "  latency       p50 %.3f ms, p99 %.3f ms in the first round on (events off: p50 %.3f ms, p99 %.3f ms)\n",
		e.Measurement.Latency.P50Ms, e.Measurement.Latency.P99Ms, off.Latency.P50Ms, off.Latency.P99Ms)
	fmt.Fprintf(b, "  deliveries    %d events, %.0f/s; the sink caught up at most %.2f s after a round", e.Delivered, e.DeliveriesPerSecond, e.DrainSeconds)
	if !e.CaughtUp {
		fmt.Fprintf(b, " (once not within %s)", drainLimit)
	}
	if e.Duplicates > 0 {
		fmt.Fprintf(b, "; %d duplicates", e.Duplicates)
	}
	fmt.Fprintf(b, "\n  delivery lag  p50 %.1f ms, p99 %.1f ms, max %.1f ms (approximateChangeTime to the webhook)\n", e.Lag.P50Ms, e.Lag.P99Ms, e.Lag.MaxMs)
	writeErrors(b, "events on", e.Measurement.ErrorsByType)
}

// median of xs (not modified).
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
