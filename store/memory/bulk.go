package memory

import (
	"bytes"
	"fmt"

	"github.com/localcases/localcases"
)

var _ localcases.BulkTx = (*tx)(nil)

// PutMany stores each record's JSON as given (a copy of it), without the
// encoding pass of Put.
func (t *tx) PutMany(records []localcases.SnapshotRecord) error {
	if t.readOnly {
		return fmt.Errorf("put many records in a read-only transaction")
	}
	for _, r := range records {
		t.put(r.Collection, r.Scope, r.ID, bytes.Clone(r.Data))
	}
	return nil
}

func (t *tx) SetIndexMany(name string, owners []localcases.IndexKeys) error {
	for _, o := range owners {
		if err := t.SetIndex(name, o.Owner, o.Keys); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) SetTextMany(name string, docs []localcases.TextDoc) error {
	for _, d := range docs {
		if err := t.SetText(name, d.Owner, d.Doc); err != nil {
			return err
		}
	}
	return nil
}
