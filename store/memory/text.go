package memory

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/localcases/localcases"
)

var _ localcases.TextIndexTx = (*tx)(nil)

// textIndex is one full-text index: an inverted index from each trigram
// (three consecutive runes) of the documents to the documents holding it.
// A substring of three runes or more occurs only in documents holding
// every one of its trigrams, so the intersection of their posting lists
// is a small superset of the answer, which a substring test on each of its
// documents then makes exact. A shorter substring has no trigram: it is
// tested against every document.
//
// Documents are numbered, and the posting lists are roaring bitmaps of
// those numbers: a common trigram's list is a dense bitmap, a rare one's a
// short array, and their intersection is word-parallel.
//
// Adding a document's trigrams to their lists is a case write's largest
// cost (a few hundred scattered memory accesses), so it is not done under
// the store's lock: set updates the documents at once and queues the list
// changes, which a writer applies after it releases the lock (flush),
// beside the next writer's transaction, once flushBatch of them wait. The
// lists have their own lock, and SearchText applies what is still queued
// before it reads them: it runs under the store's read lock, so every
// queued change is committed (or undone by a later queued change) by then.
type textIndex struct {
	// Under the store's lock.
	byOwner map[string]uint32 // owner → document number
	docs    map[uint32]textDoc
	next    uint32

	queueMu sync.Mutex
	queue   []gramChange

	gramsMu sync.RWMutex
	grams   map[uint64]*roaring.Bitmap
	// applyAll's scratch, under gramsMu: the batch's additions by
	// trigram, and the emptied lists of earlier batches to reuse.
	adds  map[uint64][]uint32
	spare [][]uint32
}

type textDoc struct {
	owner, text string
}

// gramChange adds document num's trigrams of text to their lists, or
// removes them.
type gramChange struct {
	num    uint32
	text   string
	remove bool
}

// textUndo restores an owner's document to its state before the
// transaction ("": it had none).
type textUndo struct {
	name, owner, prev string
}

func (s *Store) textIndex(name string, create bool) *textIndex {
	ix := s.texts[name]
	if ix == nil && create {
		ix = &textIndex{byOwner: map[string]uint32{}, docs: map[uint32]textDoc{}, grams: map[uint64]*roaring.Bitmap{}}
		s.texts[name] = ix
	}
	return ix
}

// trigrams calls fn with each trigram of s, packed as three 21-bit runes.
func trigrams(s string, fn func(g uint64)) {
	var g uint64
	n := 0
	for _, r := range s {
		g = (g<<21 | uint64(r)) & (1<<63 - 1)
		if n++; n >= 3 {
			fn(g)
		}
	}
}

// set makes text owner's document and returns the one it replaces; the
// change to the lists is queued.
func (ix *textIndex) set(owner, text string) (prev string) {
	num, had := ix.byOwner[owner]
	if had {
		prev = ix.docs[num].text
		if prev == text {
			return prev
		}
		ix.enqueue(gramChange{num: num, text: prev, remove: true})
		delete(ix.docs, num)
		delete(ix.byOwner, owner)
	}
	if text == "" {
		return prev
	}
	// A new number each time, so the old document's bits, removed above,
	// can never be confused with the new one's.
	num = ix.next
	ix.next++
	ix.byOwner[owner] = num
	ix.docs[num] = textDoc{owner, text}
	ix.enqueue(gramChange{num: num, text: text})
	return prev
}

func (ix *textIndex) enqueue(c gramChange) {
	ix.queueMu.Lock()
	ix.queue = append(ix.queue, c)
	ix.queueMu.Unlock()
}

// flushBatch is how many queued changes a writer waits for before it
// applies them. Cases of one domain share most of their trigrams (the same
// words in a template's fields), so a batch touches each shared list once
// rather than once per case. Measured on CreateCase (docs/BENCHMARKS.md):
// a quarter to a third less time per case in the serial Go benchmark, and
// 5-18% more calls per second over HTTP at 32 clients. A search applies a
// shorter queue itself.
const flushBatch = 64

