package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/eventpattern"
	"github.com/localcases/localcases/eventsink"
	"github.com/localcases/localcases/fault"
)

// errLeaseLost stops a worker's delivery round: another server holds the
// sink now, or the sink was deleted.
var errLeaseLost = errors.New("lease lost")

// item is one event on its way to a sink.
type item struct {
	seq      int64
	domainID string
	id       string
	data     []byte
	// committed is when the event was appended, for the retry age.
	committed time.Time
	attempts  int
	first     time.Time
	lastErr   error
	// copy is an extra copy a duplicate fault sends: it is not tracked,
	// retried or dead-lettered.
	copy bool
}

// worker delivers one sink: while it holds the sink's lease, a reader fills
// a bounded queue from the outbox and a deliverer empties it.
type worker struct {
	d     *Dispatcher
	cfg   SinkConfig
	pat   *eventpattern.Pattern
	sink  eventsink.Sink
	stats *counters
	log   *slog.Logger

	wakeCh chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	held   atomic.Bool
	// abandoned stops the worker as a crash would: nothing written, the
	// lease left to expire. Tests only.
	abandoned atomic.Bool
}

func (d *Dispatcher) newWorker(c SinkConfig) (*worker, error) {
	_, spec, pat, err := c.Check()
	if err != nil {
		return nil, err
	}
	sink, err := eventsink.New(spec, d.opts.Sink)
	if err != nil {
		return nil, err
	}
	return &worker{
		d: d, cfg: c, pat: pat, sink: sink, stats: d.statsFor(c.Name),
		log:    d.log.With("sink", c.Name),
		wakeCh: make(chan struct{}, 1), done: make(chan struct{}),
	}, nil
}

func (w *worker) start() {
	ctx, cancel := context.WithCancel(w.d.ctx)
	w.cancel = cancel
	go w.run(ctx)
}

// stop cancels the worker and waits for it to release its lease.
func (w *worker) stop() {
	w.cancel()
	<-w.done
	w.sink.Close()
}

func (w *worker) wake() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

func (w *worker) leased() bool { return w.held.Load() }

func (w *worker) now() time.Time { return w.d.opts.Now() }

// run takes the lease whenever it is free and delivers while it holds it.
func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	for ctx.Err() == nil {
		seq, ok, err := w.acquire(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			w.log.Warn("event sink: taking the lease", "err", err)
		case ok:
			w.held.Store(true)
			w.log.Info("event sink: delivering", "from_seq", seq, "owner", w.d.opts.Owner)
			err := w.deliverRound(ctx, seq)
			w.held.Store(false)
			if errors.Is(err, errLeaseLost) {
				w.log.Info("event sink: another server delivers it now")
			} else if err != nil && ctx.Err() == nil {
				w.log.Warn("event sink: delivery stopped", "err", err)
			}
		}
		// Lease held elsewhere: try again well before it would expire.
		if !sleep(ctx, min(w.d.opts.LeaseTTL/3, time.Second)) {
			return
		}
	}
}

// acquire takes the sink's lease if it is free, expired or already ours,
// and returns the cursor.
func (w *worker) acquire(ctx context.Context) (seq int64, ok bool, err error) {
	err = w.d.store.Update(ctx, func(tx localcases.Tx) error {
		c, err := getCursor(tx, w.cfg.Name)
		if err != nil {
			if isNotFound(err) {
				return nil // deleted; the sync loop stops this worker
			}
			return err
		}
		now := w.now()
		if c.Owner != "" && c.Owner != w.d.opts.Owner && now.Before(c.Until) {
			return nil
		}
		c.Owner, c.Until = w.d.opts.Owner, now.Add(w.d.opts.LeaseTTL)
		seq, ok = c.Seq, true
		return tx.Put(cursorsC, "", w.cfg.Name, c)
	})
	return seq, ok, err
}

// persist writes the cursor (never backwards) and renews the lease, or,
// when release, gives the lease up. errLeaseLost when the lease is not ours.
func (w *worker) persist(ctx context.Context, pos int64, release bool) error {
	return w.d.store.Update(ctx, func(tx localcases.Tx) error {
		c, err := getCursor(tx, w.cfg.Name)
		if isNotFound(err) {
			return errLeaseLost
		}
		if err != nil {
			return err
		}
		if c.Owner != w.d.opts.Owner {
			return errLeaseLost
		}
		c.Seq = max(c.Seq, pos)
		c.Until = w.now().Add(w.d.opts.LeaseTTL)
		if release {
			c.Owner, c.Until = "", time.Time{}
		}
		return tx.Put(cursorsC, "", w.cfg.Name, c)
	})
}

