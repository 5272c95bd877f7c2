package server

import (
	"bytes"
	"context"
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
		if hasNULEscape(rec.Data) {
			return fmt.Errorf("record %d (%s %q): data: %s", i, rec.Collection, rec.ID, restjson.TextRule("\x00"))
		}
	}
	return st.Service.Import(ctx, snap)
}

// hasNULEscape reports whether JSON text holds a string (a member name or
// a value) with U+0000 in it, without decoding it. In UTF-8 text (checked
// before) only the escape \u0000 can put it there: a raw control
// character is not JSON, which the import refuses anyway, and any other
// escape decodes to valid UTF-8 other than U+0000. So the text rules on
// every string of the data come down to this search, which costs a
// fraction of the decoding it replaces.
func hasNULEscape(data []byte) bool {
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("u0000"))
		if j < 0 {
			return false
		}
		j += i
		// An escape when an odd number of backslashes comes before it.
		n := 0
		for k := j - 1; k >= 0 && data[k] == '\\'; k-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		i = j + 1
	}
}
