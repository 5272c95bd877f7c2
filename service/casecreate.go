package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// A CreateCase is worked out before its write transaction whenever it can
// be: validated against the domain's field set and the template as last
// decoded, and encoded (the case record, its index keys and text
// document, the audit entry and the clientToken record). The transaction,
// which on the memory store holds the store's one lock and on SQLite runs
// in the one writer, then checks that it reads the same field set and
// template (compared by their stored bytes, like loadFieldSet's cache),
// and only writes. When either differs, or the plan needed a record read
// (a SingleSelect option) or failed, the transaction validates and
// encodes against what it reads, as it always did: the answer is the one
// the transaction's own reads give.

// createPlan is a CreateCase ready to write.
type createPlan struct {
	tpl     *cachedTemplate // validated against
	fs      *fieldSet       // validated against (fs.src)
	c       localcases.Case
	named   []string                // field IDs the request named, in its order
	created []localcases.AuditField // every value, by field ID
	// refGiven: the request set reference_number; otherwise the plan drew
	// one, which the transaction claims or draws again.
	refGiven bool
	caseJSON json.RawMessage
	keys     [][]byte
	text     string
	audit    localcases.AuditEvent
	auditRaw json.RawMessage
	tokenRaw json.RawMessage // nil without a clientToken
}

// errRefTaken: the drawn reference number is another case's.
var errRefTaken = errors.New("reference number taken")

// planCreate validates in against tpl and fs and builds what its
// transaction writes, with a new case ID and, unless in sets one, a new
// reference number.
func (s *Service) planCreate(ctx context.Context, in *api.CreateCaseRequest, domainID, templateID, token, hash string,
	tpl *cachedTemplate, fs *fieldSet, now time.Time) (*createPlan, error) {
	t := tpl.t
	if t.Deleted {
		return nil, api.Validation("Template %s is deleted and cannot be used to create cases.", templateID)
	}
	if t.Status != string(api.TemplateStatusActive) {
		return nil, api.Validation("Template %s is %s; only active templates can be used to create cases.", templateID, t.Status)
	}
	fields, named, err := fs.mergeValues(in.Fields, nil, true)
	if err != nil {
		return nil, err
	}
	p := &createPlan{tpl: tpl, fs: fs, named: named}
	c := &p.c
	*c = localcases.Case{
		ID: localcases.NewID(), TemplateID: templateID, Fields: fields,
		Created: now, Modified: now, Version: 1,
	}
	c.ARN = s.arn("domain/%s/case/%s", domainID, c.ID)
	fields["case_id"] = localcases.Value{Kind: localcases.ValueString, S: c.ID}
	fields["created_datetime"] = timeValue(now)
	fields["last_updated_datetime"] = timeValue(now)
	if by := in.PerformedBy; by != nil && by.UserArn != nil {
		u := localcases.Value{Kind: localcases.ValueUser, S: *by.UserArn}
		fields["created_by"] = u
		fields["last_updated_user"] = u
	}
	if _, ok := fields["status"]; !ok {
		fields["status"] = localcases.Value{Kind: localcases.ValueString, S: "open"} // §3.3 suggested default
	}
	if fields["status"].S == "closed" {
		fields["last_closed_datetime"] = timeValue(now)
	}
	p.refGiven = refOf(fields) != ""
	if !p.refGiven {
		fields["reference_number"] = localcases.Value{Kind: localcases.ValueString, S: newReferenceNumber()}
	}
	// Request tags win over the template's propagated tags (§2.3).
	if len(t.TagPropagation) > 0 || len(in.Tags) > 0 {
		c.Tags = make(map[string]string, len(t.TagPropagation)+len(in.Tags))
		for k, v := range t.TagPropagation {
			c.Tags[k] = v
		}
		for k, v := range in.Tags {
			c.Tags[k] = v
		}
	}
	p.created = createdValues(fields)
	if p.caseJSON, err = json.Marshal(c); err != nil {
		return nil, fmt.Errorf("encode case: %w", err)
	}
	p.keys = caseIndexKeys(domainID, c, fs)
	p.text = caseText(c)
	p.audit = *s.newAuditEvent(ctx, api.AuditEventTypeCaseCreated, in.PerformedBy, now)
	p.audit.Fields = make([]localcases.AuditField, len(p.created))
	for i, d := range p.created {
		p.audit.Fields[i] = localcases.AuditField{FieldID: d.FieldID, NewValue: d.NewValue}
	}
	if p.auditRaw, err = json.Marshal(&p.audit); err != nil {
		return nil, fmt.Errorf("encode audit event: %w", err)
	}
	if token != "" {
		ct := localcases.ClientToken{CaseID: c.ID, CaseARN: c.ARN, RequestHash: hash, Created: now}
		if p.tokenRaw, err = json.Marshal(&ct); err != nil {
			return nil, fmt.Errorf("encode client token: %w", err)
		}
	}
	return p, nil
}

