// The secondary indexes (localcases.IndexTx) live in one table
//
//	idx (name, key, owner) PRIMARY KEY (name, key, owner)
//
// paged through in (key, owner) order with keyset conditions and the
// bounds of a key prefix. Queries use ? placeholders; Numbered rewrites
// them as $1, $2, ….

package sqlstore

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
)

// The page queries. Each reads at most LIMIT entries of one index along
// its primary key, so a scan that stops early reads only what it needs.
const (
	ascFrom    = iota // key >= lo
	ascFromTo         // key >= lo AND key < end
	ascAfter          // (key, owner) > last
	ascAfterTo        // (key, owner) > last AND key < end
	descAll           // key >= prefix
	descBelow         // key >= prefix AND key < hi
	descBefore        // key >= prefix AND (key, owner) < last
	numWalks
)

// Each walk comes in two forms: every entry, or only the entries whose
// owner O also has the key alsoPrefix+O in another index. That probe is
// one primary-key lookup per entry, in the other index's range of keys
// under alsoPrefix, which the walk's probes share, so their pages stay in
// the cache.
const (
	alsoNone = iota
	alsoKey
	NumScans = numWalks * 2
)

// ScanQueries returns the page queries, indexed by the variant Scan.Page
// returns. Each takes the index name, its bound arguments, the other
// index's name and key prefix if any, and the page size. keyOf is the
// engine's SQL for a parameter's bytes followed by the outer row's owner
// as bytes, e.g. "CAST(? || idx.owner AS BLOB)".
func ScanQueries(keyOf string) (q [NumScans]string) {
	also := [2]string{
		// m.owner || '' keeps the planners on the primary key: offered
		// owner = idx.owner, SQLite probes idx_owner instead, whose pages
		// the probes of one walk do not share.
		alsoKey: " AND EXISTS (SELECT 1 FROM idx m WHERE m.name = ? AND m.key = " + keyOf + " AND m.owner || '' = idx.owner)",
	}
	for a := range 2 {
		sel := func(where string, desc bool) string {
			order := "key, owner"
			if desc {
				order = "key DESC, owner DESC"
			}
			return "SELECT key, owner FROM idx WHERE name = ? AND " + where + also[a] + " ORDER BY " + order + " LIMIT ?"
		}
		o := a * numWalks
		q[o+ascFrom] = sel("key >= ?", false)
		q[o+ascFromTo] = sel("key >= ? AND key < ?", false)
		q[o+ascAfter] = sel("(key, owner) > (?, ?)", false)
		q[o+ascAfterTo] = sel("(key, owner) > (?, ?) AND key < ?", false)
		q[o+descAll] = sel("key >= ?", true)
		q[o+descBelow] = sel("key >= ? AND key < ?", true)
		q[o+descBefore] = sel("key >= ? AND (key, owner) < (?, ?)", true)
	}
	return q
}

// The count queries: Count returns which one to run.
const (
	countFrom   = iota // key >= prefix
	countFromTo        // key >= prefix AND key < end
	NumCounts
)

// Counts are the count queries, indexed by the variant Count returns.
var Counts = [NumCounts]string{
	countFrom:   "SELECT count(*) FROM idx WHERE name = ? AND key >= ?",
	countFromTo: "SELECT count(*) FROM idx WHERE name = ? AND key >= ? AND key < ?",
}

