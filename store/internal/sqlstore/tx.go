package sqlstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/localcases/localcases"
)

// Queries are an engine's SQL inside one transaction: the part of a
// localcases.Tx that database/sql and pgx write differently. Every error
// they return is a database error, after which Tx refuses further calls.
type Queries interface {
	// Get returns the record's JSON, or found false.
	Get(c localcases.Collection, scope, id string) (data []byte, found bool, err error)
	// Put inserts or replaces the record's JSON.
	Put(c localcases.Collection, scope, id string, data []byte) error
	// Delete removes the record and reports whether there was one.
	Delete(c localcases.Collection, scope, id string) (found bool, err error)
	// ListPage appends to page at most limit records of (c, scope) with a
	// sequence number above after, in sequence order. It reads the whole
	// page before returning, so the caller may run other statements on the
	// transaction while it handles the page.
	ListPage(c localcases.Collection, scope string, after int64, limit int, page []localcases.Raw) ([]localcases.Raw, error)
	// Count counts the records of (c, scope).
	Count(c localcases.Collection, scope string) (int, error)
	// DeleteScope removes every record of (c, scope).
	DeleteScope(c localcases.Collection, scope string) error

	// SetIndex makes keys, sorted and unique (see Keys), the keys of owner
	// in index name.
	SetIndex(name, owner string, keys [][]byte) error
	// ScanPage runs ScanQueries[variant] with args and appends its rows to
	// page (see Walk).
	ScanPage(variant int, args []any, page []Entry) ([]Entry, error)
	// CountIndex runs Counts[variant] with args.
	CountIndex(variant int, args []any) (int, error)
	// IndexMark and IndexChangedSince read the index log, which SetIndex
	// writes in the same statements or transaction as the keys (see
	// localcases.IndexLogTx).
	IndexMark() (string, error)
	IndexChangedSince(mark string, limit int) (owners []string, ok bool, err error)

	TextQueries

	// AppendEvent inserts an outbox event (at in Unix milliseconds) and
	// returns its sequence number.
	AppendEvent(domainID string, atMillis int64, data []byte) (int64, error)
	// ListEvents reads at most limit events after a sequence number, of
	// one domain unless domainID is "".
	ListEvents(after int64, domainID string, limit int) ([]localcases.OutboxEvent, error)
	// TrimEvents deletes the events beyond the newest keepLast (0: no
	// bound) or older than beforeMillis, up to sequence number upTo, and
	// records the highest one deleted for LastEventSeq.
	TrimEvents(keepLast int, beforeMillis, upTo int64) (int, error)
	// LastEventSeq is the highest sequence number appended, trimmed or not.
	LastEventSeq() (int64, error)
}

// ListPage is how many records Tx.List reads per query. Reading in pages
// rather than holding a cursor lets fn run other statements on the same
// connection (which pgx cannot do while a result is open), and keeps an
// early stop cheap.
const ListPage = 128

// ErrTxDone is returned by a Tx used after its function returned.
var ErrTxDone = errors.New("transaction used after its function returned")

// Tx is a localcases.Tx and IndexTx on an engine's Queries: it holds what
// the SQL engines share, the record encoding, the checks that come before
// every statement, and the paging of List and ScanIndex.
type Tx struct {
	q        Queries
	engine   string // prefixes errors: "sqlite", "postgres"
	readOnly bool
	done     bool
	// broken is the first database error. After one, SQLite may have
	// rolled back the whole transaction, so that a later statement would
	// run (and commit) on its own, and PostgreSQL refuses every later
	// statement anyway; so every call after it fails, saying why.
	broken error
}

var (
	_ localcases.Tx         = (*Tx)(nil)
	_ localcases.IndexTx    = (*Tx)(nil)
	_ localcases.IndexLogTx = (*Tx)(nil)
)

// NewTx returns a transaction of engine on q; a readOnly one refuses
// writes.
func NewTx(engine string, q Queries, readOnly bool) *Tx {
	return &Tx{q: q, engine: engine, readOnly: readOnly}
}

// End stops a function that kept its Tx from writing into a later
// caller's transaction.
func (t *Tx) End() { t.done = true }

// Err is the first database error the transaction met, if any: a function
// that swallowed it must not have its writes committed.
func (t *Tx) Err() error { return t.broken }

func (t *Tx) check(write bool, what string) error {
	switch {
	case t.done:
		return fmt.Errorf("%s: %w", t.engine, ErrTxDone)
	case t.broken != nil:
		return t.broken
	case write && t.readOnly:
		return fmt.Errorf("%s: %s in a read-only transaction", t.engine, what)
	}
	return nil
}

