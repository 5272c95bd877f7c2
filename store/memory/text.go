package memory

import (
	"fmt"
	"strings"
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
type textIndex struct {
	byOwner map[string]uint32 // owner → document number
	docs    map[uint32]textDoc
	grams   map[uint64]*roaring.Bitmap
	next    uint32
}

type textDoc struct {
	owner, text string
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

// set makes text owner's document and returns the one it replaces.
func (ix *textIndex) set(owner, text string) (prev string) {
	num, had := ix.byOwner[owner]
	if had {
		prev = ix.docs[num].text
		if prev == text {
			return prev
		}
		trigrams(prev, func(g uint64) {
			if b := ix.grams[g]; b != nil {
				b.Remove(num)
				if b.IsEmpty() {
					delete(ix.grams, g)
				}
			}
		})
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
	trigrams(text, func(g uint64) {
		b := ix.grams[g]
		if b == nil {
			b = roaring.New()
			ix.grams[g] = b
		}
		b.Add(num)
	})
	return prev
}

func (t *tx) SetText(name, owner, doc string) error {
	if t.readOnly {
		return fmt.Errorf("set text %s in a read-only transaction", name)
	}
	prev := t.s.textIndex(name, true).set(owner, doc)
	if prev != doc {
		t.tundo = append(t.tundo, textUndo{name, owner, prev})
	}
	return nil
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
		t.s.textIndex(u.name, true).set(u.owner, u.prev)
	}
}
