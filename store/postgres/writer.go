package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/internal/sqlstore"
)

// ErrClosed is returned by View and Update after Close.
var ErrClosed = errors.New("postgres: store is closed")

// MaxBatch is how many callers' functions one write transaction carries
// at most.
const maxBatch = 256

// flushAt is how many statements a function may queue before they are
// sent: bounds the memory of a function that writes a great deal (a
// reindex, an import) while keeping a short one to one round trip.
const flushAt = 512

// Update queues fn for this process's writer (see sqlstore.Writer) and
// waits for the outcome of the transaction that ran it.
func (s *Store) Update(ctx context.Context, fn func(localcases.Tx) error) error {
	return s.writer.Update(ctx, fn)
}

// commit runs a batch in one transaction holding the store's advisory lock.
func (s *Store) commit(live []*sqlstore.Request) {
	// Never a caller's context: cancelling one would break the connection
	// under the others' writes.
	ctx := context.Background()
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		sqlstore.FailAll(live, fmt.Errorf("postgres: begin: %w", err))
		return
	}
	defer ptx.Rollback(ctx)
	if _, err := ptx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.lockKey); err != nil {
		sqlstore.FailAll(live, fmt.Errorf("postgres: lock: %w", err))
		return
	}
	b := &txBatch{ctx: ctx, tx: ptx, cache: make(map[rkey]rval), lists: make(map[lkey][]localcases.Raw)}
	for _, r := range live {
		w := b.newWrite()
		r.Run(sqlstore.NewTx("postgres", w, false), s.log)
		if r.OK() {
			if err := w.finish(); err != nil {
				r.Fail(fmt.Errorf("postgres: %w", err))
			}
		}
		if !r.OK() {
			// If the savepoint cannot be rolled back to, the transaction is
			// lost: then no caller of the batch may be told its write is in.
			if err := w.undo(); err != nil {
				sqlstore.FailAll(live, fmt.Errorf("postgres: transaction lost after an error: %w", err))
				return
			}
		}
	}
	if err := ptx.Commit(ctx); err != nil {
		sqlstore.FailAll(live, fmt.Errorf("postgres: commit: %w", err))
		return
	}
	if s.commits.Add(1)%logTrimEvery == 0 {
		// On its own: a failure here must not undo the batch, and a
		// reader only ever finds the log longer than needed.
		if _, err := s.pool.Exec(ctx, trimSQL, logKeep); err != nil {
			s.log.Warn("trim the index log", "err", err)
		}
	}
}

// rkey names a record; rval is what a transaction knows of it.
type rkey struct {
	c         localcases.Collection
	scope, id string
}

// lkey names a List page.
type lkey struct {
	c     localcases.Collection
	scope string
	after int64
	limit int
}

// forget drops what the cache holds of record k, and the List pages of
// its scope.
func (b *txBatch) forget(k rkey) {
	delete(b.cache, k)
	for l := range b.lists {
		if l.c == k.c && l.scope == k.scope {
			delete(b.lists, l)
		}
	}
}

type rval struct {
	data  []byte
	found bool
}

// txBatch is one write transaction: the functions of a batch run in turn,
// each inside SAVEPOINT w.
type txBatch struct {
	ctx context.Context
	tx  pgx.Tx
	// cache holds records as the functions that finished so far left
	// them: while the transaction holds the store's lock no other writer
	// changes them, so a record that every case of a batch reads (its
	// domain, its template, its fields) is read once.
	cache map[rkey]rval
	// lists holds List pages read while no function had written to their
	// scope, as cache holds records: the field definitions that every
	// case of a batch lists are read once.
	lists map[lkey][]localcases.Raw
	// seqs are event sequence numbers reserved for this transaction and
	// not used yet, in increasing order. They are taken under the lock,
	// so they are above every number a committed transaction used, and
	// below every number a later one will use: commit order.
	seqs    []int64
	reserve int
}

func (b *txBatch) newWrite() *writeQueries {
	return &writeQueries{queries: queries{ctx: b.ctx, tx: b.tx}, b: b, overlay: make(map[rkey]rval), sets: make(map[[2]string][][]byte)}
}