// tracker knows which events read from the outbox are not done yet, so the
// cursor never passes one.
type tracker struct {
	mu      sync.Mutex
	readPos int64   // the last sequence number read (matched or not)
	pending []int64 // read and matched, not yet delivered or dead-lettered; ascending
}

// read records that seq was read; matched ones become pending.
func (t *tracker) read(seq int64, matched bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if matched {
		t.pending = append(t.pending, seq)
	}
	t.readPos = seq
}

func (t *tracker) done(seq int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := sort.Search(len(t.pending), func(i int) bool { return t.pending[i] >= seq })
	if i < len(t.pending) && t.pending[i] == seq {
		t.pending = append(t.pending[:i], t.pending[i+1:]...)
	}
}

// position is the cursor: every event up to it is done.
func (t *tracker) position() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.pending) > 0 {
		return t.pending[0] - 1
	}
	return t.readPos
}

func (t *tracker) inFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// readBatch bounds one outbox read.
const readBatch = 256

// readEvery is the shortest time between two outbox reads of a sink that
// is woken by commits (a poll reads regardless).
const readEvery = 10 * time.Millisecond

// deliverRound delivers from seq while the lease holds. On return the
// cursor is written and, unless the lease was lost, released.
func (w *worker) deliverRound(ctx context.Context, seq int64) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tr := &tracker{readPos: seq}
	queue := make(chan item, w.d.opts.QueueSize)
	delivered := make(chan error, 1)
	go func() { delivered <- w.deliverLoop(rctx, queue, tr) }()

	finish := func(err error) error {
		cancel()
		if derr := <-delivered; derr != nil && err == nil && !errors.Is(derr, context.Canceled) {
			err = derr
		}
		if errors.Is(err, errLeaseLost) || w.abandoned.Load() {
			return err
		}
		// Write where we are and give the lease up, even though ctx may
		// be done: a server that stops lets another take over at once.
		wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer wcancel()
		if perr := w.persist(wctx, tr.position(), true); perr != nil && err == nil {
			err = perr
		}
		return err
	}

	saved, savedAt, renewedAt := seq, w.now(), w.now()
	var lastRead time.Time
	full := false
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return finish(nil)
		case err := <-delivered:
			delivered <- err
			return finish(err)
		case <-w.wakeCh:
			// Under load every commit wakes the sink: reading at most
			// every readEvery takes a burst of commits in one read
			// instead of one read per commit.
			if wait := readEvery - time.Since(lastRead); wait > 0 && !sleep(ctx, wait) {
				return finish(nil)
			}
		case <-poll.C:
		}
		lastRead = time.Now()
		now := w.now()
		if pos := tr.position(); (pos != saved && now.Sub(savedAt) >= w.d.opts.CursorEvery) || now.Sub(renewedAt) >= w.d.opts.LeaseTTL/3 {
			if err := w.persist(ctx, pos, false); err != nil {
				return finish(err)
			}
			saved, savedAt, renewedAt = pos, now, now
		}
		more, err := w.fill(ctx, queue, tr)
		if err != nil {
			if ctx.Err() != nil {
				return finish(nil)
			}
			w.log.Warn("event sink: reading the outbox", "err", err)
		}
		switch {
		case more && !full:
			full = true
			w.stats.add(QueueFull, 1, nil, now)
			w.d.observe(Outcome{Sink: w.cfg.Name, Result: QueueFull})
			w.log.Warn("event sink: queue full; events wait in the outbox", "queue", cap(queue), "in_flight", tr.inFlight())
		case !more:
			full = false
		}
		poll.Reset(w.d.opts.Poll)
	}
}

// fill moves events from the outbox to the queue while it has room, and
// reports whether events were left waiting because it had none.
func (w *worker) fill(ctx context.Context, queue chan item, tr *tracker) (more bool, err error) {
	for {
		room := cap(queue) - len(queue)
		if room == 0 {
			var next []localcases.OutboxEvent
			err := w.d.store.View(ctx, func(tx localcases.Tx) (err error) {
				next, err = tx.ListEvents(tr.readPos, "", 1)
				return err
			})
			return len(next) > 0, err
		}
		var evs []localcases.OutboxEvent
		err := w.d.store.View(ctx, func(tx localcases.Tx) (err error) {
			evs, err = tx.ListEvents(tr.readPos, "", min(room, readBatch))
			return err
		})
		if err != nil || len(evs) == 0 {
			return false, err
		}
		for _, ev := range evs {
			matched := w.pat.Match(ev.Data)
			tr.read(ev.Seq, matched)
			if matched {
				queue <- item{seq: ev.Seq, domainID: ev.DomainID, id: eventID(ev.Data), data: ev.Data, committed: ev.Time}
			}
		}
	}
}

