package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/eventsink"
	"github.com/localcases/localcases/fault"
)

// RetryPolicy bounds how long a failing event is retried before it is
// dead-lettered. The zero value is the documented default.
type RetryPolicy struct {
	// Initial is the first backoff; it doubles after each failed attempt.
	// Default 500 ms.
	Initial time.Duration `yaml:"initial" json:"initial,omitempty"`
	// Max caps one backoff. Default 30 s.
	Max time.Duration `yaml:"max" json:"max,omitempty"`
	// MaxAttempts dead-letters an event after that many failed attempts.
	// Default 8.
	MaxAttempts int `yaml:"maxAttempts" json:"maxAttempts,omitempty"`
	// MaxAge dead-letters an event that fails when it is that old (since
	// its change committed). Default 10 min.
	MaxAge time.Duration `yaml:"maxAge" json:"maxAge,omitempty"`
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Initial <= 0 {
		p.Initial = 500 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 30 * time.Second
	}
	if p.Max < p.Initial {
		p.Max = p.Initial
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 8
	}
	if p.MaxAge <= 0 {
		p.MaxAge = 10 * time.Minute
	}
	return p
}

// backoff is the pause before attempt n+1 after n failed attempts:
// exponential with full jitter.
func (p RetryPolicy) backoff(n int, rnd func(int64) int64) time.Duration {
	d := p.Initial
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	return time.Duration(rnd(int64(d))) + 1
}

// Outcome is what happened to one event on its way to a sink, for metrics
// and logs.
type Outcome struct {
	Sink    string
	Seq     int64
	EventID string
	Result  Result
	Attempt int
	Err     error
	// Duration is how long the delivery call carrying the event took (0
	// when none was made).
	Duration time.Duration
	// Fault is what an event rule did, for Result Faulted.
	Fault fault.Action
}

// Result names an Outcome.
type Result string

// The results.
const (
	Delivered    Result = "delivered"
	Failed       Result = "failed" // an attempt failed; it will be retried
	DeadLettered Result = "dead_lettered"
	QueueFull    Result = "queue_full" // the sink's queue was full when more events waited
	Faulted      Result = "faulted"    // an event rule acted on the event (Outcome.Fault says how)
)

// Options configure a Dispatcher. The zero value of each field is its
// documented default.
type Options struct {
	// Store holds the outbox, the sinks, their cursors and dead letters.
	Store localcases.Store
	// Owner names this server in leases. Default: a new UUID.
	Owner string
	// Sink tunes the sinks (timeouts, region).
	Sink eventsink.Options
	// Retry is the retry policy of every sink.
	Retry RetryPolicy
	// QueueSize bounds the events read ahead for one sink. Default 1000.
	QueueSize int
	// BatchSize bounds the events of one delivery call. Default 10.
	BatchSize int
	// Poll is how often an idle sink looks for new events when not woken
	// (Wake). Default 100 ms.
	Poll time.Duration
	// LeaseTTL is how long a sink's lease lasts unless renewed; a server
	// that dies holds its sinks that long. Default 10 s.
	LeaseTTL time.Duration
	// CursorEvery is how often a busy sink's cursor is written. A crash
	// delivers again at most that much. Default 500 ms.
	CursorEvery time.Duration
	// Sync is how often the sink list is read again from the store, where
	// another server may have changed it. Default 2 s.
	Sync time.Duration
	// Faults, if set, decides event faults (fault.Engine.DecideEvent):
	// drop, duplicate, delay, reorder.
	Faults *fault.Engine
	// Recorder, if set, records what event rules did, for the traffic
	// report.
	Recorder *fault.Recorder
	// Exclusive says that no other server shares the store (memory,
	// SQLite): leases left in it are a crashed predecessor's, and Start
	// takes them over at once instead of waiting for them to expire.
	Exclusive bool
	// Observe, if set, is called with every outcome (metrics).
	Observe func(Outcome)
	// Logger is for operational messages. Default: discard.
	Logger *slog.Logger
	// Now is the clock of leases and retry ages. Default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Owner == "" {
		o.Owner = uuid.NewString()
	}
	o.Retry = o.Retry.withDefaults()
	if o.QueueSize <= 0 {
		o.QueueSize = 1000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 10
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 10 * time.Second
	}
	if o.CursorEvery <= 0 {
		o.CursorEvery = 500 * time.Millisecond
	}
	if o.Sync <= 0 {
		o.Sync = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Dispatcher delivers the outbox to the configured sinks.
type Dispatcher struct {
	opts  Options
	store localcases.Store
	log   *slog.Logger

	mu      sync.Mutex
	workers map[string]*worker
	stats   map[string]*counters // by sink name; kept across worker restarts

	ctx    context.Context
	cancel context.CancelFunc
	syncCh chan struct{}
	done   chan struct{}
	once   sync.Once
}

// New returns a Dispatcher; Start runs it.
func New(opts Options) *Dispatcher {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{
		opts: opts, store: opts.Store, log: opts.Logger,
		workers: map[string]*worker{}, stats: map[string]*counters{},
		ctx: ctx, cancel: cancel, syncCh: make(chan struct{}, 1), done: make(chan struct{}),
	}
}

// Owner is the name this server holds leases under.
func (d *Dispatcher) Owner() string { return d.opts.Owner }

// Start reads the sinks and starts delivering, until Close.
func (d *Dispatcher) Start() {
	if d.opts.Exclusive {
		if err := d.releaseAll(); err != nil {
			d.log.Warn("event sinks: taking over the leases of the previous run", "err", err)
		}
	}
	d.sync()
	go d.syncLoop()
}

// Close stops delivering: in-flight deliveries are cancelled, cursors are
// written and leases released, so another server can take over at once.
func (d *Dispatcher) Close() {
	d.once.Do(func() {
		d.cancel()
		<-d.done
		d.mu.Lock()
		ws := make([]*worker, 0, len(d.workers))
		for _, w := range d.workers {
			ws = append(ws, w)
		}
		d.workers = map[string]*worker{}
		d.mu.Unlock()
		for _, w := range ws {
			w.stop()
		}
	})
}

// Wake tells every sink that events were appended, so they need not wait
// for their next poll.
func (d *Dispatcher) Wake() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, w := range d.workers {
		w.wake()
	}
}