// writeQueries are one function's statements. Record, index and event
// writes are queued and sent together, in one round trip, when the
// function returns (or before a read that the queue could change, or when
// the queue is long); a record the function wrote is read back from its
// overlay. The function's first statement also opens its savepoint, in
// the same round trip, so that a failure rolls back the function alone.
type writeQueries struct {
	queries
	b *txBatch
	// overlay: the records written by statements still queued.
	overlay map[rkey]rval
	pending pgx.Batch
	// sets: the index entries queued, by index and owner, the last
	// SetIndex of each; sent as one statement (setIndexesSQL).
	sets map[[2]string][][]byte
	// open: SAVEPOINT w has been sent. flushed: some of the function's
	// writes have been sent, so the database shows them and what it
	// returns is no longer the batch's state alone.
	open, flushed bool
}

var _ sqlstore.Queries = (*writeQueries)(nil)

// send sends b, after SAVEPOINT w if it is not open yet.
func (w *writeQueries) send(b *pgx.Batch) error {
	if !w.open {
		b.QueuedQueries = append([]*pgx.QueuedQuery{{SQL: "SAVEPOINT w"}}, b.QueuedQueries...)
		w.open = true
	}
	return w.tx.SendBatch(w.ctx, b).Close()
}

// queued is how many writes are waiting to be sent.
func (w *writeQueries) queued() int { return w.pending.Len() + len(w.sets) }

// take returns the queued writes as one batch and empties the queue.
func (w *writeQueries) take() *pgx.Batch {
	b := w.pending
	w.pending = pgx.Batch{}
	if len(w.sets) > 0 {
		var names, owners, keyNames, keyOwners []string
		var keys [][]byte
		for no, ks := range w.sets {
			names, owners = append(names, no[0]), append(owners, no[1])
			for _, k := range ks {
				keyNames, keyOwners, keys = append(keyNames, no[0]), append(keyOwners, no[1]), append(keys, k)
			}
		}
		clear(w.sets)
		b.Queue(setIndexesSQL, keyNames, keyOwners, keys, names, owners)
	}
	return &b
}

// flush sends the queued writes.
func (w *writeQueries) flush() error {
	if w.queued() == 0 {
		if w.open {
			return nil
		}
		return w.send(&pgx.Batch{})
	}
	b := w.take()
	for k := range w.overlay {
		w.b.forget(k)
	}
	clear(w.overlay)
	w.flushed = true
	return w.send(b)
}

func (w *writeQueries) queue(sql string, args ...any) error {
	w.pending.Queue(sql, args...)
	return w.flushIfLong()
}

func (w *writeQueries) flushIfLong() error {
	if w.queued() >= flushAt {
		return w.flush()
	}
	return nil
}

// finish sends what the function queued and releases its savepoint.
func (w *writeQueries) finish() error {
	if w.queued() > 0 || w.open {
		b := w.take()
		b.Queue("RELEASE w")
		if err := w.send(b); err != nil {
			return err
		}
		w.open = false
	}
	for k, v := range w.overlay {
		w.b.forget(k)
		w.b.cache[k] = v
	}
	return nil
}

// undo rolls the function's writes back.
func (w *writeQueries) undo() error {
	w.pending = pgx.Batch{}
	clear(w.sets)
	clear(w.overlay)
	if !w.open {
		return nil
	}
	if _, err := w.tx.Exec(w.ctx, "ROLLBACK TO w"); err != nil {
		return err
	}
	_, err := w.tx.Exec(w.ctx, "RELEASE w")
	w.open = false
	return err
}

func (w *writeQueries) Get(c localcases.Collection, scope, id string) ([]byte, bool, error) {
	k := rkey{c, scope, id}
	if v, ok := w.overlay[k]; ok {
		return v.data, v.found, nil
	}
	if v, ok := w.b.cache[k]; ok && !w.flushed {
		return v.data, v.found, nil
	}
	var b pgx.Batch
	v := rval{found: true}
	b.Queue(getSQL, string(c), scope, id).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&v.data)
		if errors.Is(err, pgx.ErrNoRows) {
			v.found = false
			return nil
		}
		return err
	})
	if err := w.send(&b); err != nil {
		return nil, false, err
	}
	if !w.flushed {
		w.b.cache[k] = v
	}
	return v.data, v.found, nil
}

func (w *writeQueries) Put(c localcases.Collection, scope, id string, data []byte) error {
	w.overlay[rkey{c, scope, id}] = rval{data: data, found: true}
	return w.queue(putSQL, string(c), scope, id, string(data))
}

