package admin

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/localcases/localcases"
)

// DecodeSnapshot reads one snapshot from r, as encoding/json would decode
// it into a localcases.Snapshot (member names in any case, unknown members
// and nulls skipped, duplicate names allowed, the last one counting), but
// in one pass over the text, tokenising it once: encoding/json reads a
// value whole before decoding it, and scans each record's data again to
// copy it, which for a snapshot of 100,000 cases cost seconds. Each
// record's Data is its JSON text as written. Text after the snapshot is an
// error.
func DecodeSnapshot(r io.Reader) (*localcases.Snapshot, error) {
	dec := jsontext.NewDecoder(r, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	snap := &localcases.Snapshot{}
	var data arena
	err := object(dec, "Snapshot", func(name string) error {
		switch {
		case strings.EqualFold(name, "format"):
			return stringInto(dec, "Snapshot.format", &snap.Format)
		case strings.EqualFold(name, "region"):
			return stringInto(dec, "Snapshot.region", &snap.Region)
		case strings.EqualFold(name, "account"):
			return stringInto(dec, "Snapshot.account", &snap.Account)
		case strings.EqualFold(name, "records"):
			return records(dec, &snap.Records, &data)
		}
		return dec.SkipValue()
	})
	if err != nil {
		return nil, err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("invalid character after the snapshot")
		}
		return nil, fmt.Errorf("after offset %d: %w", dec.InputOffset(), err)
	}
	return snap, nil
}

func records(dec *jsontext.Decoder, dst *[]localcases.SnapshotRecord, data *arena) error {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return err
	case '[':
	default:
		return typeError(dec, "Snapshot.records", "[]localcases.SnapshotRecord")
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	out := (*dst)[:0]
	for dec.PeekKind() != ']' {
		var rec localcases.SnapshotRecord
		err := object(dec, "SnapshotRecord", func(name string) error {
			switch {
			case strings.EqualFold(name, "collection"):
				return stringInto(dec, "SnapshotRecord.collection", (*string)(&rec.Collection))
			case strings.EqualFold(name, "scope"):
				return stringInto(dec, "SnapshotRecord.scope", &rec.Scope)
			case strings.EqualFold(name, "id"):
				return stringInto(dec, "SnapshotRecord.id", &rec.ID)
			case strings.EqualFold(name, "data"):
				v, err := dec.ReadValue()
				if err != nil {
					return err
				}
				rec.Data = data.copy(v)
				return nil
			}
			return dec.SkipValue()
		})
		if err != nil {
			return err
		}
		out = append(out, rec)
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	*dst = out
	return nil
}

// object reads an object, calling member for each name with the decoder
// before its value, which member must read; null is an empty object.
func object(dec *jsontext.Decoder, what string, member func(name string) error) error {
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		return err
	case '{':
	default:
		return typeError(dec, what, "object")
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		if err := member(name.String()); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
}

// stringInto reads a string into dst; null leaves dst as it is.
func stringInto(dec *jsontext.Decoder, what string, dst *string) error {
	switch dec.PeekKind() {
	case 'n', '"':
	default:
		return typeError(dec, what, "string")
	}
	tok, err := dec.ReadToken()
	if err != nil || tok.Kind() == 'n' {
		return err
	}
	*dst = tok.String()
	return nil
}

// typeError reads the value in the way (so that a syntax error in it is
// the one reported) and says what was expected there.
func typeError(dec *jsontext.Decoder, what, want string) error {
	off := dec.InputOffset()
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	kind := map[jsontext.Kind]string{'t': "bool", 'f': "bool", '"': "string", '0': "number", '{': "object", '[': "array"}[v.Kind()]
	return fmt.Errorf("json: cannot unmarshal %s into Go struct field %s of type %s (offset %d)", kind, what, want, off)
}

// arena hands out copies of records' data from large shared blocks: one
// allocation per block instead of one per record. A copy's capacity ends
// at its length, so appending to one never writes into the next.
type arena struct{ block []byte }

const arenaBlock = 1 << 20

func (a *arena) copy(v []byte) []byte {
	if len(v) > arenaBlock/4 {
		return append([]byte(nil), v...)
	}
	if len(a.block)+len(v) > cap(a.block) {
		a.block = make([]byte, 0, arenaBlock)
	}
	n := len(a.block)
	a.block = append(a.block, v...)
	return a.block[n:len(a.block):len(a.block)]
}
