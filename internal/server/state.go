package server

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/restjson"
	"github.com/localcases/localcases/service"
)

// checkedState holds snapshot imports to the API's text rules, so the
// admin namespace cannot put into a store what the API refuses (and what
// PostgreSQL cannot hold): every engine refuses the same snapshots.
type checkedState struct{ *service.Service }

func (st checkedState) Import(ctx context.Context, snap *localcases.Snapshot) error {
	for i, rec := range snap.Records {
		for _, s := range []string{rec.Scope, rec.ID} {
			if r := restjson.TextRule(s); r != "" {
				return fmt.Errorf("record %d (%s %q): scope or ID: %s", i, rec.Collection, rec.ID, r)
			}
		}
		if len(rec.Data) == 0 {
			continue
		}
		if !utf8.Valid(rec.Data) {
			return fmt.Errorf("record %d (%s %q): data is not UTF-8", i, rec.Collection, rec.ID)
		}
		var v any
		if err := json.Unmarshal(rec.Data, &v); err != nil {
			return fmt.Errorf("record %d (%s %q): data: %w", i, rec.Collection, rec.ID, err)
		}
		if r := badString(v); r != "" {
			return fmt.Errorf("record %d (%s %q): data: %s", i, rec.Collection, rec.ID, r)
		}
	}
	return st.Service.Import(ctx, snap)
}

// badString returns the text rule a string or key in v breaks, or "".
func badString(v any) string {
	switch v := v.(type) {
	case string:
		return restjson.TextRule(v)
	case []any:
		for _, e := range v {
			if r := badString(e); r != "" {
				return r
			}
		}
	case map[string]any:
		for k, e := range v {
			if r := restjson.TextRule(k); r != "" {
				return r
			}
			if r := badString(e); r != "" {
				return r
			}
		}
	}
	return ""
}
