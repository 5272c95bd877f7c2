package service

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// topK must give exactly what sorting every candidate and slicing after the
// cursor gives, which is what the scan did before it kept only a page.
func TestTopKMatchesSortAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		desc []bool
		n, k int
	}{
		{"asc one key", []bool{false}, 500, 26},
		{"desc one key", []bool{true}, 500, 26},
		{"two keys mixed", []bool{true, false}, 300, 11},
		{"k larger than n", []bool{false}, 7, 26},
		{"k of one", []bool{true}, 50, 1},
		{"k of zero", []bool{false}, 50, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := make([]keyed, tc.n)
			for i := range all {
				ks := make([]sortKey, len(tc.desc))
				for j := range ks {
					if rng.IntN(6) == 0 {
						ks[j] = sortKey{R: rankMissing}
					} else {
						ks[j] = sortKey{R: rankNumber, N: float64(rng.IntN(20))}
					}
				}
				all[i] = keyed{keys: ks, id: fmt.Sprintf("case-%04d", rng.IntN(1000)*1000+i)}
			}
			want := slices.Clone(all)
			slices.SortFunc(want, func(a, b keyed) int { return cmpKeyed(tc.desc, a, b) })
			start := 0
			// Walk every page with the cursor of the previous page's last key.
			var cur cursorToken
			for page := 0; start < len(want); page++ {
				top := newTopK(tc.desc, cur, tc.k)
				for _, x := range all {
					top.offer(x)
				}
				got := top.sorted()
				end := min(start+tc.k, len(want))
				if len(got) != end-start {
					t.Fatalf("page %d: got %d keys, want %d", page, len(got), end-start)
				}
				for i := range got {
					if cmpKeyed(tc.desc, got[i], want[start+i]) != 0 || got[i].id != want[start+i].id {
						t.Fatalf("page %d item %d: got %+v, want %+v", page, i, got[i], want[start+i])
					}
				}
				if tc.k == 0 {
					return
				}
				last := got[len(got)-1]
				cur = cursorToken{Keys: last.keys, ID: last.id}
				start = end
			}
		})
	}
}
