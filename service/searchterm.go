package service

import (
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"time"

	"github.com/localcases/localcases"
)

// SearchCases finds a searchTerm (§9.3, matchesTerm) through a full-text
// index of each domain's cases (localcases.TextIndexTx) rather than by
// reading every case. A case's document in it is its string values, each
// lower-cased as matchesTerm folds them, one per line:
//
//	case.text/{domainID}  owner: case ID  document: "open\ncase number 7\n…"
//
// A term that holds no line break is a substring of the document exactly
// when it is a substring of one of the values, so the engines, which
// match bytewise, find exactly the cases matchesTerm accepts. A term with
// a line break (or NUL, which a document cannot hold: it ends a line in
// the document) is rare enough to be left to the scan.
//
// The index holds today's values, while a search judges cases as they
// were at its cut (see SearchCases); the cases changed since the cut are
// added to the candidates and judged as the scan judges them, so the
// answer is the scan's.

func textIndexName(domainID string) string { return "case.text/" + domainID }

// textFold is how matchesTerm compares: lower-cased.
func textFold(s string) string { return strings.ToLower(s) }

// lineBreaks are the characters that separate values in a document.
const lineBreaks = "\n\x00"

// caseText is c's document: its string values in field ID order (so an
// unchanged case has an unchanged document), folded, one per line.
func caseText(c *localcases.Case) string {
	ids := make([]string, 0, len(c.Fields))
	for id, v := range c.Fields {
		if isStringKind(v) && v.S != "" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.ReplaceAll(textFold(c.Fields[id].S), "\x00", "\n"))
	}
	return b.String()
}

// textSearchTerm is what to look for in the index for term, or false when
// the index cannot answer it.
func textSearchTerm(term string) (string, bool) {
	if term == "" || strings.ContainsAny(term, lineBreaks) {
		return "", false
	}
	return textFold(term), true
}

// indexCaseText writes c's document; it runs wherever the case's index
// entries are written.
func indexCaseText(tx localcases.Tx, domainID string, c *localcases.Case) error {
	return tx.SetText(textIndexName(domainID), c.ID, caseText(c))
}

func unindexCaseText(tx localcases.Tx, domainID, caseID string) error {
	return tx.SetText(textIndexName(domainID), caseID, "")
}

// scanShare: a term held by more than 1/scanShare of a domain's cases is
// judged by reading all of them in order.
const scanShare = 10

// searchCandidates calls fn with each case a search must judge, as stored
// today (fn judges it as of the cut). With a search term the index can
// answer, those are the cases whose values hold the term today, and the
// cases changed since the cut, whatever they hold; otherwise, every case
// of the domain.
func (s *Service) searchCandidates(tx localcases.Tx, domainID, term string, cut time.Time, fn func(c *localcases.Case) (bool, error)) error {
	all := func() error {
		return tx.List(localcases.Cases, domainID, 0, func(r localcases.Raw) (bool, error) {
			var c localcases.Case
			if err := decode(r, &c); err != nil {
				return false, err
			}
			return fn(&c)
		})
	}
	sub, ok := textSearchTerm(term)
	if !ok || s.noIndex {
		return all()
	}
	ids, err := tx.SearchText(textIndexName(domainID), sub)
	if err != nil {
		return err
	}
	// Reading cases one by one costs several times what reading them in
	// order does (a round trip each on PostgreSQL): a term that many cases
	// hold is judged over all of them.
	if len(ids) > 1000 {
		n, err := tx.Count(localcases.Cases, domainID)
		if err != nil {
			return err
		}
		if len(ids) > n/scanShare {
			return all()
		}
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	// Every case write moves last_updated_datetime: the entries of its
	// index past the cut are the cases changed since.
	prefix := fieldPrefix(domainID, "last_updated_datetime")
	after := append(slices.Clip(prefix), byte(rankTime+1))
	after = binary.BigEndian.AppendUint64(after, uint64(cut.UnixMilli())^(1<<63))
	after = append(after, 0xFF)
	err = tx.ScanIndex(indexAsc, prefix, after, false, func(_ []byte, id string) (bool, error) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		var c localcases.Case
		if err := tx.Get(localcases.Cases, domainID, id, &c); err != nil {
			return err
		}
		if more, err := fn(&c); err != nil || !more {
			return err
		}
	}
	return nil
}

// textIndexVersion changes when the document layout does: the service
// then writes every case's document again at start, as it does for a
// store from before the text index.
const textIndexVersion = 1

func (s *Service) ensureTextIndex(ctx context.Context) error {
	return s.store.Update(ctx, func(tx localcases.Tx) error {
		var m indexMeta
		switch err := tx.Get(localcases.Meta, "", "casetext", &m); {
		case err != nil && !isNotFound(err):
			return err
		case err == nil && m.Version == textIndexVersion:
			return nil
		}
		// The case index's own entries are rewritten only where they
		// differ, which they do not.
		n, err := s.reindexAll(tx)
		if err != nil {
			return err
		}
		if n > 0 {
			s.log.Info("rebuilt the case text index", "cases", n, "version", textIndexVersion)
		}
		return tx.Put(localcases.Meta, "", "casetext", indexMeta{Version: textIndexVersion})
	})
}
