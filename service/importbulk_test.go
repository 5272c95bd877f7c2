package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// importInto exports src's state, imports it into a new service on store
// (same account and clock), and returns that service.
func importInto(t testing.TB, src *Service, store localcases.Store) *Service {
	t.Helper()
	ctx := context.Background()
	snap, err := src.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := New(ctx, store, src.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.Import(ctx, roundTrip(t, snap)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// roundTrip is snap as an import reads it: through its JSON.
func roundTrip(t testing.TB, snap *localcases.Snapshot) *localcases.Snapshot {
	t.Helper()
	data, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var out localcases.Snapshot
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// oneAtATime hides a store's BulkTx, so an import takes the path of a Put
// per record and reindexAll: the reference for the bulk path.
type oneAtATime struct{ localcases.Store }

type oneAtATimeTx struct{ localcases.Tx }

func (s oneAtATime) Update(ctx context.Context, fn func(localcases.Tx) error) error {
	return s.Store.Update(ctx, func(tx localcases.Tx) error { return fn(oneAtATimeTx{tx}) })
}

// TestImportIndexesAsOneAtATime: on every engine, an import through the
// store's bulk writes leaves the same case index and text index as Puts
// one at a time and reindexAll, and as CreateCase left them where the
// snapshot came from, including for a snapshot that gives a case twice
// (the last record counts), a case of a domain it does not have, a case ID
// in two domains, and cases whose fields were deleted.
func TestImportIndexesAsOneAtATime(t *testing.T) {
	for _, engine := range indexEngines {
		t.Run(engine.name, func(t *testing.T) {
			odd := "x\x00y"
			if engine.name == "postgres" {
				odd = "x\x01y"
			}
			src := csNewEnvOn(t, engine.open(t), Quotas{})
			rng := rand.New(rand.NewPCG(3, 3))
			text := src.field("Text", api.FieldTypeText)
			num := src.field("Number", api.FieldTypeNumber)
			when := src.field("When", api.FieldTypeDateTime)
			flag := src.field("Flag", api.FieldTypeBoolean)
			gone := src.field("Gone", api.FieldTypeText)
			words := append(slices.Clone(termWords), odd, "2025-01-01T00:00:00Z")
			var ids []string
			for i := range 80 {
				fields := []api.FieldValue{sv("title", fmt.Sprintf("Case %d", i%13)), sv(gone, words[rng.IntN(len(words))])}
				if w := words[rng.IntN(len(words))]; w != "" {
					fields = append(fields, sv(text, w))
				}
				if rng.IntN(3) > 0 {
					fields = append(fields, sv(when, []string{"2025-01-01T00:00:00Z", "2024-12-31T23:00:00-02:00"}[rng.IntN(2)]))
				}
				fields = append(fields, api.FieldValue{Id: api.String(num), Value: &api.FieldValueUnion{DoubleValue: api.Float64(float64(rng.IntN(5)))}},
					api.FieldValue{Id: api.String(flag), Value: &api.FieldValueUnion{BooleanValue: api.Bool(rng.IntN(2) == 0)}})
				ids = append(ids, src.mustCase(fields...))
			}
			src.mustUpdate(ids[0], sv(text, "changed"))
			if _, err := src.s.DeleteCase(src.ctx, &api.DeleteCaseRequest{DomainId: &src.domain, CaseId: &ids[1]}); err != nil {
				t.Fatal(err)
			}
			src.deleteField(gone)
			other, err := src.s.CreateDomain(src.ctx, &api.CreateDomainRequest{Name: api.String("other")})
			if err != nil {
				t.Fatal(err)
			}

			snap, err := src.s.Export(src.ctx)
			if err != nil {
				t.Fatal(err)
			}
			bulk := importInto(t, src.s, engine.open(t))
			compareIndexes(t, "CreateCase", src.s, "bulk import", bulk, src.domain)

			// Records no export makes: a case given twice, the second time
			// with other values; a case of no domain; a case of the other
			// domain with the ID of one of the first.
			var twice localcases.SnapshotRecord
			for _, r := range snap.Records {
				if r.Collection == localcases.Cases && r.ID == ids[2] {
					twice = r
				}
			}
			var c localcases.Case
			if err := json.Unmarshal(twice.Data, &c); err != nil {
				t.Fatal(err)
			}
			c.Fields["title"] = localcases.Value{Kind: localcases.ValueString, S: "Given twice"}
			c.Fields[text] = localcases.Value{Kind: localcases.ValueString, S: "the second record"}
			twice.Data, _ = json.Marshal(c)
			orphan := twice
			orphan.Scope, orphan.ID = "no-such-domain", "orphan"
			shared := twice
			shared.Scope = *other.DomainId
			c.Fields["title"] = localcases.Value{Kind: localcases.ValueString, S: "in the other domain"}
			shared.Data, _ = json.Marshal(c)
			snap.Records = append(snap.Records, twice, orphan, shared)

			ctx := context.Background()
			load := func(store localcases.Store) *Service {
				s, err := New(ctx, store, src.s.cfg)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Import(ctx, roundTrip(t, snap)); err != nil {
					t.Fatal(err)
				}
				return s
			}
			bulk = load(engine.open(t))
			ref := load(oneAtATime{engine.open(t)})
			compareIndexes(t, "one at a time", ref, "bulk import", bulk, src.domain, *other.DomainId)
		})
	}
}

// compareIndexes fails unless a and b hold the same case index entries,
// and their text indexes of the domains find the same cases for every
// term the tests search for and for each of the cases' values.
func compareIndexes(t *testing.T, aName string, a *Service, bName string, b *Service, domains ...string) {
	t.Helper()
	type entry struct {
		key   []byte
		owner string
	}
	entries := func(s *Service) (out []entry) {
		err := s.store.View(context.Background(), func(tx localcases.Tx) error {
			return tx.ScanIndex(indexAsc, nil, nil, false, func(key []byte, owner string) (bool, error) {
				out = append(out, entry{bytes.Clone(key), owner})
				return true, nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ea, eb := entries(a), entries(b)
	if !slices.EqualFunc(ea, eb, func(x, y entry) bool { return bytes.Equal(x.key, y.key) && x.owner == y.owner }) {
		t.Fatalf("case index: %s has %d entries, %s %d, or they differ", aName, len(ea), bName, len(eb))
	}
	if len(ea) == 0 {
		t.Fatal("no entries to compare")
	}
	terms := slices.Clone(termSearches)
	for _, d := range domains {
		err := a.store.View(context.Background(), func(tx localcases.Tx) error {
			return tx.List(localcases.Cases, d, 0, func(r localcases.Raw) (bool, error) {
				var c localcases.Case
				if err := json.Unmarshal(r.Data, &c); err != nil {
					return false, err
				}
				for _, v := range c.Fields {
					terms = append(terms, v.S)
				}
				return true, nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	found := func(s *Service, name, term string) (out []string) {
		err := s.store.View(context.Background(), func(tx localcases.Tx) error {
			var err error
			out, err = tx.SearchText(name, term)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	matched := 0
	for _, d := range domains {
		for _, term := range terms {
			sub, ok := textSearchTerm(term)
			if !ok {
				continue
			}
			fa, fb := found(a, textIndexName(d), sub), found(b, textIndexName(d), sub)
			if !slices.Equal(fa, fb) {
				t.Fatalf("text index of %s, %q: %s finds %v, %s %v", d, sub, aName, fa, bName, fb)
			}
			matched += len(fa)
		}
	}
	if matched == 0 {
		t.Fatal("no term found a case")
	}
}