func (d *Dispatcher) syncLoop() {
	defer close(d.done)
	t := time.NewTicker(d.opts.Sync)
	defer t.Stop()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
		case <-d.syncCh:
		}
		d.sync()
	}
}

// releaseAll clears every sink's lease.
func (d *Dispatcher) releaseAll() error {
	return d.store.Update(d.ctx, func(tx localcases.Tx) error {
		var cs []cursor
		var names []string
		err := tx.List(cursorsC, "", 0, func(r localcases.Raw) (bool, error) {
			var c cursor
			if err := json.Unmarshal(r.Data, &c); err != nil {
				return false, err
			}
			cs, names = append(cs, c), append(names, r.ID)
			return true, nil
		})
		if err != nil {
			return err
		}
		for i, c := range cs {
			if c.Owner == "" {
				continue
			}
			c.Owner, c.Until = "", time.Time{}
			if err := tx.Put(cursorsC, "", names[i], c); err != nil {
				return err
			}
		}
		return nil
	})
}

// requestSync asks the sync loop to read the sinks now.
func (d *Dispatcher) requestSync() {
	select {
	case d.syncCh <- struct{}{}:
	default:
	}
}

// sync starts a worker for each stored sink that has none (or whose
// configuration changed) and stops those of sinks no longer stored.
func (d *Dispatcher) sync() {
	if d.ctx.Err() != nil {
		return
	}
	cfgs, err := listSinks(d.ctx, d.store)
	if err != nil {
		if d.ctx.Err() == nil {
			d.log.Warn("event sinks: reading the configuration", "err", err)
		}
		return
	}
	want := map[string]SinkConfig{}
	for _, c := range cfgs {
		want[c.Name] = c
	}
	var stop []*worker
	d.mu.Lock()
	for name, w := range d.workers {
		if c, ok := want[name]; !ok || c.URL != w.cfg.URL || c.Pattern != w.cfg.Pattern {
			stop = append(stop, w)
			delete(d.workers, name)
		}
	}
	d.mu.Unlock()
	for _, w := range stop {
		w.stop()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx.Err() != nil {
		return
	}
	for name, c := range want {
		if _, ok := d.workers[name]; ok {
			continue
		}
		w, err := d.newWorker(c)
		if err != nil {
			// Stored by a newer version, or its URL is refused now (no
			// credentials): it stays configured, and is reported.
			d.statsFor(name).setError(err)
			d.log.Warn("event sink not started", "sink", name, "err", err)
			continue
		}
		d.workers[name] = w
		w.start()
	}
	for name := range d.stats {
		if _, ok := want[name]; !ok {
			delete(d.stats, name)
		}
	}
}

// statsFor returns the sink's counters; d.mu is held.
func (d *Dispatcher) statsFor(name string) *counters {
	s := d.stats[name]
	if s == nil {
		s = &counters{}
		d.stats[name] = s
	}
	return s
}

func (d *Dispatcher) observe(o Outcome) {
	if d.opts.Observe != nil {
		d.opts.Observe(o)
	}
}

// AddSink stores a sink and starts delivering to it: the events appended
// after it was added (a new sink's cursor starts at the end of the outbox).
// An invalid configuration fails with *ConfigError. A sink of the same name
// with the same URL and pattern is kept as it is; with another URL or
// pattern, replace says whether to replace it (its cursor and dead letters
// are kept) or fail with localcases.ErrConflict.
func (d *Dispatcher) AddSink(ctx context.Context, c SinkConfig, replace bool) (SinkConfig, error) {
	c, _, _, err := c.Check()
	if err != nil {
		return c, err
	}
	if c.Origin == "" {
		c.Origin = "admin"
	}
	c.Created = d.opts.Now().UTC().Truncate(time.Second)
	err = d.store.Update(ctx, func(tx localcases.Tx) error {
		var old SinkConfig
		switch err := tx.Get(sinksC, "", c.Name, &old); {
		case err == nil:
			if old.URL == c.URL && old.Pattern == c.Pattern {
				c = old
				return nil
			}
			if !replace {
				return fmt.Errorf("sink %q exists with another URL or pattern; delete it first: %w", c.Name, localcases.ErrConflict)
			}
		case !isNotFound(err):
			return err
		}
		if err := tx.Put(sinksC, "", c.Name, c); err != nil {
			return err
		}
		if _, err := getCursor(tx, c.Name); err == nil || !isNotFound(err) {
			return err
		}
		last, err := tx.LastEventSeq()
		if err != nil {
			return err
		}
		return tx.Put(cursorsC, "", c.Name, cursor{Seq: last})
	})
	if err != nil {
		return c, err
	}
	d.requestSync()
	return c, nil
}

// DeleteSink stops delivering to a sink and forgets it: its configuration,
// cursor and dead letters. Returns localcases.ErrNotFound.
func (d *Dispatcher) DeleteSink(ctx context.Context, name string) error {
	err := d.store.Update(ctx, func(tx localcases.Tx) error {
		if err := tx.Delete(sinksC, "", name); err != nil {
			return fmt.Errorf("sink %q: %w", name, err)
		}
		if err := tx.Delete(cursorsC, "", name); err != nil && !isNotFound(err) {
			return err
		}
		return tx.DeleteScope(deadLettersC, name)
	})
	if err != nil {
		return err
	}
	d.requestSync()
	return nil
}

// Stats are one sink's counters on this server since it started.
type Stats struct {
	Delivered    int64     `json:"delivered"`
	Failed       int64     `json:"failedAttempts"`
	DeadLettered int64     `json:"deadLettered"`
	QueueFull    int64     `json:"queueFull"`
	LastError    string    `json:"lastError,omitempty"`
	LastErrorAt  time.Time `json:"lastErrorAt,omitzero"`
	LastDelivery time.Time `json:"lastDelivery,omitzero"`
}

// counters are a sink's Stats under a lock.
type counters struct {
	mu sync.Mutex
	s  Stats
}

func (c *counters) add(r Result, n int64, err error, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r {
	case Delivered:
		c.s.Delivered += n
		c.s.LastDelivery = now
	case Failed:
		c.s.Failed += n
	case DeadLettered:
		c.s.DeadLettered += n
	case QueueFull:
		c.s.QueueFull += n
	}
	if err != nil {
		c.s.LastError, c.s.LastErrorAt = err.Error(), now
	}
}

func (c *counters) setError(err error) { c.add("", 0, err, time.Now()) }

func (c *counters) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.s
}

