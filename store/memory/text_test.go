package memory

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/localcases/localcases"
)

// TestTextBatchesMatchModel drives one text index through writes that
// replace, delete and roll back documents, in runs longer and shorter than
// flushBatch, and checks every search against a plain substring test of
// the documents a map holds: the batched list changes must leave the
// lists as one change after another would.
func TestTextBatchesMatchModel(t *testing.T) {
	words := []string{"sign", "signal", "reset", "password", "order", "ordered", "refund", "late", "ünïcode", "x"}
	terms := []string{"sig", "signa", "res", "word", "order", "der", "fund", "ate", "ünï", "nïc", "zzz", "x", "si"}
	errRollback := errors.New("rollback")
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0))
			s := New()
			model := map[string]string{}
			search := func(step int) {
				for _, term := range terms {
					var got []string
					if err := s.View(t.Context(), func(tx localcases.Tx) (err error) {
						got, err = tx.(localcases.TextIndexTx).SearchText("t", term)
						return err
					}); err != nil {
						t.Fatal(err)
					}
					var want []string
					for owner, doc := range model {
						if strings.Contains(doc, term) {
							want = append(want, owner)
						}
					}
					slices.Sort(got)
					slices.Sort(want)
					if !slices.Equal(got, want) {
						t.Fatalf("step %d: SearchText(%q) = %v, want %v", step, term, got, want)
					}
				}
			}
			for step := range 2000 {
				owner := fmt.Sprint("case-", r.IntN(150))
				doc := ""
				if r.IntN(5) > 0 { // a fifth are deletions
					for range 1 + r.IntN(4) {
						doc += words[r.IntN(len(words))] + " "
					}
				}
				undo := r.IntN(8) == 0
				err := s.Update(t.Context(), func(tx localcases.Tx) error {
					if err := tx.(localcases.TextIndexTx).SetText("t", owner, doc); err != nil {
						return err
					}
					if undo {
						return errRollback
					}
					return nil
				})
				switch {
				case undo && !errors.Is(err, errRollback):
					t.Fatalf("step %d: Update = %v, want the rollback", step, err)
				case !undo && err != nil:
					t.Fatal(err)
				case !undo && doc == "":
					delete(model, owner)
				case !undo:
					model[owner] = doc
				}
				// Searches between writes see queues of every length,
				// below flushBatch and well past it.
				if r.IntN(3*flushBatch) == 0 || step == 1999 {
					search(step)
				}
			}
			// Once flushed, the lists hold exactly the live documents'
			// trigrams: a search would not show a stale bit (its document
			// is gone, so the substring test refuses it), but it costs.
			ix := s.texts["t"]
			ix.flush(true)
			for g, b := range ix.grams {
				if b.IsEmpty() {
					t.Errorf("trigram %x has an empty list", g)
				}
				for _, num := range b.ToArray() {
					d, ok := ix.docs[num]
					found := false
					trigrams(d.text, func(h uint64) { found = found || h == g })
					if !ok || !found {
						t.Errorf("trigram %x lists document %d, which does not hold it", g, num)
					}
				}
			}
			for num, d := range ix.docs {
				trigrams(d.text, func(g uint64) {
					if b := ix.grams[g]; b == nil || !b.Contains(num) {
						t.Errorf("document %d (%q) missing from trigram %x", num, d.text, g)
					}
				})
			}
		})
	}
}
