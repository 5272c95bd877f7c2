package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/localcases/localcases"
)

// The bulk tests: every engine's write transactions implement
// localcases.BulkTx, and each of its methods leaves what the calls one at
// a time leave, whether the index it writes is empty (the fast path an
// import takes) or not, with more rows than one statement of an engine
// carries.
var bulkTests = []struct {
	name string
	fn   func(t *testing.T, s localcases.Store)
}{
	{"BulkEqualsOneAtATime", testBulkEqualsOneAtATime},
	{"BulkFailedUpdateLeavesNoWrite", testBulkFailedUpdate},
}

// bulkRound is one round of writes: records with addresses given twice,
// owners given twice or with no keys, documents given twice or empty.
func bulkRound(rng *rand.Rand, round int) ([]localcases.SnapshotRecord, []localcases.IndexKeys, []localcases.TextDoc) {
	var recs []localcases.SnapshotRecord
	var owners []localcases.IndexKeys
	var docs []localcases.TextDoc
	words := []string{"alpha", "beta gamma", "Straße", "日本語", "x", ""}
	for i := range 1200 {
		id := fmt.Sprintf("r%d", rng.IntN(1000))
		data, _ := json.Marshal(item{Name: fmt.Sprintf("round %d item %d", round, i), N: i})
		recs = append(recs, localcases.SnapshotRecord{Collection: cA, ID: id, Data: data})
		var ks [][]byte
		for range rng.IntN(4) {
			ks = append(ks, fmt.Appendf(nil, "k%d\x00%d", rng.IntN(50), round))
		}
		owner := fmt.Sprintf("o%d", rng.IntN(1000))
		owners = append(owners, localcases.IndexKeys{Owner: owner, Keys: ks})
		docs = append(docs, localcases.TextDoc{Owner: owner, Doc: words[rng.IntN(len(words))] + fmt.Sprintf(" %d/%d", round, i%7)})
	}
	return recs, owners, docs
}

// bulkState is what a round left under one scope, index and text index.
func bulkState(t *testing.T, s localcases.Store, scope, index, text string) string {
	t.Helper()
	var out []string
	view(t, s, func(tx localcases.Tx) error {
		err := tx.List(cA, scope, 0, func(r localcases.Raw) (bool, error) {
			var it item
			if err := json.Unmarshal(r.Data, &it); err != nil {
				return false, err
			}
			out = append(out, fmt.Sprintf("%s=%+v", r.ID, it))
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, e := range scanTx(t, tx, index, nil, nil, false) {
			out = append(out, e.String())
		}
		for _, sub := range []string{"alpha", "ga", "ße", "本語", "x", " 1/", "/3", "0/0"} {
			out = append(out, fmt.Sprintf("%q: %v", sub, searchTextTx(t, tx, text, sub)))
		}
		return nil
	})
	return fmt.Sprint(out)
}

func testBulkEqualsOneAtATime(t *testing.T, s localcases.Store) {
	rng := rand.New(rand.NewPCG(5, 5))
	for round := range 2 {
		recs, owners, docs := bulkRound(rng, round)
		update(t, s, func(tx localcases.Tx) error {
			bt, ok := tx.(localcases.BulkTx)
			if !ok {
				return errors.New("the transaction is not a localcases.BulkTx")
			}
			for i := range recs {
				recs[i].Scope = "bulk"
			}
			if err := bt.PutMany(recs); err != nil {
				return err
			}
			if err := bt.SetIndexMany("bulk", owners); err != nil {
				return err
			}
			return bt.SetTextMany("tbulk", docs)
		})
		update(t, s, func(tx localcases.Tx) error {
			for _, r := range recs {
				if err := tx.Put(cA, "each", r.ID, r.Data); err != nil {
					return err
				}
			}
			for _, o := range owners {
				if err := tx.SetIndex("each", o.Owner, o.Keys); err != nil {
					return err
				}
			}
			for _, d := range docs {
				if err := tx.SetText("teach", d.Owner, d.Doc); err != nil {
					return err
				}
			}
			return nil
		})
		got, want := bulkState(t, s, "bulk", "bulk", "tbulk"), bulkState(t, s, "each", "each", "teach")
		if got != want {
			t.Fatalf("round %d (%s):\nbulk         %.2000s\none at a time %.2000s", round, []string{"empty indexes", "indexes in use"}[round], got, want)
		}
	}
}

func testBulkFailedUpdate(t *testing.T, s localcases.Store) {
	recs, owners, docs := bulkRound(rand.New(rand.NewPCG(6, 6)), 0)
	err := s.Update(ctx(t), func(tx localcases.Tx) error {
		bt := tx.(localcases.BulkTx)
		if err := bt.PutMany(recs); err != nil {
			return err
		}
		if err := bt.SetIndexMany("bulk", owners); err != nil {
			return err
		}
		if err := bt.SetTextMany("tbulk", docs); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("update: %v", err)
	}
	if got, want := bulkState(t, s, "", "bulk", "tbulk"), bulkState(t, s, "none", "none", "none"); got != want {
		t.Fatalf("after a failed update: %s", got)
	}
	if !slices.Equal(searchText(t, s, "tbulk", "alpha"), []string{}) {
		t.Fatal("a failed update's documents are found")
	}
}