// SinkStatus is a sink as the admin API lists it.
type SinkStatus struct {
	Name    string    `json:"name"`
	Kind    string    `json:"kind"`
	URL     string    `json:"url"` // password hidden
	Pattern string    `json:"pattern,omitempty"`
	Origin  string    `json:"origin,omitempty"`
	Created time.Time `json:"created"`
	// Cursor is the sequence number up to which the sink is done; Lag is
	// how many sequence numbers the outbox is ahead of it.
	Cursor      int64     `json:"cursor"`
	Lag         int64     `json:"lag"`
	Owner       string    `json:"owner,omitempty"`
	LeaseUntil  time.Time `json:"leaseUntil,omitzero"`
	Running     bool      `json:"running"` // this server delivers it now
	DeadLetters int       `json:"deadLetters"`
	// Stats are this server's counters for the sink.
	Stats Stats `json:"stats"`
}

// Sinks lists the configured sinks with their progress, by name.
func (d *Dispatcher) Sinks(ctx context.Context) ([]SinkStatus, error) {
	var out []SinkStatus
	err := d.store.View(ctx, func(tx localcases.Tx) error {
		last, err := tx.LastEventSeq()
		if err != nil {
			return err
		}
		return tx.List(sinksC, "", 0, func(r localcases.Raw) (bool, error) {
			var c SinkConfig
			if err := json.Unmarshal(r.Data, &c); err != nil {
				return false, err
			}
			st := SinkStatus{Name: c.Name, URL: c.URL, Pattern: c.Pattern, Origin: c.Origin, Created: c.Created}
			if spec, err := eventsink.Parse(c.URL); err == nil {
				st.Kind, st.URL = string(spec.Kind), spec.String()
			}
			cur, err := getCursor(tx, c.Name)
			if err != nil && !isNotFound(err) {
				return false, err
			}
			st.Cursor, st.Lag, st.Owner, st.LeaseUntil = cur.Seq, max(0, last-cur.Seq), cur.Owner, cur.Until
			if st.DeadLetters, err = tx.Count(deadLettersC, c.Name); err != nil {
				return false, err
			}
			out = append(out, st)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	for i := range out {
		if s := d.stats[out[i].Name]; s != nil {
			out[i].Stats = s.snapshot()
		}
		w := d.workers[out[i].Name]
		out[i].Running = w != nil && w.leased()
	}
	d.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DeadLetters lists the dead letters of a sink ("" for every sink), oldest
// first.
func (d *Dispatcher) DeadLetters(ctx context.Context, sink string) ([]DeadLetter, error) {
	var out []DeadLetter
	err := d.store.View(ctx, func(tx localcases.Tx) error {
		names := []string{sink}
		if sink == "" {
			var err error
			if names, err = sinkNames(tx); err != nil {
				return err
			}
		} else if err := tx.Get(sinksC, "", sink, &SinkConfig{}); err != nil {
			return fmt.Errorf("sink %q: %w", sink, err)
		}
		for _, n := range names {
			err := tx.List(deadLettersC, n, 0, func(r localcases.Raw) (bool, error) {
				var dl DeadLetter
				if err := json.Unmarshal(r.Data, &dl); err != nil {
					return false, err
				}
				out = append(out, dl)
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Seq != out[j].Seq {
			return out[i].Seq < out[j].Seq
		}
		return out[i].Sink < out[j].Sink
	})
	return out, nil
}

func sinkNames(tx localcases.Tx) ([]string, error) {
	var names []string
	err := tx.List(sinksC, "", 0, func(r localcases.Raw) (bool, error) {
		names = append(names, r.ID)
		return true, nil
	})
	return names, err
}

// selectDeadLetters returns the dead letters of sink ("" for all) whose
// event IDs are in ids (all when ids is empty); an ID matching none fails
// with localcases.ErrNotFound.
func (d *Dispatcher) selectDeadLetters(ctx context.Context, sink string, ids []string) ([]DeadLetter, error) {
	all, err := d.DeadLetters(ctx, sink)
	if err != nil || len(ids) == 0 {
		return all, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []DeadLetter
	for _, dl := range all {
		if want[dl.EventID] {
			out = append(out, dl)
			delete(want, dl.EventID)
		}
	}
	if len(want) > 0 {
		var missing []string
		for id := range want {
			missing = append(missing, id)
		}
		sort.Strings(missing)
		return nil, fmt.Errorf("no dead letter for event %v: %w", missing, localcases.ErrNotFound)
	}
	return out, nil
}

// ReplayResult is the outcome of replaying one dead letter.
type ReplayResult struct {
	Sink    string `json:"sink"`
	EventID string `json:"eventId"`
	// Delivered: the record is gone. Otherwise Error says why it stays.
	Delivered bool   `json:"delivered"`
	Error     string `json:"error,omitempty"`
}

// Replay sends dead letters again, now, once each, in sequence order: those
// of sink ("" for every sink) with the given event IDs (all when ids is
// empty). A delivered one is deleted; a failed one stays, its attempts and
// error updated.
func (d *Dispatcher) Replay(ctx context.Context, sink string, ids []string) ([]ReplayResult, error) {
	dls, err := d.selectDeadLetters(ctx, sink, ids)
	if err != nil {
		return nil, err
	}
	bySink := map[string][]DeadLetter{}
	var order []string
	for _, dl := range dls {
		if _, ok := bySink[dl.Sink]; !ok {
			order = append(order, dl.Sink)
		}
		bySink[dl.Sink] = append(bySink[dl.Sink], dl)
	}
	var out []ReplayResult
	for _, name := range order {
		res, err := d.replaySink(ctx, name, bySink[name])
		out = append(out, res...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (d *Dispatcher) replaySink(ctx context.Context, name string, dls []DeadLetter) ([]ReplayResult, error) {
	var c SinkConfig
	if err := d.store.View(ctx, func(tx localcases.Tx) error { return tx.Get(sinksC, "", name, &c) }); err != nil {
		return nil, fmt.Errorf("sink %q: %w", name, err)
	}
	_, spec, _, err := c.Check()
	if err != nil {
		return nil, err
	}
	sink, err := eventsink.New(spec, d.opts.Sink)
	if err != nil {
		return nil, err
	}
	defer sink.Close()
	var out []ReplayResult
	for len(dls) > 0 {
		n := min(len(dls), d.opts.BatchSize)
		batch := dls[:n]
		dls = dls[n:]
		evs := make([]eventsink.Event, n)
		for i, dl := range batch {
			evs[i] = eventsink.Event{ID: dl.EventID, Data: dl.Event}
		}
		began := time.Now()
		errs := sink.Deliver(ctx, evs)
		took := time.Since(began)
		now := d.opts.Now().UTC()
		err := d.store.Update(ctx, func(tx localcases.Tx) error {
			for i, dl := range batch {
				if errs[i] == nil {
					if err := tx.Delete(deadLettersC, name, dl.EventID); err != nil && !isNotFound(err) {
						return err
					}
					continue
				}
				if errors.Is(errs[i], eventsink.ErrNotAttempted) {
					continue
				}
				dl.Attempts++
				dl.Last, dl.Error = now, errs[i].Error()
				if err := tx.Put(deadLettersC, name, dl.EventID, dl); err != nil {
					return err
				}
			}
			return nil
		})
		for i, dl := range batch {
			r := ReplayResult{Sink: name, EventID: dl.EventID, Delivered: errs[i] == nil}
			if errs[i] != nil {
				r.Error = errs[i].Error()
			}
			out = append(out, r)
			if errs[i] == nil {
				d.observe(Outcome{Sink: name, Seq: dl.Seq, EventID: dl.EventID, Result: Delivered, Attempt: dl.Attempts + 1, Duration: took})
			} else if !errors.Is(errs[i], eventsink.ErrNotAttempted) {
				d.observe(Outcome{Sink: name, Seq: dl.Seq, EventID: dl.EventID, Result: Failed, Attempt: dl.Attempts + 1, Err: errs[i], Duration: took})
			}
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// DeleteDeadLetters deletes dead letters (as Replay selects them) and
// returns how many.
func (d *Dispatcher) DeleteDeadLetters(ctx context.Context, sink string, ids []string) (int, error) {
	dls, err := d.selectDeadLetters(ctx, sink, ids)
	if err != nil {
		return 0, err
	}
	n := 0
	err = d.store.Update(ctx, func(tx localcases.Tx) error {
		for _, dl := range dls {
			switch err := tx.Delete(deadLettersC, dl.Sink, dl.EventID); {
			case err == nil:
				n++
			case !isNotFound(err):
				return err
			}
		}
		return nil
	})
	return n, err
}

// jitter draws from [0, n) for backoffs.
func jitter(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return rand.Int64N(n)
}
