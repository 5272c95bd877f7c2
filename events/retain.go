package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/localcases/localcases"
)

// Default retention of the outbox.
const (
	DefaultRetainCount = 10000
	DefaultRetainAge   = 24 * time.Hour
	// DefaultTrimInterval is how often the Retainer trims.
	DefaultTrimInterval = 30 * time.Second
)

// Retention bounds the outbox.
type Retention struct {
	// Count keeps at most the newest Count events; 0 or less: no count bound.
	Count int
	// Age drops events appended longer ago than Age; 0 or less: no age bound.
	Age time.Duration
	// Interval is the time between trims. Default DefaultTrimInterval.
	Interval time.Duration
	// Pin, if set, returns (in the trim's transaction) the highest sequence
	// number that may be trimmed: a delivery component that has not yet
	// handed on later events pins them, so retention never drops an event
	// before it is delivered; ok false pins nothing. dispatch.TrimBound
	// fits. Nil: nothing is pinned.
	Pin func(tx localcases.Tx) (bound int64, ok bool, err error)
	// Clock tells the time the outbox's append times are compared with.
	// Default: the system clock.
	Clock  localcases.Clock
	Logger *slog.Logger
}

// Retainer trims a store's outbox in the background.
type Retainer struct {
	store  localcases.Store
	r      Retention
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
}

// StartRetainer trims once at once, then every r.Interval until Close.
func StartRetainer(store localcases.Store, r Retention) *Retainer {
	if r.Interval <= 0 {
		r.Interval = DefaultTrimInterval
	}
	if r.Clock == nil {
		r.Clock = localcases.SystemClock{}
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	rt := &Retainer{store: store, r: r, stop: make(chan struct{}), done: make(chan struct{})}
	go rt.run()
	return rt
}

func (rt *Retainer) run() {
	defer close(rt.done)
	t := time.NewTicker(rt.r.Interval)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), rt.r.Interval)
		n, err := rt.Trim(ctx)
		cancel()
		switch {
		case err != nil:
			rt.r.Logger.Warn("events: trimming the outbox failed", "err", err)
		case n > 0:
			rt.r.Logger.Debug("events: trimmed the outbox", "dropped", n)
		}
		select {
		case <-rt.stop:
			return
		case <-t.C:
		}
	}
}

// Trim applies the retention once and returns how many events it dropped.
func (rt *Retainer) Trim(ctx context.Context) (int, error) {
	p := localcases.TrimPolicy{UpTo: math.MaxInt64}
	if rt.r.Count > 0 {
		p.KeepLast = rt.r.Count
	}
	if rt.r.Age > 0 {
		p.Before = rt.r.Clock.Now().Add(-rt.r.Age)
	}
	if p.KeepLast == 0 && p.Before.IsZero() {
		return 0, nil
	}
	var n int
	err := rt.store.Update(ctx, func(tx localcases.Tx) (err error) {
		if rt.r.Pin != nil {
			bound, ok, err := rt.r.Pin(tx)
			if err != nil {
				return fmt.Errorf("retention pin: %w", err)
			}
			if ok {
				p.UpTo = bound
			}
		}
		n, err = tx.TrimEvents(p)
		return err
	})
	return n, err
}

// Close stops the background trims and waits for one in progress.
func (rt *Retainer) Close() {
	rt.closed.Do(func() { close(rt.stop) })
	<-rt.done
}

// Duration is a time.Duration that configuration files write as a Go
// duration string ("24h", "90m"), in YAML and in JSON.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"24h\" or \"90m\", not %s", b)
	}
	return d.parse(s)
}

func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	return d.parse(s)
}

func (d *Duration) parse(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: use Go syntax such as \"24h\" or \"90m\"", s)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) String() string { return time.Duration(d).String() }
