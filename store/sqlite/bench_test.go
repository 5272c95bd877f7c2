package sqlite

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/localcases/localcases"
)

// BenchmarkUpdate measures durable single-record Updates from concurrent
// writers, with group commit (MaxBatch 128) and without it (MaxBatch 1,
// one fsync per Update). docs/STORAGE.md has the figures:
//
//	go test -run '^$' -bench . -benchtime 3s ./store/sqlite/
func BenchmarkUpdate(b *testing.B) {
	for _, maxBatch := range []int{1, 128} {
		for _, writers := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("batch=%d/writers=%d", maxBatch, writers), func(b *testing.B) {
				s := MustOpen(b, Options{MaxBatch: maxBatch})
				var n atomic.Int64
				runWriters(b, writers, func() {
					i := n.Add(1)
					err := s.Update(b.Context(), func(tx localcases.Tx) error {
						return tx.Put("bench", fmt.Sprint(i%10), fmt.Sprint(i), rec{Name: "a field name", N: int(i)})
					})
					if err != nil {
						b.Error(err)
					}
				})
				st := s.stats()
				b.ReportMetric(float64(st.updates)/float64(max(1, st.commits)), "updates/commit")
			})
		}
	}
}

// runWriters calls op b.N times in all, from exactly writers goroutines.
func runWriters(b *testing.B, writers int, op func()) {
	var next atomic.Int64
	done := make(chan struct{})
	b.ResetTimer()
	for range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			for next.Add(1) <= int64(b.N) {
				op()
			}
		}()
	}
	for range writers {
		<-done
	}
}

// BenchmarkGet measures point reads through View on the read pool.
func BenchmarkGet(b *testing.B) {
	s := MustOpen(b, Options{})
	s.Update(b.Context(), func(tx localcases.Tx) error {
		for i := range 1000 {
			if err := tx.Put("bench", "s", fmt.Sprint(i), rec{N: i}); err != nil {
				return err
			}
		}
		return nil
	})
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var v rec
		for pb.Next() {
			id := fmt.Sprint(n.Add(1) % 1000)
			if err := s.View(b.Context(), func(tx localcases.Tx) error { return tx.Get("bench", "s", id, &v) }); err != nil {
				b.Error(err)
			}
		}
	})
}

// BenchmarkSetIndex measures SetIndex: one per durable Update (the cost a
// single request pays), and many in one Update (the statements alone).
// Each replaces one of an owner's three keys.
func BenchmarkSetIndex(b *testing.B) {
	keys := func(i int) [][]byte {
		return [][]byte{[]byte(fmt.Sprintf("a%08d", i%1000)), []byte("b-stable"), []byte(fmt.Sprintf("c%08d", i))}
	}
	b.Run("update", func(b *testing.B) {
		s := MustOpen(b, Options{})
		i := 0
		for b.Loop() {
			i++
			if err := s.Update(b.Context(), func(tx localcases.Tx) error {
				return tx.(localcases.IndexTx).SetIndex("bench", fmt.Sprint(i%1000), keys(i))
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("inTx", func(b *testing.B) {
		s := MustOpen(b, Options{})
		const perTx = 1000
		for i := 0; i < b.N; i += perTx {
			if err := s.Update(b.Context(), func(tx localcases.Tx) error {
				for j := i; j < min(i+perTx, b.N); j++ {
					if err := tx.(localcases.IndexTx).SetIndex("bench", fmt.Sprint(j%1000), keys(j)); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkScanIndex measures a View that reads 25 entries of an index of
// 100,000, from a cursor in the middle, in either direction.
func BenchmarkScanIndex(b *testing.B) {
	s := MustOpen(b, Options{})
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

// BenchmarkAppendEvent measures a durable Update that writes a record and
// one outbox event, as a published case change does, from 16 writers so
// that commits are shared.
func BenchmarkAppendEvent(b *testing.B) {
	s := MustOpen(b, Options{})
	data := []byte(strings.Repeat(`{"detail":"an event envelope of about a kilobyte"}`, 20))
	var n atomic.Int64
	runWriters(b, 16, func() {
		i := n.Add(1)
		err := s.Update(b.Context(), func(tx localcases.Tx) error {
			if err := tx.Put("bench", "s", fmt.Sprint(i), rec{N: int(i)}); err != nil {
				return err
			}
			_, err := tx.AppendEvent("d", time.Now(), data)
			return err
		})
		if err != nil {
			b.Error(err)
		}
	})
}
