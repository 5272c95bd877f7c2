package sqlstore

import "github.com/localcases/localcases"

var _ localcases.TextIndexTx = (*Tx)(nil)

// TextQueries are an engine's full-text statements (localcases.TextIndexTx),
// part of its Queries.
type TextQueries interface {
	// SetText makes doc owner's document in index name; "" removes it.
	SetText(name, owner, doc string) error
	// SearchText returns the owners of index name whose document contains
	// sub, bytewise.
	SearchText(name, sub string) ([]string, error)
}

func (t *Tx) SetText(name, owner, doc string) error {
	if err := t.check(true, "set text "+name); err != nil {
		return err
	}
	if err := t.q.SetText(name, owner, doc); err != nil {
		return t.fail(err)
	}
	return nil
}

func (t *Tx) SearchText(name, sub string) ([]string, error) {
	if err := t.check(false, ""); err != nil {
		return nil, err
	}
	if sub == "" {
		return nil, nil
	}
	owners, err := t.q.SearchText(name, sub)
	if err != nil {
		return nil, t.fail(err)
	}
	return owners, nil
}
