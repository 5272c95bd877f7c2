package storetest

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/localcases/localcases"
)

// The full-text tests: every engine's transactions implement
// localcases.TextIndexTx, and all find exactly the documents that contain
// the substring, bytewise, as strings.Contains does.
var textTests = []struct {
	name string
	fn   func(t *testing.T, s localcases.Store)
}{
	{"TextMatchesSubstrings", testTextMatchesSubstrings},
	{"TextRandomAgainstContains", testTextRandom},
	{"TextSetReplacesAndRemoves", testTextSetReplaces},
	{"TextReadYourWrites", testTextReadYourWrites},
	{"TextFailedUpdateLeavesNoWrite", testTextFailedUpdate},
	{"TextFailedUpdateAmongConcurrentOnes", testTextFailedUpdateAmongConcurrent},
	{"TextSetInViewFails", testTextSetInViewFails},
}

func setText(t *testing.T, s localcases.Store, name, owner, doc string) {
	t.Helper()
	update(t, s, func(tx localcases.Tx) error { return tx.SetText(name, owner, doc) })
}

func searchTextTx(t *testing.T, tx localcases.Tx, name, sub string) []string {
	t.Helper()
	got, err := tx.SearchText(name, sub)
	if err != nil {
		t.Fatalf("search %s for %q: %v", name, sub, err)
	}
	slices.Sort(got)
	if got == nil {
		got = []string{}
	}
	return got
}

func searchText(t *testing.T, s localcases.Store, name, sub string) (out []string) {
	t.Helper()
	view(t, s, func(tx localcases.Tx) error {
		out = searchTextTx(t, tx, name, sub)
		return nil
	})
	return out
}