// createdValues is diffValues(nil, fields): every value, by field ID,
// each as an addition (OldValue the empty value).
func createdValues(fields map[string]localcases.Value) []localcases.AuditField {
	ids := make([]string, 0, len(fields))
	for id, v := range fields {
		if !valIsEmpty(v) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]localcases.AuditField, len(ids))
	empty := localcases.Value{Kind: localcases.ValueEmpty}
	for i, id := range ids {
		out[i] = localcases.AuditField{FieldID: id, OldValue: &empty, NewValue: fields[id]}
	}
	return out
}

// writeCreate claims the plan's reference number, checks the template's
// requirements and writes the case with everything that goes with it.
// It fails with errRefTaken, having written nothing, when the reference
// number the plan drew is taken.
func (s *Service) writeCreate(ctx context.Context, tx localcases.Tx, domainID, token string, p *createPlan, by *api.UserUnion) error {
	c := &p.c
	ref := refOf(c.Fields)
	taken := false
	err := claimReference(tx, domainID, c.ID, ref, func() error {
		if p.refGiven {
			return api.Conflict("Reference number %q is already used by another case in the domain.", ref)
		}
		taken = true
		return nil
	})
	if err != nil {
		return err
	}
	if taken {
		return errRefTaken
	}
	// Rules see the case as it will be stored, service-set fields
	// included: the admin guide's own example conditions on created_datetime.
	reqs, err := s.loadRequirements(tx, domainID, p.tpl.t)
	if err != nil {
		return err
	}
	if err := reqs.check(nil, c.Fields); err != nil {
		return err
	}
	if err := tx.Put(localcases.Cases, domainID, c.ID, p.caseJSON); err != nil {
		return err
	}
	if err := tx.SetText(textIndexName(domainID), c.ID, p.text); err != nil {
		return err
	}
	if err := tx.SetIndex(indexAsc, c.ID, p.keys); err != nil {
		return err
	}
	if token != "" {
		if err := tx.Put(localcases.ClientTokens, domainID, token, p.tokenRaw); err != nil {
			return err
		}
	}
	if err := tx.Put(localcases.AuditEvents, scope2(domainID, c.ID), p.audit.ID, p.auditRaw); err != nil {
		return err
	}
	// CASE.CREATED lists every field holding a value, system fields
	// included (EVENTS.md §2.2, suggested).
	return s.emitCase(ctx, tx, caseChange{typ: EventCaseCreated, domainID: domainID, c: c,
		named: p.named, changed: p.created, by: by, at: c.Created, fs: p.fs})
}

// cachedTemplate is a template record as last read and decoded; shared
// between transactions, so never modified once stored.
type cachedTemplate struct {
	raw []byte
	t   *localcases.Template
}

// loadTemplate reads a template in tx and decodes it only when its stored
// bytes differ from the ones decoded last.
func (s *Service) loadTemplate(tx localcases.Tx, domainID, id string) (*cachedTemplate, error) {
	key := scope2(domainID, id)
	var prev *cachedTemplate
	var rec recordBytes
	if v, ok := s.templates.Load(key); ok {
		prev = v.(*cachedTemplate)
		rec.want = prev.raw
	}
	if err := get(tx, localcases.Templates, domainID, id, rtTemplate, &rec); err != nil {
		return nil, err
	}
	if rec.same {
		return prev, nil
	}
	t := new(localcases.Template)
	if err := json.Unmarshal(rec.got, t); err != nil {
		return nil, fmt.Errorf("decode template %s: %w", id, err)
	}
	c := &cachedTemplate{raw: rec.got, t: t}
	s.templates.Store(key, c)
	return c, nil
}

// cachedTemplate returns the template as last decoded, or nil.
func (s *Service) cachedTemplate(domainID, id string) *cachedTemplate {
	if v, ok := s.templates.Load(scope2(domainID, id)); ok {
		return v.(*cachedTemplate)
	}
	return nil
}

// recordBytes is a record read for its stored bytes: same when they are
// want, else a copy of them in got.
type recordBytes struct {
	want []byte
	same bool
	got  []byte
}

func (r *recordBytes) UnmarshalJSON(b []byte) error {
	if r.want != nil && bytes.Equal(b, r.want) {
		r.same = true
		return nil
	}
	r.got = bytes.Clone(b)
	return nil
}
