package sqlite

import (
	"fmt"
	"sync/atomic"
	"testing"

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
