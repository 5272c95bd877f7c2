package service

import (
	"fmt"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// benchColumn is a column of n numeric entries, case i holding i%1000.
func benchColumn(n int) *column {
	entries := make([]colEntry, n)
	size := 0
	for i := range entries {
		k := sortKey{R: rankNumber, N: float64(i % 1000)}
		entries[i] = colEntry{suf: append(encSortKey(k), fmt.Sprintf("case-%06d", i)...), sk: k, ord: uint32(i)}
		size += len(entries[i].suf)
	}
	// Index order: by key, then case ID.
	b := newColBuilder("0", n, size, n)
	for v := range 1000 {
		for i := v; i < n; i += 1000 {
			b.add(entries[i].suf, entries[i].sk, entries[i].ord)
		}
	}
	return b.done()
}

// BenchmarkColumnPatch times bringing a 100,000-entry column up to date
// after 100 cases changed: the copy a search makes when the index moved.
func BenchmarkColumnPatch(b *testing.B) {
	c := benchColumn(100_000)
	changed := make([]uint64, (c.n()+63)/64)
	var fresh []colEntry
	for i := range 100 {
		o := uint32(i * 997)
		changed[o>>6] |= 1 << (o & 63)
		k := sortKey{R: rankNumber, N: 5000}
		fresh = append(fresh, colEntry{suf: append(encSortKey(k), fmt.Sprintf("case-%06d", o)...), sk: k, ord: o})
	}
	for b.Loop() {
		c.patch("1", changed, fresh, c.n())
	}
}

// BenchmarkColumnWalk times walking a whole 100,000-entry column testing
// each ordinal against a bitmap that holds none: a page no case fills.
func BenchmarkColumnWalk(b *testing.B) {
	c := benchColumn(100_000)
	none := roaring.New()
	none.Add(uint32(c.n()) + 1)
	for b.Loop() {
		found := 0
		for i := range c.n() {
			if none.Contains(c.ord[i]) {
				found++
			}
		}
		if found != 0 {
			b.Fatal(found)
		}
	}
}