func wantOwners(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	slices.Sort(want)
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func testTextMatchesSubstrings(t *testing.T, s localcases.Store) {
	docs := map[string]string{
		"plain":   "the device does not power on",
		"punct":   "refund: 100% (of $5_000)\\ok",
		"quote":   `she said "it's broken"`,
		"unicode": "straße café 日本語 🙂 ü",
		"lines":   "first value\nsecond value",
		"short":   "ab",
	}
	for owner, doc := range docs {
		setText(t, s, "docs", owner, doc)
	}
	setText(t, s, "other", "plain", "power on the other index")
	for _, tc := range []struct {
		sub  string
		want []string
	}{
		{"power", []string{"plain"}},
		{"power on", []string{"plain"}},
		{"owe", []string{"plain"}},
		{"o", []string{"plain", "punct", "quote", "lines"}},
		{"ab", []string{"short"}},
		{"b", []string{"short", "quote"}},
		{"Power", nil}, // bytewise: folding is the caller's
		{"100%", []string{"punct"}},
		{"%", []string{"punct"}},
		{"0% (", []string{"punct"}},
		{"_", []string{"punct"}},
		{"$5_0", []string{"punct"}},
		{"5%0", nil}, // % and _ are not wildcards
		{"0_0", nil},
		{`\ok`, []string{"punct"}},
		{`\`, []string{"punct"}},
		{`"it's`, []string{"quote"}},
		{`"`, []string{"quote"}},
		{`""`, nil},
		{"ße", []string{"unicode"}},
		{"日本語", []string{"unicode"}},
		{"本", []string{"unicode"}},
		{"🙂", []string{"unicode"}},
		{"é 日", []string{"unicode"}},
		{"ue\ns", []string{"lines"}},
		{"value", []string{"lines"}},
		{"AND", nil},
		{"NEAR(", nil},
		{"*", nil},
		{"the device does not power on", []string{"plain"}},
		{"the device does not power on!", nil},
		{"nomatch", nil},
	} {
		wantOwners(t, fmt.Sprintf("search %q", tc.sub), searchText(t, s, "docs", tc.sub), tc.want...)
	}
	wantOwners(t, "search of another index", searchText(t, s, "other", "power"), "plain")
	wantOwners(t, "search of an index with no documents", searchText(t, s, "none", "power"))
}

// textAlphabet mixes ASCII letters, the characters FTS5, LIKE and JSON
// treat specially, and multi-byte runes, so that random documents and
// substrings meet every one of them in every position.
var textAlphabet = []rune(`abcab xyz"'%_\*-:()^.日本ßéü🙂` + "\n")

func randText(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteRune(textAlphabet[rng.IntN(len(textAlphabet))])
	}
	return b.String()
}

func testTextRandom(t *testing.T, s localcases.Store) {
	rng := rand.New(rand.NewPCG(17, 1))
	docs := map[string]string{}
	for round := range 3 {
		// Each round adds, replaces and removes documents in one update.
		update(t, s, func(tx localcases.Tx) error {
			for range 40 {
				owner := fmt.Sprintf("o%02d", rng.IntN(60))
				doc := randText(rng, rng.IntN(30))
				if err := tx.SetText("r", owner, doc); err != nil {
					return err
				}
				if doc == "" {
					delete(docs, owner)
				} else {
					docs[owner] = doc
				}
			}
			return nil
		})
		for i := range 150 {
			var sub string
			if len(docs) > 0 && i%2 == 0 {
				// A piece of a document, so most searches find something.
				doc := []rune(docs[slices.Sorted(maps.Keys(docs))[rng.IntN(len(docs))]])
				if len(doc) == 0 {
					continue
				}
				from := rng.IntN(len(doc))
				sub = string(doc[from:min(len(doc), from+1+rng.IntN(6))])
			} else {
				sub = randText(rng, 1+rng.IntN(4))
			}
			var want []string
			for owner, doc := range docs {
				if strings.Contains(doc, sub) {
					want = append(want, owner)
				}
			}
			wantOwners(t, fmt.Sprintf("round %d: search %q", round, sub), searchText(t, s, "r", sub), want...)
		}
	}
}

func testTextSetReplaces(t *testing.T, s localcases.Store) {
	setText(t, s, "i", "a", "alpha beta")
	setText(t, s, "i", "b", "beta gamma")
	wantOwners(t, "beta", searchText(t, s, "i", "beta"), "a", "b")
	setText(t, s, "i", "a", "delta")
	wantOwners(t, "beta after a is replaced", searchText(t, s, "i", "beta"), "b")
	wantOwners(t, "delta", searchText(t, s, "i", "delta"), "a")
	setText(t, s, "i", "a", "delta") // unchanged
	wantOwners(t, "delta after an unchanged set", searchText(t, s, "i", "delta"), "a")
	setText(t, s, "i", "b", "")
	wantOwners(t, "beta after b is removed", searchText(t, s, "i", "beta"))
	wantOwners(t, "gam after b is removed", searchText(t, s, "i", "ga"))
	setText(t, s, "i", "never", "") // removing what is not there
	setText(t, s, "i", "b", "beta again")
	wantOwners(t, "beta after b is back", searchText(t, s, "i", "beta"), "b")
}

func testTextReadYourWrites(t *testing.T, s localcases.Store) {
	setText(t, s, "i", "old", "kept text")
	update(t, s, func(tx localcases.Tx) error {
		if err := tx.SetText("i", "new", "fresh text"); err != nil {
			return err
		}
		if err := tx.SetText("i", "old", ""); err != nil {
			return err
		}
		wantOwners(t, "text inside the update", searchTextTx(t, tx, "i", "text"), "new")
		wantOwners(t, "te inside the update", searchTextTx(t, tx, "i", "te"), "new")
		return nil
	})
	wantOwners(t, "text after the update", searchText(t, s, "i", "text"), "new")
}

func testTextFailedUpdate(t *testing.T, s localcases.Store) {
	setText(t, s, "i", "keep", "kept words")
	setText(t, s, "i", "replace", "replaced words")
	setText(t, s, "i", "remove", "removed words")
	err := s.Update(ctx(t), func(tx localcases.Tx) error {
		steps := []error{
			tx.SetText("i", "new", "new words"),
			tx.SetText("i", "replace", "other"),
			tx.SetText("i", "replace", "other again"),
			tx.SetText("i", "remove", ""),
			tx.SetText("fresh", "o", "fresh words"),
			tx.Put(cA, "s", "x", item{}),
		}
		if err := errors.Join(steps...); err != nil {
			return err
		}
		return fmt.Errorf("after all that: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want the fn's error", err)
	}
	wantOwners(t, "words after a failed update", searchText(t, s, "i", "words"), "keep", "replace", "remove")
	wantOwners(t, "other after a failed update", searchText(t, s, "i", "other"))
	wantOwners(t, "new index of a failed update", searchText(t, s, "fresh", "words"))
	setText(t, s, "i", "replace", "other")
	wantOwners(t, "words after a later update", searchText(t, s, "i", "words"), "keep", "remove")
}

func testTextFailedUpdateAmongConcurrent(t *testing.T, s localcases.Store) {
	// Engines that commit several callers together must still undo each
	// failing caller's text writes alone.
	ok := halfFailingWriters(t, s, 40, func(tx localcases.Tx, i int) error {
		return tx.SetText("i", fmt.Sprintf("w%02d", i), fmt.Sprintf("writer w%02d common", i))
	})
	var want []string
	for _, i := range ok {
		want = append(want, fmt.Sprintf("w%02d", i))
	}
	wantOwners(t, "documents of the writers", searchText(t, s, "i", "common"), want...)
}

// halfFailingWriters runs n concurrent updates, each calling write with
// its number; the odd ones then fail. It checks that each caller got its
// own outcome and returns the numbers of the writers that succeeded.
func halfFailingWriters(t *testing.T, s localcases.Store, n int, write func(tx localcases.Tx, i int) error) (ok []int) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.Update(ctx(t), func(tx localcases.Tx) error {
				if err := write(tx, i); err != nil {
					return err
				}
				if i%2 == 1 {
					return fmt.Errorf("writer %d: %w", i, errBoom)
				}
				return nil
			})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		switch {
		case i%2 == 0 && err != nil:
			t.Errorf("writer %d: %v", i, err)
		case i%2 == 1 && (!errors.Is(err, errBoom) || !strings.Contains(err.Error(), fmt.Sprintf("writer %d:", i))):
			t.Errorf("writer %d got %v, want its own error", i, err)
		}
		if i%2 == 0 {
			ok = append(ok, i)
		}
	}
	return ok
}

func testTextSetInViewFails(t *testing.T, s localcases.Store) {
	err := s.View(ctx(t), func(tx localcases.Tx) error { return tx.SetText("i", "o", "text") })
	if err == nil {
		t.Fatal("SetText in a View succeeded")
	}
	wantOwners(t, "after a refused set", searchText(t, s, "i", "text"))
}