// Numbered rewrites ? placeholders as $1, $2, … for PostgreSQL.
func Numbered(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// PrefixEnd returns the smallest key greater than every key that starts
// with prefix, or nil if there is none: prefix is empty or all 0xFF.
func PrefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// blob makes an empty key a zero-length value rather than NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Scan is one ScanIndex walk: Page gives the query for the next page, and
// Next moves past a full page.
type Scan struct {
	prefix, end []byte
	desc        bool
	// The first page's bound from after: ascending, the smallest key above
	// it (after+0x00) or the prefix, whichever is larger; descending, after
	// or the prefix's end, whichever is smaller. nil: no bound.
	first []byte
	// The last entry of the previous page, once there is one.
	started   bool
	lastKey   []byte
	lastOwner string
	// The other index an entry's owner must also be in, if any.
	also *Also
}

// Also restricts a walk to the entries whose owner O also has the key
// Prefix+O in Index.
type Also struct {
	Index  string
	Prefix []byte
}

// NewScan starts a walk of the entries whose key starts with prefix,
// strictly after the key after (nil: from the first), descending if desc.
func NewScan(prefix, after []byte, desc bool, also *Also) *Scan {
	s := &Scan{prefix: blob(prefix), end: PrefixEnd(prefix), desc: desc, also: also}
	if desc {
		s.first = s.end
		if after != nil && (s.first == nil || bytes.Compare(after, s.first) < 0) {
			s.first = after
		}
	} else {
		s.first = s.prefix
		if after != nil {
			if next := append(slices.Clip(after), 0); bytes.Compare(next, s.first) > 0 {
				s.first = next
			}
		}
	}
	return s
}

// Page returns which of the ScanQueries to run for the next page of index name, and
// its arguments.
func (s *Scan) Page(name string, limit int) (variant int, args []any) {
	args = append(make([]any, 0, 9), name)
	switch {
	case !s.desc && !s.started:
		variant, args = ascFrom, append(args, s.first)
	case !s.desc:
		variant, args = ascAfter, append(args, s.lastKey, s.lastOwner)
	case !s.started && s.first == nil:
		variant, args = descAll, append(args, s.prefix)
	case !s.started:
		variant, args = descBelow, append(args, s.prefix, s.first)
	default:
		variant, args = descBefore, append(args, s.prefix, s.lastKey, s.lastOwner)
	}
	if !s.desc && s.end != nil {
		variant++ // the ...To form
		args = append(args, s.end)
	}
	if s.also != nil {
		variant += alsoKey * numWalks
		args = append(args, s.also.Index, blob(s.also.Prefix))
	}
	return variant, append(args, limit)
}

// Next moves the walk past a full page whose last entry was (key, owner).
func (s *Scan) Next(key []byte, owner string) {
	s.started, s.lastKey, s.lastOwner = true, blob(key), owner
}

// Count returns which of Counts counts the entries of index name whose
// key starts with prefix, and its arguments.
func Count(name string, prefix []byte) (variant int, args []any) {
	if end := PrefixEnd(prefix); end != nil {
		return countFromTo, []any{name, blob(prefix), end}
	}
	return countFrom, []any{name, blob(prefix)}
}

// Keys returns keys sorted bytewise without duplicates, as fresh copies
// (so a caller's later changes cannot reach a statement), empty keys as
// zero-length values.
func Keys(keys [][]byte) [][]byte {
	out := make([][]byte, 0, len(keys))
	for _, k := range keys {
		out = append(out, append([]byte{}, k...))
	}
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}

// Page sizes of a walk: the first page is small, since most scans want a
// page of search results, and pages then double up to MaxPage.
const (
	FirstPage = 32
	MaxPage   = 256
)

// Entry is one index entry read by a page query.
type Entry struct {
	Key   []byte
	Owner string
}

// Walk runs a whole ScanIndex: fetch runs query variant with args and
// appends the rows to page (a nil key read back from the database as an
// empty one); Walk hands each entry to fn once the page is buffered, so fn
// may use the transaction, and moves on until fn stops or a page comes back
// short.
func Walk(name string, prefix, after []byte, desc bool, also *Also,
	fetch func(variant int, args []any, page []Entry) ([]Entry, error),
	fn func(key []byte, owner string) (bool, error)) error {
	scan := NewScan(prefix, after, desc, also)
	page := make([]Entry, 0, MaxPage)
	for limit := FirstPage; ; limit = min(2*limit, MaxPage) {
		v, args := scan.Page(name, limit)
		var err error
		if page, err = fetch(v, args, page[:0]); err != nil {
			return err
		}
		for _, e := range page {
			if e.Key == nil {
				e.Key = []byte{}
			}
			more, err := fn(e.Key, e.Owner)
			if err != nil || !more {
				return err
			}
		}
		if len(page) < limit {
			return nil
		}
		last := page[len(page)-1]
		scan.Next(bytes.Clone(last.Key), last.Owner)
	}
}
