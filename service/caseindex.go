package service

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// The case index lets SearchCases read a page's worth of cases instead of
// every case in the domain, through localcases.IndexTx. For every value a
// case holds, it keeps one entry:
//
//	case.asc   H(domain, field) enc(sortKey) caseID
//
// H is the first 12 bytes of SHA-256 over the domain and field IDs: a
// fixed-length, prefix-free stand-in for the 74 bytes of the two IDs, so
// keys are about half as long and a page of the index holds twice as many
// (a collision between two of a store's fields has odds of about 2^-96 per
// pair).
//
// enc is prefix-free and sorts bytewise exactly as cmpKey does, and the
// case ID after it breaks ties. A scan of case.asc forwards walks a field's
// values in ascending order with ties by case ID ascending; the same scan
// backwards walks them in descending order with ties by case ID
// descending, which is the order a search defines (cmpKeyed: ties follow
// the direction of the last sort key). So one entry per value serves both
// directions, and the cursor of a page is the same whichever path served
// it. A case with no value for the field has no entry: it sorts last, and
// the search finds it by walking every case (through case_id, which every
// case holds), in the direction of the sort.
const (
	indexAsc = "case.asc"
	// indexDescV2 is the descending index of layout version 2, emptied
	// when the index is rebuilt.
	indexDescV2 = "case.desc"
	// caseIndexVersion changes when the key layout does; the service
	// rebuilds the index at start when the stored version differs.
	caseIndexVersion = 3
)

// enc rank bytes: present values 1..4 (cmpKey's ranks plus one), missing 5.
func encSortKey(k sortKey) []byte { return appendSortKey(nil, k) }

// appendSortKey appends enc(k) to b.
func appendSortKey(b []byte, k sortKey) []byte {
	b = append(b, byte(k.R+1))
	switch k.R {
	case rankBool:
		b = append(b, byte(k.N))
	case rankNumber:
		b = binary.BigEndian.AppendUint64(b, orderedFloat(k.N))
	case rankTime:
		b = binary.BigEndian.AppendUint64(b, uint64(k.T)^(1<<63))
		b = binary.BigEndian.AppendUint32(b, uint32(k.N))
		b = appendEscaped(b, k.S)
	case rankString:
		b = appendEscaped(b, k.S)
	}
	return b
}

// decodeSortKey reverses encSortKey at the start of b; it returns the key
// and what follows it (the case ID). It lets a walk of an index read each
// entry's sort key from the entry instead of loading the case.
func decodeSortKey(b []byte) (k sortKey, rest []byte, ok bool) {
	e := b
	// unescape reverses appendEscaped from e[i:], returning the string and
	// the index just past its terminator.
	unescape := func(i int) (string, int, bool) {
		var out []byte
		for ; i+1 < len(e); i++ {
			if e[i] != 0 {
				out = append(out, e[i])
				continue
			}
			i++
			switch e[i] {
			case 0xFF:
				out = append(out, 0)
			case 1:
				return string(out), i + 1, true
			default:
				return "", 0, false
			}
		}
		return "", 0, false
	}
	if len(e) == 0 {
		return k, nil, false
	}
	k.R = int(e[0]) - 1
	end := 0
	switch k.R {
	case rankBool:
		if len(e) < 2 {
			return k, nil, false
		}
		k.N, end = float64(e[1]), 2
	case rankNumber:
		if len(e) < 9 {
			return k, nil, false
		}
		x := binary.BigEndian.Uint64(e[1:])
		if x>>63 == 1 {
			x &^= 1 << 63
		} else {
			x = ^x
		}
		k.N, end = math.Float64frombits(x), 9
	case rankTime:
		if len(e) < 13 {
			return k, nil, false
		}
		k.T = int64(binary.BigEndian.Uint64(e[1:]) ^ (1 << 63))
		k.N = float64(binary.BigEndian.Uint32(e[9:]))
		if k.S, end, ok = unescape(13); !ok {
			return k, nil, false
		}
	case rankString:
		if k.S, end, ok = unescape(1); !ok {
			return k, nil, false
		}
	default:
		return k, nil, false
	}
	return k, b[end:], true
}

// orderedFloat maps a float64 to a uint64 that sorts the same way.
func orderedFloat(f float64) uint64 {
	if f == 0 {
		f = 0 // -0 and +0 are equal to cmpKey
	}
	bits := math.Float64bits(f)
	if bits>>63 == 0 {
		return bits | 1<<63
	}
	return ^bits
}

// appendEscaped writes s so that it sorts bytewise like s and no encoding is
// a prefix of another: 0x00 becomes 0x00 0xFF, and 0x00 0x01 ends it.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0, 0xFF)
			continue
		}
		b = append(b, s[i])
	}
	return append(b, 0, 1)
}

func fieldPrefix(domainID, fieldID string) []byte {
	h := sha256.New()
	h.Write([]byte(domainID))
	h.Write([]byte{0})
	h.Write([]byte(fieldID))
	return h.Sum(make([]byte, 0, sha256.Size))[:fieldPrefixLen:fieldPrefixLen]
}