func (t *Tx) checkRecords(write bool, c localcases.Collection) error {
	return t.check(write, "write to "+string(c))
}

func (t *Tx) checkIndex(write bool, name string) error {
	return t.check(write, "set index "+name)
}

func (t *Tx) fail(err error) error {
	t.broken = fmt.Errorf("%s: %w", t.engine, err)
	return t.broken
}

func notFound(c localcases.Collection, id string) error {
	return fmt.Errorf("%s %s: %w", c, id, localcases.ErrNotFound)
}

func (t *Tx) Get(c localcases.Collection, scope, id string, dst any) error {
	if err := t.checkRecords(false, c); err != nil {
		return err
	}
	data, found, err := t.q.Get(c, scope, id)
	if err != nil {
		return t.fail(err)
	}
	if !found {
		return notFound(c, id)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("decode %s %s: %w", c, id, err)
	}
	return nil
}

func (t *Tx) Put(c localcases.Collection, scope, id string, v any) error {
	if err := t.checkRecords(true, c); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", c, err)
	}
	if err := t.q.Put(c, scope, id, data); err != nil {
		return t.fail(err)
	}
	return nil
}

// BulkQueries is implemented by the Queries of an engine with a faster
// way to put many records, index entries or documents than a call each.
type BulkQueries interface {
	// PutMany puts records' JSON, in order, as Put would.
	PutMany(records []localcases.SnapshotRecord) error
	// SetIndexMany does SetIndex for each owner in order; each owner's
	// keys are sorted and unique (see Keys).
	SetIndexMany(name string, owners []localcases.IndexKeys) error
	// SetTextMany does SetText for each document in order.
	SetTextMany(name string, docs []localcases.TextDoc) error
}

var _ localcases.BulkTx = (*Tx)(nil)

// PutMany puts records in order, through the engine's BulkQueries if it
// has them.
func (t *Tx) PutMany(records []localcases.SnapshotRecord) error {
	bq, ok := t.q.(BulkQueries)
	if !ok {
		for _, r := range records {
			if err := t.Put(r.Collection, r.Scope, r.ID, r.Data); err != nil {
				return err
			}
		}
		return nil
	}
	if err := t.check(true, "put many records"); err != nil {
		return err
	}
	if err := bq.PutMany(records); err != nil {
		return t.fail(err)
	}
	return nil
}

// SetIndexMany sets each owner's keys in order, through the engine's
// BulkQueries if it has them.
func (t *Tx) SetIndexMany(name string, owners []localcases.IndexKeys) error {
	bq, ok := t.q.(BulkQueries)
	if !ok {
		for _, o := range owners {
			if err := t.SetIndex(name, o.Owner, o.Keys); err != nil {
				return err
			}
		}
		return nil
	}
	if err := t.checkIndex(true, name); err != nil {
		return err
	}
	own := make([]localcases.IndexKeys, len(owners))
	for i, o := range owners {
		own[i] = localcases.IndexKeys{Owner: o.Owner, Keys: Keys(o.Keys)}
	}
	if err := bq.SetIndexMany(name, own); err != nil {
		return t.fail(err)
	}
	return nil
}

// SetTextMany sets each owner's document in order, through the engine's
// BulkQueries if it has them.
func (t *Tx) SetTextMany(name string, docs []localcases.TextDoc) error {
	bq, ok := t.q.(BulkQueries)
	if !ok {
		for _, d := range docs {
			if err := t.SetText(name, d.Owner, d.Doc); err != nil {
				return err
			}
		}
		return nil
	}
	if err := t.check(true, "set text "+name); err != nil {
		return err
	}
	if err := bq.SetTextMany(name, docs); err != nil {
		return t.fail(err)
	}
	return nil
}

// LastOfEach returns the items whose key no later item has, in order:
// what is left of many writes to one address each after the last one.
func LastOfEach[T any, K comparable](items []T, key func(*T) K) []T {
	last := make(map[K]int, len(items))
	for i := range items {
		last[key(&items[i])] = i
	}
	if len(last) == len(items) {
		return items
	}
	out := make([]T, 0, len(last))
	for i := range items {
		if last[key(&items[i])] == i {
			out = append(out, items[i])
		}
	}
	return out
}

func (t *Tx) Delete(c localcases.Collection, scope, id string) error {
	if err := t.checkRecords(true, c); err != nil {
		return err
	}
	found, err := t.q.Delete(c, scope, id)
	if err != nil {
		return t.fail(err)
	}
	if !found {
		return notFound(c, id)
	}
	return nil
}

