package service

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/localcases/localcases"
)

// importBulk loads records into a store that takes them in bulk, and
// writes the case index and text index that reindexAll would write after
// them, without reading the cases back: the cases are decoded from the
// snapshot, on every CPU, while the store writes the records, and their
// entries and documents are built on every CPU too. What ends in the
// indexes is what reindexAll leaves: the cases of each domain of the
// account, each address once with its last record's data, in the order
// of the first, an owner in two domains keeping the last domain's
// entries.
func (s *Service) importBulk(tx localcases.Tx, bt localcases.BulkTx, recs []localcases.SnapshotRecord) error {
	cases := make([]*localcases.Case, len(recs))
	var (
		bad     atomic.Int64 // the lowest record that is not JSON, or len(recs)
		mu      sync.Mutex
		caseErr = map[int]error{} // cases that are JSON but not a case; an error only if indexed
	)
	bad.Store(int64(len(recs)))
	decoded := make(chan struct{})
	go func() {
		defer close(decoded)
		parallel(len(recs), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				r := &recs[i]
				if r.Collection != localcases.Cases {
					if !json.Valid(r.Data) {
						lowerTo(&bad, int64(i))
					}
					continue
				}
				c := new(localcases.Case)
				if err := json.Unmarshal(r.Data, c); err != nil {
					if !json.Valid(r.Data) {
						lowerTo(&bad, int64(i))
						continue
					}
					mu.Lock()
					caseErr[i] = fmt.Errorf("decode %s: %w", r.ID, err)
					mu.Unlock()
					continue
				}
				cases[i] = c
			}
		})
	}()
	err := bt.PutMany(recs)
	<-decoded
	if i := int(bad.Load()); i < len(recs) {
		return badRecord(i, &recs[i])
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}

	// Each case address once, at its first record, with its last.
	type addr struct{ scope, id string }
	pos := map[addr]int{}
	var last []int
	for i := range recs {
		r := &recs[i]
		if r.Collection != localcases.Cases {
			continue
		}
		a := addr{r.Scope, r.ID}
		if p, ok := pos[a]; ok {
			last[p] = i
			continue
		}
		pos[a] = len(last)
		last = append(last, i)
	}
	byScope := map[string][]int{}
	for _, i := range last {
		byScope[recs[i].Scope] = append(byScope[recs[i].Scope], i)
	}

	domains, err := scanAll[localcases.Domain](tx, localcases.Domains, s.cfg.Account)
	if err != nil {
		return err
	}
	var owners []localcases.IndexKeys
	for _, d := range domains {
		list := byScope[d.ID]
		fs, err := s.loadFieldSet(tx, d.ID)
		if err != nil {
			return err
		}
		for _, i := range list {
			if cases[i] == nil {
				return caseErr[i]
			}
		}
		keys := make([]localcases.IndexKeys, len(list))
		docs := make([]localcases.TextDoc, len(list))
		parallel(len(list), func(lo, hi int) {
			prefixes := map[string][]byte{}
			prefix := func(id string) []byte {
				p, ok := prefixes[id]
				if !ok {
					p = fieldPrefix(d.ID, id)
					prefixes[id] = p
				}
				return p
			}
			for j := lo; j < hi; j++ {
				c := cases[list[j]]
				keys[j] = localcases.IndexKeys{Owner: c.ID, Keys: caseKeys(c, fs, prefix)}
				docs[j] = localcases.TextDoc{Owner: c.ID, Doc: caseText(c)}
			}
		})
		if err := bt.SetTextMany(textIndexName(d.ID), docs); err != nil {
			return err
		}
		owners = append(owners, keys...)
	}
	return bt.SetIndexMany(indexAsc, owners)
}

// lowerTo stores v in a if it is lower than what a holds.
func lowerTo(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v >= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// parallel calls fn over [0, n) in chunks, on every CPU, and returns when
// all have returned.
func parallel(n int, fn func(lo, hi int)) {
	const chunk = 256
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk) {
		wg.Go(func() {
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= n {
					return
				}
				fn(lo, min(lo+chunk, n))
			}
		})
	}
	wg.Wait()
}
