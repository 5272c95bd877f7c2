package service

import (
	"bytes"
	"errors"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// Field values cross three representations: the wire union
// (api.FieldValueUnion), the stored localcases.Value, and the audit union.
// A case's stored field map never holds an empty value: emptyValue clears
// the entry, so "has no value" is simply "absent" (§4.1, §7.2).

func valFromUnion(u *api.FieldValueUnion) localcases.Value {
	switch {
	case u == nil:
	case u.StringValue != nil:
		return localcases.Value{Kind: localcases.ValueString, S: *u.StringValue}
	case u.DoubleValue != nil:
		return localcases.Value{Kind: localcases.ValueDouble, N: *u.DoubleValue}
	case u.BooleanValue != nil:
		return localcases.Value{Kind: localcases.ValueBool, B: *u.BooleanValue}
	case u.UserArnValue != nil:
		return localcases.Value{Kind: localcases.ValueUser, S: *u.UserArnValue}
	}
	return localcases.Value{Kind: localcases.ValueEmpty}
}

func valToUnion(v localcases.Value) *api.FieldValueUnion {
	switch v.Kind {
	case localcases.ValueString:
		return &api.FieldValueUnion{StringValue: ptr(v.S)}
	case localcases.ValueDouble:
		return &api.FieldValueUnion{DoubleValue: ptr(v.N)}
	case localcases.ValueBool:
		return &api.FieldValueUnion{BooleanValue: ptr(v.B)}
	case localcases.ValueUser:
		return &api.FieldValueUnion{UserArnValue: ptr(v.S)}
	}
	return &api.FieldValueUnion{EmptyValue: &api.EmptyFieldValue{}}
}

func valToAudit(v localcases.Value) *api.AuditEventFieldValueUnion {
	u := valToUnion(v)
	return &api.AuditEventFieldValueUnion{
		StringValue: u.StringValue, DoubleValue: u.DoubleValue, BooleanValue: u.BooleanValue,
		UserArnValue: u.UserArnValue, EmptyValue: u.EmptyValue,
	}
}

func valIsEmpty(v localcases.Value) bool { return v.Kind == localcases.ValueEmpty || v.Kind == "" }

// valEqual compares kind and payload only, so values decoded from JSON with
// stray members in unused slots still compare equal.
func valEqual(a, b localcases.Value) bool {
	if valIsEmpty(a) || valIsEmpty(b) {
		return valIsEmpty(a) && valIsEmpty(b)
	}
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case localcases.ValueDouble:
		return a.N == b.N
	case localcases.ValueBool:
		return a.B == b.B
	}
	return a.S == b.S
}

// valHasContent is the test for "the field holds a value" in required-field
// checks: a blank string does not satisfy a requirement (§7.1 step 4 says
// present and non-empty).
func valHasContent(v localcases.Value) bool {
	if valIsEmpty(v) {
		return false
	}
	if v.Kind == localcases.ValueString || v.Kind == localcases.ValueUser {
		return v.S != ""
	}
	return true
}

func timeString(t time.Time) string { return t.UTC().Format(api.TimeFormat) }

func timeValue(t time.Time) localcases.Value {
	return localcases.Value{Kind: localcases.ValueString, S: timeString(t)}
}

func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// customerIDPattern is a Customer Profiles profile ARN (§2.2). The real
// service cannot be assumed to look the profile up, so only the shape is
// checked (§7.1 step 5).
var customerIDPattern = regexp.MustCompile(`^arn:aws[a-z-]*:profile:[a-z0-9-]+:\d{12}:domains/[^/\s]+/profiles/[^/\s]+$`)

// summaryMax is the summary field's own limit; the model bounds every other
// string at 4100, which Validate has already checked (§4.1).
const summaryMax = 3000

// fieldSet is a domain's field definitions, deleted ones included, read
// once per transaction, with SingleSelect options looked up on demand.
type fieldSet struct {
	// tx is nil in a field set a CreateCase validates against before its
	// transaction: the checks that read more records fail with errNeedTx.
	tx       localcases.Tx
	domainID string
	byID     map[string]*localcases.Field // shared: read, never written
	src      *decodedFields
}

// errNeedTx: a check needs to read the store, and the field set has no
// transaction to read it in.
var errNeedTx = errors.New("field set without a transaction")