const fieldPrefixLen = 12

// indexKey is the entry of caseID for sort key k. No entry has a missing
// key; its encoding (the rank byte after every present one) serves as a
// bound.
func indexKey(domainID, fieldID string, k sortKey, caseID string) []byte {
	return appendIndexKey(nil, fieldPrefix(domainID, fieldID), k, caseID)
}

func appendIndexKey(b, prefix []byte, k sortKey, caseID string) []byte {
	b = append(b, prefix...)
	if k.R == rankMissing {
		b = append(b, byte(rankMissing+1))
	} else {
		b = appendSortKey(b, k)
	}
	return append(b, caseID...)
}

// indexCase writes c's entries; fs gives field types (DateTime values sort
// as instants) and is loaded when nil.
func (s *Service) indexCase(tx localcases.Tx, domainID string, c *localcases.Case, fs *fieldSet) error {
	if err := indexCaseText(tx, domainID, c); err != nil {
		return err
	}
	if fs == nil {
		var err error
		if fs, err = s.loadFieldSet(tx, domainID); err != nil {
			return err
		}
	}
	return tx.SetIndex(indexAsc, c.ID, caseIndexKeys(domainID, c, fs))
}

// caseIndexKeys returns c's entries, sharing one array (keys taken
// before it grows keep the old one): a case write builds some twenty.
func caseIndexKeys(domainID string, c *localcases.Case, fs *fieldSet) [][]byte {
	keys := make([][]byte, 0, len(c.Fields))
	buf := make([]byte, 0, len(c.Fields)*(fieldPrefixLen+len(c.ID)+24))
	for id, v := range c.Fields {
		k := keyOf(fs.typeOf(id), v, true)
		if k.R == rankMissing {
			continue
		}
		start := len(buf)
		buf = appendIndexKey(buf, fs.prefix(id), k, c.ID)
		keys = append(keys, buf[start:len(buf):len(buf)])
	}
	return keys
}

func unindexCase(tx localcases.Tx, caseID string) error {
	return tx.SetIndex(indexAsc, caseID, nil)
}

type indexMeta struct {
	Version int `json:"version"`
}

// ensureCaseIndex rebuilds the case index when the store holds none of the
// current layout: a data directory from before the index, or after a
// layout change. It runs at start, in one transaction.
func (s *Service) ensureCaseIndex(ctx context.Context) error {
	return s.store.Update(ctx, func(tx localcases.Tx) error {
		var m indexMeta
		err := tx.Get(localcases.Meta, "", "caseindex", &m)
		if err == nil && m.Version == caseIndexVersion {
			return nil
		}
		if err != nil && !isNotFound(err) {
			return err
		}
		start := time.Now()
		n, err := s.reindexAll(tx)
		if err != nil {
			return err
		}
		if n > 0 {
			// A store from an older release: say why this start took longer.
			s.log.Info("rebuilt the case index", "cases", n, "from_version", m.Version, "version", caseIndexVersion,
				"seconds", time.Since(start).Seconds())
		}
		return tx.Put(localcases.Meta, "", "caseindex", indexMeta{Version: caseIndexVersion})
	})
}

// reindexAll writes the entries of every case of the account and returns
// how many cases it indexed.
func (s *Service) reindexAll(tx localcases.Tx) (int, error) {
	domains, err := scanAll[localcases.Domain](tx, localcases.Domains, s.cfg.Account)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range domains {
		fs, err := s.loadFieldSet(tx, d.ID)
		if err != nil {
			return n, err
		}
		err = tx.List(localcases.Cases, d.ID, 0, func(r localcases.Raw) (bool, error) {
			var c localcases.Case
			if err := decode(r, &c); err != nil {
				return false, err
			}
			n++
			// Version 2 kept a second, descending entry per value.
			if err := tx.SetIndex(indexDescV2, c.ID, nil); err != nil {
				return false, err
			}
			return true, s.indexCase(tx, d.ID, &c, fs)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// eqOperand is the sort key an equalTo operand matches bytewise in the
// index, or false when equality is not bytewise: emptyValue, and strings
// that parse as timestamps (they compare as instants, §9.3).
func eqOperand(u *api.FieldValueUnion) (sortKey, bool) {
	switch {
	case u.StringValue != nil:
		if _, isTime := parseTime(*u.StringValue); isTime {
			return sortKey{}, false
		}
		return sortKey{R: rankString, S: *u.StringValue}, true
	case u.UserArnValue != nil:
		return sortKey{R: rankString, S: *u.UserArnValue}, true
	case u.DoubleValue != nil:
		return sortKey{R: rankNumber, N: *u.DoubleValue}, true
	case u.BooleanValue != nil:
		k := sortKey{R: rankBool}
		if *u.BooleanValue {
			k.N = 1
		}
		return k, true
	}
	return sortKey{}, false
}