func (w *writeQueries) Delete(c localcases.Collection, scope, id string) (bool, error) {
	_, found, err := w.Get(c, scope, id)
	if err != nil || !found {
		return false, err
	}
	w.overlay[rkey{c, scope, id}] = rval{}
	return true, w.queue(deleteSQL, string(c), scope, id)
}

// SetIndex replaces what an earlier SetIndex of the same owner queued:
// only the last counts.
func (w *writeQueries) SetIndex(name, owner string, keys [][]byte) error {
	w.sets[[2]string{name, owner}] = keys
	return w.flushIfLong()
}

// reserveSQL takes $1 numbers from the outbox's sequence.
const reserveSQL = `SELECT array_agg(nextval(pg_get_serial_sequence('events', 'seq')::regclass))
	FROM generate_series(1, $1)`

// AppendEvent numbers the event from the transaction's reserve, so the
// caller has its number without a round trip of its own.
func (w *writeQueries) AppendEvent(domainID string, at int64, data []byte) (int64, error) {
	if len(w.b.seqs) == 0 {
		w.b.reserve = min(max(2*w.b.reserve, 16), 1024)
		var b pgx.Batch
		b.Queue(reserveSQL, w.b.reserve).
			QueryRow(func(row pgx.Row) error { return row.Scan(&w.b.seqs) })
		if err := w.send(&b); err != nil {
			return 0, err
		}
		slices.Sort(w.b.seqs)
	}
	seq := w.b.seqs[0]
	w.b.seqs = w.b.seqs[1:]
	return seq, w.queue(`INSERT INTO events (seq, domain, at, data) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4)`,
		seq, domainID, at, string(data))
}

// The reads below depend on the queued writes: they flush them first.

// ListPage answers from the batch's pages while the function has sent no
// writes and queued none to this scope.
func (w *writeQueries) ListPage(c localcases.Collection, scope string, after int64, limit int, page []localcases.Raw) ([]localcases.Raw, error) {
	l := lkey{c, scope, after, limit}
	clean := !w.flushed
	for k := range w.overlay {
		if k.c == c && k.scope == scope {
			clean = false
			break
		}
	}
	if cached, ok := w.b.lists[l]; ok && clean {
		return append(page, cached...), nil
	}
	if clean {
		// No write of this function shows in the page: the queued ones
		// may wait.
		if !w.open {
			if err := w.send(&pgx.Batch{}); err != nil {
				return nil, err
			}
		}
	} else if err := w.flush(); err != nil {
		return nil, err
	}
	n := len(page)
	page, err := w.queries.ListPage(c, scope, after, limit, page)
	if err == nil && clean && !w.flushed {
		w.b.lists[l] = slices.Clone(page[n:])
	}
	return page, err
}

func (w *writeQueries) Count(c localcases.Collection, scope string) (int, error) {
	if err := w.flush(); err != nil {
		return 0, err
	}
	return w.queries.Count(c, scope)
}

func (w *writeQueries) ScanPage(v int, args []any, page []sqlstore.Entry) ([]sqlstore.Entry, error) {
	if err := w.flush(); err != nil {
		return nil, err
	}
	return w.queries.ScanPage(v, args, page)
}

func (w *writeQueries) CountIndex(v int, args []any) (int, error) {
	if err := w.flush(); err != nil {
		return 0, err
	}
	return w.queries.CountIndex(v, args)
}

func (w *writeQueries) ListEvents(after int64, domainID string, limit int) ([]localcases.OutboxEvent, error) {
	if err := w.flush(); err != nil {
		return nil, err
	}
	return w.queries.ListEvents(after, domainID, limit)
}

func (w *writeQueries) LastEventSeq() (int64, error) {
	if err := w.flush(); err != nil {
		return 0, err
	}
	return w.queries.LastEventSeq()
}

func (w *writeQueries) DeleteScope(c localcases.Collection, scope string) error {
	if err := w.flush(); err != nil {
		return err
	}
	w.flushed = true
	for k := range w.b.cache {
		if k.c == c && k.scope == scope {
			delete(w.b.cache, k)
		}
	}
	w.b.forget(rkey{c: c, scope: scope})
	for k := range w.overlay {
		if k.c == c && k.scope == scope {
			delete(w.overlay, k)
		}
	}
	return w.queries.DeleteScope(c, scope)
}

func (w *writeQueries) TrimEvents(keepLast int, before, upTo int64) (int, error) {
	if err := w.flush(); err != nil {
		return 0, err
	}
	w.flushed = true
	return w.queries.TrimEvents(keepLast, before, upTo)
}