// eventID reads an envelope's id. The service writes every envelope with
// version then id first, so the id is read in place; any other shape is
// decoded.
func eventID(data []byte) string {
	if rest, ok := bytes.CutPrefix(data, envelopeStart); ok {
		if i := bytes.IndexByte(rest, '"'); i >= 0 && bytes.IndexByte(rest[:i], '\\') < 0 {
			return string(rest[:i])
		}
	}
	var env struct {
		ID string `json:"id"`
	}
	json.Unmarshal(data, &env)
	return env.ID
}

// envelopeStart is how the service's envelopes begin.
var envelopeStart = []byte(`{"version":"0","id":"`)

// held is an event an event rule holds back.
type held struct {
	it  item
	due time.Time
	// reorder: released as soon as a later event goes out, at due at
	// the latest.
	reorder bool
}

// reorderWait bounds how long a reordered event waits for a later one.
const reorderWait = time.Second

// deliverLoop takes batches from the queue, applies the event rules, and
// delivers each batch, retrying, until ctx ends.
func (w *worker) deliverLoop(ctx context.Context, queue chan item, tr *tracker) error {
	var holds []held
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var batch []item
		var wake <-chan time.Time
		if len(holds) > 0 {
			due := holds[0].due
			for _, h := range holds[1:] {
				if h.due.Before(due) {
					due = h.due
				}
			}
			timer.Reset(max(due.Sub(w.now()), 0))
			wake = timer.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case it := <-queue:
			batch = append(batch, it)
		case <-wake:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	fill:
		for len(batch) < w.d.opts.BatchSize {
			select {
			case it := <-queue:
				batch = append(batch, it)
			default:
				break fill
			}
		}
		var send []item
		for _, it := range batch {
			send, holds = w.applyFaults(it, tr, send, holds)
		}
		now := w.now()
		kept := holds[:0]
		var released []item
		for _, h := range holds {
			if !now.Before(h.due) || (h.reorder && len(send) > 0) {
				released = append(released, h.it)
			} else {
				kept = append(kept, h)
			}
		}
		holds = kept
		send = append(send, released...)
		if len(send) == 0 {
			continue
		}
		if err := w.deliverBatch(ctx, send, tr); err != nil {
			return err
		}
	}
}

// applyFaults asks the fault engine about an event handed to the sink for
// the first time, records what a rule did, and adds the event to send or
// holds accordingly.
func (w *worker) applyFaults(it item, tr *tracker, send []item, holds []held) ([]item, []held) {
	f := w.d.opts.Faults
	if f == nil {
		return append(send, it), holds
	}
	now := w.now()
	d, ok := f.DecideEvent(fault.Event{Sink: w.cfg.Name, DomainID: it.domainID, EventID: it.id, Seq: it.seq, Time: now})
	if !ok {
		return append(send, it), holds
	}
	if r := w.d.opts.Recorder; r != nil {
		r.AddEvent(fault.EventRecord{Time: now.UTC(), Sink: w.cfg.Name, EventID: it.id, Seq: it.seq, DomainID: it.domainID,
			Action: d.Action, RuleID: d.RuleID, Delay: d.Delay, Copies: d.Copies})
	}
	w.d.observe(Outcome{Sink: w.cfg.Name, Seq: it.seq, EventID: it.id, Result: Faulted, Fault: d.Action})
	switch d.Action {
	case fault.ActionDrop:
		tr.done(it.seq)
	case fault.ActionDuplicate:
		send = append(send, it)
		for range d.Copies {
			c := it
			c.copy = true
			send = append(send, c)
		}
	case fault.ActionDelay:
		holds = append(holds, held{it: it, due: now.Add(d.Delay)})
	case fault.ActionReorder:
		holds = append(holds, held{it: it, due: now.Add(reorderWait), reorder: true})
	default:
		send = append(send, it)
	}
	return send, holds
}

// deliverGrace is how long a delivery in flight when the server stops may
// take to finish. Cancelled at once, a POST the sink had already taken
// would count as undelivered and go again from the next owner.
const deliverGrace = 2 * time.Second

// afterGrace returns a context that ends grace after ctx does.
func afterGrace(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return dctx, func() { stop(); cancel() }
}

