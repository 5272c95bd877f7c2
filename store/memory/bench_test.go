package memory_test

import (
	"fmt"
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/memory"
)

// BenchmarkSetIndex measures one SetIndex per Update, replacing one of an
// owner's three keys.
//
//	go test -run '^$' -bench Index ./store/memory/
func BenchmarkSetIndex(b *testing.B) {
	s := memory.New()
	i := 0
	for b.Loop() {
		i++
		ks := [][]byte{[]byte(fmt.Sprintf("a%08d", i%1000)), []byte("b-stable"), []byte(fmt.Sprintf("c%08d", i))}
		if err := s.Update(b.Context(), func(tx localcases.Tx) error {
			return tx.(localcases.IndexTx).SetIndex("bench", fmt.Sprint(i%1000), ks)
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanIndex measures a View that reads 25 entries of an index of
// 100,000, from a cursor in the middle, in either direction.
func BenchmarkScanIndex(b *testing.B) {
	s := memory.New()
	const owners, perOwner = 1000, 100
	if err := s.Update(b.Context(), func(tx localcases.Tx) error {
		for o := range owners {
			ks := make([][]byte, perOwner)
			for k := range ks {
				ks[k] = []byte(fmt.Sprintf("k%06d", o*perOwner+k))
			}
			if err := tx.(localcases.IndexTx).SetIndex("bench", fmt.Sprintf("o%04d", o), ks); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	for _, desc := range []bool{false, true} {
		b.Run(fmt.Sprintf("desc=%v", desc), func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				after := []byte(fmt.Sprintf("k%06d", (i*7919)%(owners*perOwner)))
				n := 0
				err := s.View(b.Context(), func(tx localcases.Tx) error {
					return tx.(localcases.IndexTx).ScanIndex("bench", []byte("k"), after, desc, func([]byte, string) (bool, error) {
						n++
						return n < 25, nil
					})
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
