package sqlstore

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/localcases/localcases"
)

// Writer is the group commit both SQL engines use: one goroutine takes
// every Update waiting at that moment, hands the batch to the engine's
// commit, and answers the callers once commit returns. The engine runs
// each Request in its own savepoint of one transaction, so a function's
// error or panic undoes its writes alone, and each function runs exactly
// once.
type Writer struct {
	queue     chan *Request
	closing   chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closedErr error
	maxBatch  int
	commit    func(live []*Request)
	// waiting counts callers blocked handing a request to the writer.
	waiting atomic.Int64
}

// NewWriter starts a writer that runs batches of at most maxBatch
// requests through commit, which gets only the requests whose callers are
// still waiting, and must record each one's outcome (Run, Fail). Update
// returns closedErr once Close has begun.
func NewWriter(maxBatch int, closedErr error, commit func(live []*Request)) *Writer {
	w := &Writer{queue: make(chan *Request), closing: make(chan struct{}), done: make(chan struct{}),
		closedErr: closedErr, maxBatch: maxBatch, commit: commit}
	go w.loop()
	return w
}

const (
	queued int32 = iota
	taken
	abandoned
)

// Request is one Update waiting for the writer.
type Request struct {
	fn    func(localcases.Tx) error
	state atomic.Int32
	done  chan struct{}

	err      error
	panicked bool
	panicVal any
}

// Update queues fn for the writer and waits until the transaction that ran
// it has committed (nil) or fn's error (or the commit's) is known. If ctx
// ends while fn is still queued, fn never runs and Update returns ctx's
// error; once fn has started, Update waits for the outcome, because the
// write may then be committed.
func (w *Writer) Update(ctx context.Context, fn func(localcases.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &Request{fn: fn, done: make(chan struct{})}
	w.waiting.Add(1)
	select {
	case w.queue <- r:
		w.waiting.Add(-1)
	case <-ctx.Done():
		w.waiting.Add(-1)
		return ctx.Err()
	case <-w.closing:
		w.waiting.Add(-1)
		return w.closedErr
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(queued, abandoned) {
			return ctx.Err()
		}
		<-r.done
	}
	if r.panicked {
		// Re-raised in the caller's goroutine so it fails the request that
		// caused it (net/http recovers it there), not the whole server.
		panic(r.panicVal)
	}
	return r.err
}

// Waiting is how many callers are blocked handing a request to the writer.
func (w *Writer) Waiting() int { return int(w.waiting.Load()) }

// Closed is closed once Close has begun.
func (w *Writer) Closed() <-chan struct{} { return w.closing }

// Close stops the writer once the batch in hand is committed. Updates
// still waiting get closedErr.
func (w *Writer) Close() {
	w.closeOnce.Do(func() {
		close(w.closing)
		<-w.done
	})
}

func (w *Writer) loop() {
	defer close(w.done)
	batch := make([]*Request, 0, w.maxBatch)
	for {
		select {
		case r := <-w.queue:
			batch = append(batch[:0], r)
		case <-w.closing:
			return
		}
		// Take whoever queued while the previous commit was syncing; no
		// waiting for more, so a lone writer pays no extra latency.
	fill:
		for len(batch) < w.maxBatch {
			select {
			case r := <-w.queue:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		live := batch[:0:0]
		for _, r := range batch {
			if r.state.CompareAndSwap(queued, taken) {
				live = append(live, r)
			}
		}
		if len(live) > 0 {
			w.commit(live)
		}
		for _, r := range live {
			close(r.done)
		}
		clear(batch)
	}
}

// Run calls the request's function on t, turning a panic into a failure
// of this request (logged with its stack to log); Update re-raises it in
// the caller's goroutine.
func (r *Request) Run(t *Tx, log *slog.Logger) {
	defer func() {
		t.End()
		if v := recover(); v != nil {
			r.panicked, r.panicVal = true, v
			log.Error("update function panicked", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	r.err = r.fn(t)
	if r.err == nil && t.Err() != nil {
		// fn swallowed a database error; its writes cannot be trusted.
		r.err = t.Err()
	}
}

// OK reports whether the request has neither failed nor panicked.
func (r *Request) OK() bool { return r.err == nil && !r.panicked }

// Fail records err as the request's outcome unless it has one already.
func (r *Request) Fail(err error) {
	if r.OK() {
		r.err = err
	}
}

// FailAll fails every request of a batch that has not failed already.
func FailAll(batch []*Request, err error) {
	for _, r := range batch {
		r.Fail(err)
	}
}