// prefix is the index key prefix of field id (fieldPrefix).
func (fs *fieldSet) prefix(id string) []byte {
	if p, ok := fs.src.prefixes[id]; ok {
		return p
	}
	return fieldPrefix(fs.domainID, id)
}

// typeOf is the type of field id, or "" for a field the domain does not have.
func (fs *fieldSet) typeOf(id string) string {
	if f := fs.byID[id]; f != nil {
		return f.Type
	}
	return ""
}

// loadFieldSet reads the domain's field records in tx, as every write of a
// case must, but decodes them only when their stored bytes differ from the
// ones decoded last for the domain: every case write asks for the field
// set, and decoding some twenty definitions dominated its cost. Comparing
// the bytes invalidates the cache on any change, through any path (the
// API, an import, another server on the same database), with no version
// to keep in step.
func (s *Service) loadFieldSet(tx localcases.Tx, domainID string) (*fieldSet, error) {
	var prev *decodedFields
	if v, ok := s.fieldSets.Load(domainID); ok {
		prev = v.(*decodedFields)
	}
	same := prev != nil
	var raws []localcases.Raw
	err := tx.List(localcases.Fields, domainID, 0, func(r localcases.Raw) (bool, error) {
		i := len(raws)
		same = same && i < len(prev.raw) && prev.raw[i].ID == r.ID && bytes.Equal(prev.raw[i].Data, r.Data)
		raws = append(raws, r)
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if same && len(raws) == len(prev.raw) {
		return &fieldSet{tx: tx, domainID: domainID, byID: prev.byID, src: prev}, nil
	}
	d := &decodedFields{raw: raws, byID: make(map[string]*localcases.Field, len(raws)),
		prefixes: make(map[string][]byte, len(raws))}
	for _, r := range raws {
		f := new(localcases.Field)
		if err := decode(r, f); err != nil {
			return nil, err
		}
		d.byID[f.ID] = f
		d.prefixes[f.ID] = fieldPrefix(domainID, f.ID)
	}
	s.fieldSets.Store(domainID, d)
	return &fieldSet{tx: tx, domainID: domainID, byID: d.byID, src: d}, nil
}

// cachedFieldSet is the domain's field set as last decoded, without a
// transaction, or nil.
func (s *Service) cachedFieldSet(domainID string) *fieldSet {
	v, ok := s.fieldSets.Load(domainID)
	if !ok {
		return nil
	}
	d := v.(*decodedFields)
	return &fieldSet{domainID: domainID, byID: d.byID, src: d}
}

// decodedFields is a domain's field records as last read and decoded;
// shared between transactions, so never modified once stored.
type decodedFields struct {
	raw  []localcases.Raw
	byID map[string]*localcases.Field
	// prefixes holds each field's index key prefix.
	prefixes map[string][]byte
}

func (fs *fieldSet) activeOption(fieldID, value string) (bool, error) {
	if fs.tx == nil {
		return false, errNeedTx
	}
	var o localcases.FieldOption
	err := fs.tx.Get(localcases.FieldOptions, scope2(fs.domainID, fieldID), value, &o)
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return o.Active, nil
}

// checkValue checks that v suits field f (§4.1). prev is the case's current
// value, if any: a SingleSelect option deactivated after a case took it may
// be kept, just not newly assigned.
func (fs *fieldSet) checkValue(f *localcases.Field, v localcases.Value, prev *localcases.Value) error {
	if valIsEmpty(v) {
		return nil
	}
	want := map[string]localcases.ValueKind{
		string(api.FieldTypeText):         localcases.ValueString,
		string(api.FieldTypeUrl):          localcases.ValueString,
		string(api.FieldTypeDateTime):     localcases.ValueString,
		string(api.FieldTypeSingleSelect): localcases.ValueString,
		string(api.FieldTypeNumber):       localcases.ValueDouble,
		string(api.FieldTypeBoolean):      localcases.ValueBool,
		string(api.FieldTypeUser):         localcases.ValueUser,
	}[f.Type]
	if v.Kind != want {
		member := map[localcases.ValueKind]string{
			localcases.ValueString: "stringValue", localcases.ValueDouble: "doubleValue",
			localcases.ValueBool: "booleanValue", localcases.ValueUser: "userArnValue",
		}[want]
		return api.Validation("Field %s is of type %s; its value must be given as %s.", f.ID, f.Type, member)
	}
	switch f.Type {
	case string(api.FieldTypeDateTime):
		if _, ok := parseTime(v.S); !ok {
			return api.Validation("Field %s is of type DateTime; %q is not an ISO-8601 timestamp such as 2024-05-01T10:00:00.000Z.", f.ID, clipValue(v.S))
		}
	case string(api.FieldTypeSingleSelect):
		if prev != nil && valEqual(*prev, v) {
			return nil
		}
		ok, err := fs.activeOption(f.ID, v.S)
		if err != nil {
			return err
		}
		if !ok {
			return api.Validation("Value %q is not an active option of field %s.", clipValue(v.S), f.ID)
		}
	}
	switch f.ID {
	case "summary":
		if utf8.RuneCountInString(v.S) > summaryMax {
			return api.Validation("Field summary accepts at most %d characters.", summaryMax)
		}
	case "customer_id":
		if !customerIDPattern.MatchString(v.S) {
			return api.Validation("Field customer_id must be a Customer Profiles ARN of the form arn:aws:profile:{region}:{account}:domains/{name}/profiles/{id}.")
		}
	}
	return nil
}

func clipValue(s string) string {
	if len(s) <= 64 {
		return s
	}
	return strings.ToValidUTF8(s[:64], "") + "..."
}

// mergeValues validates the caller's field values and returns cur with them
// applied, plus the IDs the caller named. creating selects CreateCase's rule
// for deleted fields (always rejected, all listed at once) over
// UpdateCase's (allowed when the case already holds a value) (§4.4).
func (fs *fieldSet) mergeValues(in []api.FieldValue, cur map[string]localcases.Value, creating bool) (map[string]localcases.Value, []string, error) {
	seen := make(map[string]bool, len(in))
	var deleted []string
	for _, fv := range in {
		id := str(fv.Id)
		if seen[id] {
			return nil, nil, api.Validation("Field %s appears more than once in fields.", id)
		}
		seen[id] = true
		f := fs.byID[id]
		if f == nil {
			return nil, nil, api.Validation("Field %s does not exist in domain %s.", id, fs.domainID)
		}
		if f.Deleted {
			if _, held := cur[id]; creating || !held {
				deleted = append(deleted, id)
			}
		}
	}
	if len(deleted) > 0 {
		if creating {
			return nil, nil, api.Validation("These fields are deleted and cannot be used: %s.", strings.Join(deleted, ", "))
		}
		return nil, nil, api.Validation("These fields are deleted and the case holds no value for them: %s.", strings.Join(deleted, ", "))
	}
	out := make(map[string]localcases.Value, len(cur)+len(in))
	for k, v := range cur {
		out[k] = v
	}
	ids := make([]string, 0, len(in))
	for _, fv := range in {
		id := str(fv.Id)
		if sf, ok := systemFieldByID(id); ok && sf.serviceManaged {
			return nil, nil, api.Validation("Field %s is set by the service and cannot be written.", id)
		}
		v := valFromUnion(fv.Value)
		var prev *localcases.Value
		if p, ok := cur[id]; ok {
			prev = &p
		}
		if err := fs.checkValue(fs.byID[id], v, prev); err != nil {
			return nil, nil, err
		}
		if valIsEmpty(v) {
			delete(out, id)
		} else {
			out[id] = v
		}
		ids = append(ids, id)
	}
	return out, ids, nil
}

// diffValues lists the fields whose value differs between a and b, sorted
// by ID so audit entries come out in a stable order.
func diffValues(a, b map[string]localcases.Value) []localcases.AuditField {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	ids := make([]string, 0, len(keys))
	for k := range keys {
		if !valEqual(a[k], b[k]) {
			ids = append(ids, k)
		}
	}
	sort.Strings(ids)
	out := make([]localcases.AuditField, 0, len(ids))
	empty := localcases.Value{Kind: localcases.ValueEmpty}
	for _, id := range ids {
		old, ok := a[id]
		if !ok {
			old = empty
		}
		nv, ok := b[id]
		if !ok {
			nv = empty
		}
		out = append(out, localcases.AuditField{FieldID: id, OldValue: &old, NewValue: nv})
	}
	return out
}
