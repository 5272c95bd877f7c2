// Package memory is the in-memory Store engine: nothing touches the disk,
// which makes it the engine for tests and for `serve --memory`.
package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/localcases/localcases"
)

var _ localcases.Store = (*Store)(nil)

type key struct {
	c     localcases.Collection
	scope string
}

type record struct {
	seq  int64
	data []byte
}

type entry struct {
	seq int64
	id  string
}

type bucket struct {
	byID map[string]*record
	// order lists (seq, id) in sequence order. Deletion leaves the entry
	// behind; an entry is live only while byID holds a record with the same
	// seq, and compact drops the dead ones once they pile up.
	order []entry
	dead  int
}

// Store is a map of collections guarded by one RWMutex: View takes the read
// lock, Update the write lock, which makes updates serialisable. Records are
// kept as encoded JSON, so a caller can never mutate stored state through a
// shared pointer. A json.RawMessage given to Put is the exception: it is
// stored as given, and the caller must not change it afterwards.
type Store struct {
	mu      sync.RWMutex
	buckets map[key]*bucket
	indexes map[string]*index
	texts   map[string]*textIndex
	ilog    indexLog
	seq     int64
	outbox  outbox
}

// New returns an empty store.
func New() *Store {
	return &Store{buckets: map[key]*bucket{}, indexes: map[string]*index{}, texts: map[string]*textIndex{}}
}

func (s *Store) Kind() string { return "memory" }
func (s *Store) Close() error { return nil }