// flush applies the queued changes to the lists. wait false leaves a queue
// shorter than flushBatch for later, and gives up at once if another flush
// holds the lists: that one, or the next, will take what is queued.
func (ix *textIndex) flush(wait bool) {
	if wait {
		ix.gramsMu.Lock()
	} else {
		ix.queueMu.Lock()
		n := len(ix.queue)
		ix.queueMu.Unlock()
		if n < flushBatch || !ix.gramsMu.TryLock() {
			return
		}
	}
	defer ix.gramsMu.Unlock()
	for {
		ix.queueMu.Lock()
		q := ix.queue
		ix.queue = nil
		ix.queueMu.Unlock()
		if len(q) == 0 {
			return
		}
		ix.applyAll(q)
	}
}

// applyAll applies q as apply would one change after another: every
// document number is added at most once and removed at most once, after
// its addition, so the additions can be grouped by trigram and made first.
func (ix *textIndex) applyAll(q []gramChange) {
	if len(q) == 1 {
		ix.apply(q[0])
		return
	}
	if ix.adds == nil {
		ix.adds = map[uint64][]uint32{}
	}
	for _, c := range q {
		if c.remove {
			continue
		}
		trigrams(c.text, func(g uint64) {
			l, ok := ix.adds[g]
			if !ok && len(ix.spare) > 0 {
				l = ix.spare[len(ix.spare)-1]
				ix.spare = ix.spare[:len(ix.spare)-1]
			}
			if n := len(l); n > 0 && l[n-1] == c.num {
				return // the trigram again in the same document
			}
			ix.adds[g] = append(l, c.num)
		})
	}
	for g, nums := range ix.adds {
		b := ix.grams[g]
		if b == nil {
			b = roaring.New()
			ix.grams[g] = b
		}
		b.AddMany(nums)
		ix.spare = append(ix.spare, nums[:0])
	}
	clear(ix.adds)
	for _, c := range q {
		if c.remove {
			ix.apply(c)
		}
	}
}

func (ix *textIndex) apply(c gramChange) {
	if c.remove {
		trigrams(c.text, func(g uint64) {
			if b := ix.grams[g]; b != nil {
				b.Remove(c.num)
				if b.IsEmpty() {
					delete(ix.grams, g)
				}
			}
		})
		return
	}
	trigrams(c.text, func(g uint64) {
		b := ix.grams[g]
		if b == nil {
			b = roaring.New()
			ix.grams[g] = b
		}
		b.Add(c.num)
	})
}

func (t *tx) SetText(name, owner, doc string) error {
	if t.readOnly {
		return fmt.Errorf("set text %s in a read-only transaction", name)
	}
	ix := t.s.textIndex(name, true)
	prev := ix.set(owner, doc)
	if prev != doc {
		t.tundo = append(t.tundo, textUndo{name, owner, prev})
		if !slices.Contains(t.texts, ix) {
			t.texts = append(t.texts, ix)
		}
	}
	return nil
}

// flushTexts applies the list changes the transaction queued; Update
// calls it once the store's lock is released.
func (t *tx) flushTexts() {
	for _, ix := range t.texts {
		ix.flush(false)
	}
}

func (t *tx) SearchText(name, sub string) ([]string, error) {
	ix := t.s.textIndex(name, false)
	if ix == nil || sub == "" {
		return nil, nil
	}
	var out []string
	if utf8.RuneCountInString(sub) < 3 {
		for _, d := range ix.docs {
			if strings.Contains(d.text, sub) {
				out = append(out, d.owner)
			}
		}
		return out, nil
	}
	ix.flush(true)
	ix.gramsMu.RLock()
	defer ix.gramsMu.RUnlock()
	var lists []*roaring.Bitmap
	missing := false
	trigrams(sub, func(g uint64) {
		b := ix.grams[g]
		if b == nil {
			missing = true
			return
		}
		lists = append(lists, b)
	})
	if missing {
		return nil, nil
	}
	cand := lists[0]
	if len(lists) > 1 {
		cand = roaring.FastAnd(lists...)
	}
	it := cand.Iterator()
	for it.HasNext() {
		d := ix.docs[it.Next()]
		if strings.Contains(d.text, sub) {
			out = append(out, d.owner)
		}
	}
	return out, nil
}

func (t *tx) rollbackText() {
	for i := len(t.tundo) - 1; i >= 0; i-- {
		u := t.tundo[i]
		ix := t.s.textIndex(u.name, true)
		ix.set(u.owner, u.prev)
		if !slices.Contains(t.texts, ix) {
			t.texts = append(t.texts, ix)
		}
	}
}