// deliverBatch delivers a batch, sending failed events again after a
// backoff until each is delivered or dead-lettered. Only ctx ending stops
// it early.
func (w *worker) deliverBatch(ctx context.Context, batch []item, tr *tracker) error {
	for len(batch) > 0 {
		evs := make([]eventsink.Event, len(batch))
		for i, it := range batch {
			evs[i] = eventsink.Event{ID: it.id, Data: it.data}
		}
		began := time.Now()
		dctx, dcancel := afterGrace(ctx, deliverGrace)
		errs := w.sink.Deliver(dctx, evs)
		dcancel()
		took := time.Since(began)
		if ctx.Err() != nil {
			// Stopping: what was delivered is recorded, so the cursor this
			// server writes as it lets go includes it; the rest is left to
			// the next owner, neither retried nor dead.
			for i, it := range batch {
				if errs[i] == nil && !it.copy {
					tr.done(it.seq)
				}
			}
			return ctx.Err()
		}
		now := w.now()
		var again, dead []item
		delivered := 0
		for i, it := range batch {
			err := errs[i]
			if it.copy {
				if err == nil {
					delivered++
					w.d.observe(Outcome{Sink: w.cfg.Name, Seq: it.seq, EventID: it.id, Result: Delivered, Attempt: 1, Duration: took})
				}
				continue
			}
			switch {
			case err == nil:
				delivered++
				tr.done(it.seq)
				w.d.observe(Outcome{Sink: w.cfg.Name, Seq: it.seq, EventID: it.id, Result: Delivered, Attempt: it.attempts + 1, Duration: took})
				continue
			case errors.Is(err, eventsink.ErrNotAttempted):
				again = append(again, it)
				continue
			}
			it.attempts++
			it.lastErr = err
			if it.first.IsZero() {
				it.first = now
			}
			w.stats.add(Failed, 1, err, now)
			w.d.observe(Outcome{Sink: w.cfg.Name, Seq: it.seq, EventID: it.id, Result: Failed, Attempt: it.attempts, Err: err, Duration: took})
			if eventsink.IsPermanent(err) || it.attempts >= w.d.opts.Retry.MaxAttempts || now.Sub(it.committed) >= w.d.opts.Retry.MaxAge {
				dead = append(dead, it)
				continue
			}
			again = append(again, it)
		}
		if delivered > 0 {
			w.stats.add(Delivered, int64(delivered), nil, now)
		}
		if len(dead) > 0 {
			if err := w.deadLetter(ctx, dead); err != nil {
				return err
			}
			for _, it := range dead {
				tr.done(it.seq)
			}
		}
		if len(again) == 0 {
			return nil
		}
		n := 0
		for _, it := range again {
			n = max(n, it.attempts)
		}
		if !sleep(ctx, w.d.opts.Retry.backoff(max(n, 1), jitter)) {
			return ctx.Err()
		}
		batch = again
	}
	return nil
}

// deadLetter writes dead-letter records, retrying a store that fails until
// ctx ends: an event leaves the sink's queue only once it is kept.
func (w *worker) deadLetter(ctx context.Context, items []item) error {
	for attempt := 1; ; attempt++ {
		err := w.d.store.Update(ctx, func(tx localcases.Tx) error {
			for _, it := range items {
				dl := DeadLetter{
					Sink: w.cfg.Name, Seq: it.seq, EventID: it.id, DomainID: it.domainID, Event: it.data,
					Attempts: it.attempts, First: it.first.UTC(), Last: w.now().UTC(), Error: it.lastErr.Error(),
				}
				var old DeadLetter
				if err := tx.Get(deadLettersC, w.cfg.Name, it.id, &old); err == nil {
					dl.Attempts += old.Attempts
					dl.First = old.First
				}
				if err := tx.Put(deadLettersC, w.cfg.Name, it.id, dl); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			now := w.now()
			w.stats.add(DeadLettered, int64(len(items)), nil, now)
			for _, it := range items {
				w.d.observe(Outcome{Sink: w.cfg.Name, Seq: it.seq, EventID: it.id, Result: DeadLettered, Attempt: it.attempts, Err: it.lastErr})
				w.log.Warn("event sink: dead-lettered", "seq", it.seq, "event_id", it.id, "attempts", it.attempts, "err", it.lastErr)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.log.Warn("event sink: writing a dead letter", "err", err)
		if !sleep(ctx, w.d.opts.Retry.backoff(attempt, jitter)) {
			return ctx.Err()
		}
	}
}

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