func (s *Store) View(ctx context.Context, fn func(localcases.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(&tx{s: s, readOnly: true})
}

func (s *Store) Update(ctx context.Context, fn func(localcases.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := &tx{s: s}
	err := s.update(t, fn)
	t.flushTexts()
	return err
}

func (s *Store) update(t *tx, fn func(localcases.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := fn(t); err != nil {
		t.rollback()
		return err
	}
	return nil
}

// Reset drops every record and index entry.
func (s *Store) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets = map[key]*bucket{}
	s.indexes = map[string]*index{}
	s.texts = map[string]*textIndex{}
	// The sequence goes on: a reader's cursor from before the reset must
	// not skip events appended after it.
	s.outbox.events = nil
}

// undo restores one record to its state before the transaction.
type undo struct {
	k    key
	id   string
	prev *record // nil: the record did not exist
}

type tx struct {
	s        *Store
	readOnly bool
	undo     []undo
	iundo    []indexUndo
	tundo    []textUndo
	texts    []*textIndex // the text indexes whose lists it changed
	oundo    outboxUndo
}

func (t *tx) rollback() {
	t.rollbackOutbox()
	t.rollbackText()
	for i := len(t.iundo) - 1; i >= 0; i-- {
		u := t.iundo[i]
		t.s.index(u.name, true).setKeys(u.owner, u.prev)
	}
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		b := t.s.bucket(u.k, true)
		if u.prev == nil {
			delete(b.byID, u.id)
			b.dead++
			continue
		}
		b.byID[u.id] = u.prev
		if !b.hasEntry(u.prev.seq) {
			// compact dropped it while the record was deleted: put it back
			// in its place.
			i := sort.Search(len(b.order), func(i int) bool { return b.order[i].seq >= u.prev.seq })
			b.order = append(b.order, entry{})
			copy(b.order[i+1:], b.order[i:])
			b.order[i] = entry{u.prev.seq, u.id}
		}
	}
}

func (b *bucket) hasEntry(seq int64) bool {
	i := sort.Search(len(b.order), func(i int) bool { return b.order[i].seq >= seq })
	return i < len(b.order) && b.order[i].seq == seq
}

func (s *Store) bucket(k key, create bool) *bucket {
	b := s.buckets[k]
	if b == nil && create {
		b = &bucket{byID: map[string]*record{}}
		s.buckets[k] = b
	}
	return b
}

func (t *tx) Get(c localcases.Collection, scope, id string, dst any) error {
	b := t.s.bucket(key{c, scope}, false)
	if b == nil {
		return fmt.Errorf("%s %s: %w", c, id, localcases.ErrNotFound)
	}
	r, ok := b.byID[id]
	if !ok {
		return fmt.Errorf("%s %s: %w", c, id, localcases.ErrNotFound)
	}
	return json.Unmarshal(r.data, dst)
}

func (t *tx) Put(c localcases.Collection, scope, id string, v any) error {
	if t.readOnly {
		return fmt.Errorf("put %s in a read-only transaction", c)
	}
	var data []byte
	if raw, ok := v.(json.RawMessage); ok && raw != nil {
		// Encoded by the caller, outside the lock, and handed over: the
		// service encodes a record for one Put and never touches it again,
		// and a copy of a case's kilobyte here cost as much as the rest
		// of the Put.
		data = raw
	} else {
		var err error
		if data, err = json.Marshal(v); err != nil {
			return fmt.Errorf("encode %s: %w", c, err)
		}
	}
	t.put(c, scope, id, data)
	return nil
}

// put stores data, which the store owns from now on.
func (t *tx) put(c localcases.Collection, scope, id string, data []byte) {
	k := key{c, scope}
	b := t.s.bucket(k, true)
	if r, ok := b.byID[id]; ok {
		t.undo = append(t.undo, undo{k, id, r})
		b.byID[id] = &record{seq: r.seq, data: data}
		return
	}
	t.undo = append(t.undo, undo{k: k, id: id})
	t.s.seq++
	b.byID[id] = &record{seq: t.s.seq, data: data}
	b.order = append(b.order, entry{t.s.seq, id})
}

func (t *tx) Delete(c localcases.Collection, scope, id string) error {
	if t.readOnly {
		return fmt.Errorf("delete %s in a read-only transaction", c)
	}
	k := key{c, scope}
	b := t.s.bucket(k, false)
	if b == nil {
		return fmt.Errorf("%s %s: %w", c, id, localcases.ErrNotFound)
	}
	r, ok := b.byID[id]
	if !ok {
		return fmt.Errorf("%s %s: %w", c, id, localcases.ErrNotFound)
	}
	t.undo = append(t.undo, undo{k, id, r})
	delete(b.byID, id)
	b.dead++
	if b.dead > 64 && b.dead > len(b.order)/2 {
		b.compact()
	}
	return nil
}

// compact drops the entries of deleted records.
func (b *bucket) compact() {
	out := b.order[:0]
	for _, e := range b.order {
		if r, ok := b.byID[e.id]; ok && r.seq == e.seq {
			out = append(out, e)
		}
	}
	b.order = out
	b.dead = 0
}

func (t *tx) List(c localcases.Collection, scope string, after int64, fn func(localcases.Raw) (bool, error)) error {
	b := t.s.bucket(key{c, scope}, false)
	if b == nil {
		return nil
	}
	start := sort.Search(len(b.order), func(i int) bool { return b.order[i].seq > after })
	for _, e := range b.order[start:] {
		r, ok := b.byID[e.id]
		if !ok || r.seq != e.seq {
			continue
		}
		more, err := fn(localcases.Raw{Seq: r.seq, ID: e.id, Data: r.data})
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (t *tx) Count(c localcases.Collection, scope string) (int, error) {
	b := t.s.bucket(key{c, scope}, false)
	if b == nil {
		return 0, nil
	}
	return len(b.byID), nil
}

func (t *tx) DeleteScope(c localcases.Collection, scope string) error {
	if t.readOnly {
		return fmt.Errorf("delete %s in a read-only transaction", c)
	}
	k := key{c, scope}
	b := t.s.bucket(k, false)
	if b == nil {
		return nil
	}
	for id, r := range b.byID {
		t.undo = append(t.undo, undo{k, id, r})
	}
	b.byID = map[string]*record{}
	b.dead = len(b.order)
	return nil
}
