package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// Reset deletes every domain of the account and everything in it, in one
// transaction. The server's token key stays, so nothing else changes.
func (s *Service) Reset(ctx context.Context) error {
	return s.update(ctx, func(tx localcases.Tx) error { return s.reset(tx) })
}

func (s *Service) reset(tx localcases.Tx) error {
	domains, err := scanAll[localcases.Domain](tx, localcases.Domains, s.cfg.Account)
	if err != nil {
		return err
	}
	for _, d := range domains {
		if err := s.deleteDomainContents(tx, d.ID); err != nil {
			return fmt.Errorf("reset domain %s: %w", d.ID, err)
		}
	}
	return nil
}

// Export returns the account's whole state, read in one consistent view.
// It walks the resource hierarchy (domains, then what each holds) because
// the store has no notion of it.
func (s *Service) Export(ctx context.Context) (*localcases.Snapshot, error) {
	snap := &localcases.Snapshot{Format: localcases.SnapshotFormat, Region: s.cfg.Region, Account: s.cfg.Account, Records: []localcases.SnapshotRecord{}}
	err := s.view(ctx, func(tx localcases.Tx) error {
		add := func(c localcases.Collection, scope string) ([]localcases.Raw, error) {
			var raws []localcases.Raw
			err := tx.List(c, scope, 0, func(r localcases.Raw) (bool, error) {
				raws = append(raws, r)
				snap.Records = append(snap.Records, localcases.SnapshotRecord{Collection: c, Scope: scope, ID: r.ID, Data: json.RawMessage(r.Data)})
				return true, nil
			})
			return raws, err
		}
		domains, err := add(localcases.Domains, s.cfg.Account)
		if err != nil {
			return err
		}
		for _, d := range domains {
			fields, err := add(localcases.Fields, d.ID)
			if err != nil {
				return err
			}
			for _, f := range fields {
				if _, err := add(localcases.FieldOptions, scope2(d.ID, f.ID)); err != nil {
					return err
				}
			}
			for _, c := range []localcases.Collection{localcases.Layouts, localcases.Templates, localcases.CaseRules,
				localcases.EventConfigs, localcases.ClientTokens, localcases.ReferenceNums} {
				if _, err := add(c, d.ID); err != nil {
					return err
				}
			}
			cases, err := add(localcases.Cases, d.ID)
			if err != nil {
				return err
			}
			contacts := map[string]bool{}
			for _, c := range cases {
				items, err := add(localcases.RelatedItems, scope2(d.ID, c.ID))
				if err != nil {
					return err
				}
				for _, raw := range items {
					var ri localcases.RelatedItem
					if err := decode(raw, &ri); err != nil {
						return err
					}
					if arn := contactARNOf(&ri); arn != "" {
						contacts[arn] = true
					}
				}
				if _, err := add(localcases.AuditEvents, scope2(d.ID, c.ID)); err != nil {
					return err
				}
			}
			for _, arn := range sortedSet(contacts) {
				if _, err := add(localcases.ContactLinks, scope2(d.ID, arn)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// Import replaces the account's state with a snapshot, in one transaction:
// either all of it loads or nothing changes. A snapshot of another Region or
// account is refused, since its ARNs would not match this server's.
func (s *Service) Import(ctx context.Context, snap *localcases.Snapshot) error {
	if snap.Format != localcases.SnapshotFormat {
		return api.Validation("snapshot format %q is not %q", snap.Format, localcases.SnapshotFormat)
	}
	if snap.Region != s.cfg.Region || snap.Account != s.cfg.Account {
		return api.Validation("the snapshot is of %s/%s; this server serves %s/%s (start it with --region %s --account %s)",
			snap.Region, snap.Account, s.cfg.Region, s.cfg.Account, snap.Region, snap.Account)
	}
	known := map[localcases.Collection]bool{}
	for _, c := range []localcases.Collection{localcases.Domains, localcases.Fields, localcases.FieldOptions, localcases.Layouts,
		localcases.Templates, localcases.CaseRules, localcases.Cases, localcases.RelatedItems, localcases.AuditEvents,
		localcases.EventConfigs, localcases.ClientTokens, localcases.ContactLinks, localcases.ReferenceNums} {
		known[c] = true
	}
	for i, r := range snap.Records {
		if !known[r.Collection] || r.ID == "" {
			return badRecord(i, &r)
		}
	}
	return s.update(ctx, func(tx localcases.Tx) error {
		if err := s.reset(tx); err != nil {
			return err
		}
		if nt, ok := tx.(noteTx); ok {
			tx = nt.Tx
		}
		if bt, ok := tx.(localcases.BulkTx); ok {
			return s.importBulk(bt, snap.Records)
		}
		for i, r := range snap.Records {
			if !json.Valid(r.Data) {
				return badRecord(i, &r)
			}
		}
		for _, r := range snap.Records {
			if err := tx.Put(r.Collection, r.Scope, r.ID, r.Data); err != nil {
				return fmt.Errorf("import %s %s: %w", r.Collection, r.ID, err)
			}
		}
		_, err := s.reindexAll(tx)
		return err
	})
}

func badRecord(i int, r *localcases.SnapshotRecord) error {
	return api.Validation("snapshot record %d (%s %s/%s) is not a record localcases exports", i, r.Collection, r.Scope, r.ID)
}