func (t *Tx) List(c localcases.Collection, scope string, after int64, fn func(localcases.Raw) (bool, error)) error {
	if err := t.checkRecords(false, c); err != nil {
		return err
	}
	page := make([]localcases.Raw, 0, ListPage)
	for {
		var err error
		if page, err = t.q.ListPage(c, scope, after, ListPage, page[:0]); err != nil {
			return t.fail(err)
		}
		for _, r := range page {
			more, err := fn(r)
			if err != nil || !more {
				return err
			}
		}
		if len(page) < ListPage {
			return nil
		}
		after = page[len(page)-1].Seq
	}
}

func (t *Tx) Count(c localcases.Collection, scope string) (int, error) {
	if err := t.checkRecords(false, c); err != nil {
		return 0, err
	}
	n, err := t.q.Count(c, scope)
	if err != nil {
		return 0, t.fail(err)
	}
	return n, nil
}

func (t *Tx) DeleteScope(c localcases.Collection, scope string) error {
	if err := t.checkRecords(true, c); err != nil {
		return err
	}
	if err := t.q.DeleteScope(c, scope); err != nil {
		return t.fail(err)
	}
	return nil
}

func (t *Tx) SetIndex(name, owner string, keys [][]byte) error {
	if err := t.checkIndex(true, name); err != nil {
		return err
	}
	if err := t.q.SetIndex(name, owner, Keys(keys)); err != nil {
		return t.fail(err)
	}
	return nil
}

func (t *Tx) ScanIndex(name string, prefix, after []byte, desc bool, fn func(key []byte, owner string) (bool, error)) error {
	return t.scanIndex(name, prefix, after, desc, nil, fn)
}

func (t *Tx) ScanIndexAlso(name string, prefix, after []byte, desc bool, also string, alsoPrefix []byte, fn func(key []byte, owner string) (bool, error)) error {
	return t.scanIndex(name, prefix, after, desc, &Also{Index: also, Prefix: alsoPrefix}, fn)
}

func (t *Tx) scanIndex(name string, prefix, after []byte, desc bool, also *Also, fn func(key []byte, owner string) (bool, error)) error {
	if err := t.checkIndex(false, name); err != nil {
		return err
	}
	return Walk(name, prefix, after, desc, also, func(v int, args []any, page []Entry) ([]Entry, error) {
		page, err := t.q.ScanPage(v, args, page)
		if err != nil {
			return nil, t.fail(err)
		}
		return page, nil
	}, fn)
}

func (t *Tx) CountIndex(name string, prefix []byte) (int, error) {
	if err := t.checkIndex(false, name); err != nil {
		return 0, err
	}
	n, err := t.q.CountIndex(Count(name, prefix))
	if err != nil {
		return 0, t.fail(err)
	}
	return n, nil
}

func (t *Tx) IndexMark() (string, error) {
	if err := t.check(false, ""); err != nil {
		return "", err
	}
	m, err := t.q.IndexMark()
	if err != nil {
		return "", t.fail(err)
	}
	return m, nil
}

func (t *Tx) IndexChangedSince(mark string, limit int) ([]string, bool, error) {
	if err := t.check(false, ""); err != nil {
		return nil, false, err
	}
	owners, ok, err := t.q.IndexChangedSince(mark, limit)
	if err != nil {
		return nil, false, t.fail(err)
	}
	return owners, ok, nil
}

func (t *Tx) checkOutbox(write bool) error { return t.check(write, "write to the event outbox") }

func (t *Tx) AppendEvent(domainID string, at time.Time, data []byte) (int64, error) {
	if err := t.checkOutbox(true); err != nil {
		return 0, err
	}
	seq, err := t.q.AppendEvent(domainID, at.UTC().UnixMilli(), data)
	if err != nil {
		return 0, t.fail(err)
	}
	return seq, nil
}

func (t *Tx) ListEvents(after int64, domainID string, limit int) ([]localcases.OutboxEvent, error) {
	if err := t.checkOutbox(false); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	evs, err := t.q.ListEvents(after, domainID, limit)
	if err != nil {
		return nil, t.fail(err)
	}
	return evs, nil
}

func (t *Tx) TrimEvents(p localcases.TrimPolicy) (int, error) {
	if err := t.checkOutbox(true); err != nil {
		return 0, err
	}
	var before int64 = -1 << 63
	if !p.Before.IsZero() {
		before = p.Before.UTC().UnixMilli()
	}
	n, err := t.q.TrimEvents(p.KeepLast, before, p.UpTo)
	if err != nil {
		return 0, t.fail(err)
	}
	return n, nil
}

func (t *Tx) LastEventSeq() (int64, error) {
	if err := t.checkOutbox(false); err != nil {
		return 0, err
	}
	n, err := t.q.LastEventSeq()
	if err != nil {
		return 0, t.fail(err)
	}
	return n, nil
}
