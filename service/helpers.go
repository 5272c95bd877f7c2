package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

func decode(r localcases.Raw, dst any) error {
	if err := json.Unmarshal(r.Data, dst); err != nil {
		return fmt.Errorf("decode %s: %w", r.ID, err)
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, localcases.ErrNotFound) }

// contactARNOf returns the contact ARN of a Contact related item, or "".
func contactARNOf(ri *localcases.RelatedItem) string {
	if ri.Type != string(api.RelatedItemTypeContact) {
		return ""
	}
	var c api.RelatedItemContent
	if json.Unmarshal(ri.Content, &c) != nil || c.Contact == nil {
		return ""
	}
	return str(c.Contact.ContactArn)
}

// scanAll decodes every record of (c, scope) into T.
func scanAll[T any](tx localcases.Tx, c localcases.Collection, scope string) ([]T, error) {
	var out []T
	err := tx.List(c, scope, 0, func(r localcases.Raw) (bool, error) {
		var v T
		if err := decode(r, &v); err != nil {
			return false, err
		}
		out = append(out, v)
		return true, nil
	})
	return out, err
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err)) // only generated shapes reach here; they always encode
	}
	return b
}

// sortedSet returns a set's members in order, for deterministic output.
func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
