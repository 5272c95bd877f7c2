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
// them, without reading the cases back: while the store writes the
// records, the cases are decoded from the snapshot and their entries and
// documents built, on every CPU. What ends in the indexes is what
// reindexAll leaves, since after the reset the store holds the snapshot's
// records and nothing else of the account (planImport).
func (s *Service) importBulk(bt localcases.BulkTx, recs []localcases.SnapshotRecord) error {
	p, planErr := planImport(s.cfg.Account, recs)
	built := make(chan error, 1)
	go func() { built <- p.build(recs, planErr == nil) }()
	err := bt.PutMany(recs)
	// A record that is not JSON is the first thing to report, then what
	// reindexAll would have failed on, then the store's error.
	if berr := <-built; berr != nil {
		return berr
	}
	if planErr != nil {
		return planErr
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	var owners []localcases.IndexKeys
	for _, d := range p.domains {
		if err := bt.SetTextMany(textIndexName(d.id), d.docs); err != nil {
			return err
		}
		owners = append(owners, d.keys...)
	}
	return bt.SetIndexMany(indexAsc, owners)
}

// importPlan is what reindexAll would find in the store once the records
// are in: the domains of the account, each with its fields and its cases
// as List yields them (each address once, at the place of its first
// record, with the data of its last).
type importPlan struct {
	domains []*importDomain
	// dom and slot give, for each record that is a case of a domain as
	// List would yield it, the domain and the case's place among its
	// cases; dom is nil for every other record.
	dom  []*importDomain
	slot []int32
	// caseErr holds the cases that are JSON but do not decode as a case,
	// by record.
	mu      sync.Mutex
	caseErr map[int]error
}

type importDomain struct {
	id    string
	fs    *fieldSet
	cases []int // record of each case, in List order
	keys  []localcases.IndexKeys
	docs  []localcases.TextDoc
}

// addrs collects addresses in List order: each once, at its first
// record, with the index of its last.
type addrs struct {
	pos   map[[2]string]int
	scope []string
	last  []int
}

func (a *addrs) add(scope, id string, i int) {
	k := [2]string{scope, id}
	if p, ok := a.pos[k]; ok {
		a.last[p] = i
		return
	}
	a.pos[k] = len(a.last)
	a.scope = append(a.scope, scope)
	a.last = append(a.last, i)
}

// planImport works out the plan from the records, decoding the domains
// and fields (a few records) as reindexAll would; a decoding error is
// returned with the plan so far.
func planImport(account string, recs []localcases.SnapshotRecord) (*importPlan, error) {
	newAddrs := func() *addrs { return &addrs{pos: map[[2]string]int{}} }
	domains, fields, cases := newAddrs(), newAddrs(), newAddrs()
	for i := range recs {
		r := &recs[i]
		switch {
		case r.Collection == localcases.Domains && r.Scope == account:
			domains.add(r.Scope, r.ID, i)
		case r.Collection == localcases.Fields:
			fields.add(r.Scope, r.ID, i)
		case r.Collection == localcases.Cases:
			cases.add(r.Scope, r.ID, i)
		}
	}
	p := &importPlan{dom: make([]*importDomain, len(recs)), slot: make([]int32, len(recs)), caseErr: map[int]error{}}
	raw := func(i int) localcases.Raw { return localcases.Raw{ID: recs[i].ID, Data: recs[i].Data} }
	byID := map[string]*importDomain{}
	for _, i := range domains.last {
		var d localcases.Domain
		if err := decode(raw(i), &d); err != nil {
			return p, err
		}
		if byID[d.ID] != nil {
			continue // indexing its cases again would change nothing
		}
		src := &decodedFields{byID: map[string]*localcases.Field{}, prefixes: map[string][]byte{}}
		id := &importDomain{id: d.ID, fs: &fieldSet{domainID: d.ID, byID: src.byID, src: src}}
		byID[d.ID] = id
		p.domains = append(p.domains, id)
	}
	for j, i := range fields.last {
		d := byID[fields.scope[j]]
		if d == nil {
			continue
		}
		f := new(localcases.Field)
		if err := decode(raw(i), f); err != nil {
			return p, err
		}
		d.fs.byID[f.ID] = f
		d.fs.src.prefixes[f.ID] = fieldPrefix(d.id, f.ID)
	}
	for j, i := range cases.last {
		d := byID[cases.scope[j]]
		if d == nil {
			continue
		}
		p.dom[i], p.slot[i] = d, int32(len(d.cases))
		d.cases = append(d.cases, i)
	}
	for _, d := range p.domains {
		d.keys = make([]localcases.IndexKeys, len(d.cases))
		d.docs = make([]localcases.TextDoc, len(d.cases))
	}
	return p, nil
}

// build checks that every record is JSON and, if cases, decodes each case
// of the plan and builds its entries and document, on every CPU. It
// returns the first record that is not JSON, or else the first case, in
// reindexAll's order, that does not decode.
func (p *importPlan) build(recs []localcases.SnapshotRecord, cases bool) error {
	var bad atomic.Int64 // the lowest record that is not JSON
	bad.Store(int64(len(recs)))
	parallel(len(recs), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r := &recs[i]
			d := p.dom[i]
			if !cases || d == nil {
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
				p.mu.Lock()
				p.caseErr[i] = fmt.Errorf("decode %s: %w", r.ID, err)
				p.mu.Unlock()
				continue
			}
			j := p.slot[i]
			d.keys[j] = localcases.IndexKeys{Owner: c.ID, Keys: caseIndexKeys(d.id, c, d.fs)}
			d.docs[j] = localcases.TextDoc{Owner: c.ID, Doc: caseText(c)}
		}
	})
	if i := int(bad.Load()); i < len(recs) {
		return badRecord(i, &recs[i])
	}
	if len(p.caseErr) > 0 {
		for _, d := range p.domains {
			for _, i := range d.cases {
				if err := p.caseErr[i]; err != nil {
					return err
				}
			}
		}
	}
	return nil
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
