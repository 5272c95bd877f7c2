package service

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/store/memory"
)

// Helpers shared by the cases-plane tests (cases, related items, audit,
// search). They live in the internal test package so the tests can reach
// the pure filter evaluator and the token codecs; names carry a cs prefix
// so they cannot clash with helpers other planes add.

// csClock steps one millisecond on every reading, so every write gets its
// own instant and time-ordering assertions are deterministic.
type csClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *csClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *csClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type csEnv struct {
	t      testing.TB
	s      *Service
	clock  *csClock
	ctx    context.Context
	domain string
	tpl    string // an active template with no requirements
}

func csNewEnv(t testing.TB, q Quotas) *csEnv {
	t.Helper()
	return csNewEnvOn(t, memory.New(), q)
}

// csNewEnvOn is csNewEnv on store.
func csNewEnvOn(t testing.TB, store localcases.Store, q Quotas) *csEnv {
	t.Helper()
	clock := &csClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	s, err := New(context.Background(), store, Config{Clock: clock, Quotas: q, Account: "123456789012"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e := &csEnv{t: t, s: s, clock: clock, ctx: context.Background()}
	d, err := s.CreateDomain(e.ctx, &api.CreateDomainRequest{Name: api.String("cases-" + localcases.NewID())})
	if err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	e.domain = *d.DomainId
	e.tpl = e.template(localcases.Template{})
	return e
}

func (e *csEnv) field(name string, typ api.FieldType) string {
	e.t.Helper()
	out, err := e.s.CreateField(e.ctx, &api.CreateFieldRequest{DomainId: &e.domain, Name: &name, Type: &typ})
	if err != nil {
		e.t.Fatalf("CreateField %s: %v", name, err)
	}
	return *out.FieldId
}

func (e *csEnv) options(fieldID string, active bool, values ...string) {
	e.t.Helper()
	var opts []api.FieldOption
	for _, v := range values {
		opts = append(opts, api.FieldOption{Name: api.String(v), Value: api.String(v), Active: api.Bool(active)})
	}
	out, err := e.s.BatchPutFieldOptions(e.ctx, &api.BatchPutFieldOptionsRequest{DomainId: &e.domain, FieldId: &fieldID, Options: opts})
	if err != nil || len(out.Errors) > 0 {
		e.t.Fatalf("BatchPutFieldOptions: %v %+v", err, out)
	}
}

func (e *csEnv) deleteField(id string) {
	e.t.Helper()
	if _, err := e.s.DeleteField(e.ctx, &api.DeleteFieldRequest{DomainId: &e.domain, FieldId: &id}); err != nil {
		e.t.Fatalf("DeleteField: %v", err)
	}
}

// template stores a template record directly, so these tests do not
// depend on CreateTemplate's own checks. Zero Status means Active.
func (e *csEnv) template(t localcases.Template) string {
	e.t.Helper()
	if t.ID == "" {
		t.ID = localcases.NewID()
	}
	if t.Name == "" {
		t.Name = "tpl-" + t.ID
	}
	if t.Status == "" {
		t.Status = string(api.TemplateStatusActive)
	}
	err := e.s.store.Update(e.ctx, func(tx localcases.Tx) error {
		return tx.Put(localcases.Templates, e.domain, t.ID, &t)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return t.ID
}

func (e *csEnv) caseRule(d api.CaseRuleDetails) string {
	e.t.Helper()
	r := localcases.CaseRule{ID: localcases.NewID(), Name: "rule", Rule: mustJSON(d)}
	switch {
	case d.Required != nil:
		r.RuleType = string(api.RuleTypeRequired)
	case d.FieldOptions != nil:
		r.RuleType = string(api.RuleTypeFieldOptions)
	case d.Hidden != nil:
		r.RuleType = string(api.RuleTypeHidden)
	}
	err := e.s.store.Update(e.ctx, func(tx localcases.Tx) error {
		return tx.Put(localcases.CaseRules, e.domain, r.ID, &r)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return r.ID
}

func (e *csEnv) createCase(tpl string, fields ...api.FieldValue) (string, error) {
	out, err := e.s.CreateCase(e.ctx, &api.CreateCaseRequest{
		DomainId: &e.domain, TemplateId: &tpl, Fields: fields, ClientToken: api.String(localcases.NewID()),
	})
	if err != nil {
		return "", err
	}
	return *out.CaseId, nil
}

func (e *csEnv) mustCase(fields ...api.FieldValue) string {
	e.t.Helper()
	if len(fields) == 0 {
		fields = []api.FieldValue{sv("title", "a case")}
	}
	id, err := e.createCase(e.tpl, fields...)
	if err != nil {
		e.t.Fatalf("CreateCase: %v", err)
	}
	return id
}

func (e *csEnv) update(caseID string, fields ...api.FieldValue) error {
	_, err := e.s.UpdateCase(e.ctx, &api.UpdateCaseRequest{DomainId: &e.domain, CaseId: &caseID, Fields: fields})
	return err
}

func (e *csEnv) mustUpdate(caseID string, fields ...api.FieldValue) {
	e.t.Helper()
	if err := e.update(caseID, fields...); err != nil {
		e.t.Fatalf("UpdateCase: %v", err)
	}
}

// get returns the case's values for the given field IDs.
func (e *csEnv) get(caseID string, ids ...string) map[string]*api.FieldValueUnion {
	e.t.Helper()
	var want []api.FieldIdentifier
	for _, id := range ids {
		want = append(want, api.FieldIdentifier{Id: api.String(id)})
	}
	out, err := e.s.GetCase(e.ctx, &api.GetCaseRequest{DomainId: &e.domain, CaseId: &caseID, Fields: want})
	if err != nil {
		e.t.Fatalf("GetCase: %v", err)
	}
	m := map[string]*api.FieldValueUnion{}
	for _, f := range out.Fields {
		m[*f.Id] = f.Value
	}
	return m
}

func (e *csEnv) audit(caseID string) []api.AuditEvent {
	e.t.Helper()
	var all []api.AuditEvent
	var tok *string
	for {
		out, err := e.s.GetCaseAuditEvents(e.ctx, &api.GetCaseAuditEventsRequest{DomainId: &e.domain, CaseId: &caseID, NextToken: tok})
		if err != nil {
			e.t.Fatalf("GetCaseAuditEvents: %v", err)
		}
		all = append(all, out.AuditEvents...)
		if out.NextToken == nil {
			return all
		}
		tok = out.NextToken
	}
}

func (e *csEnv) relate(caseID string, typ api.RelatedItemType, c api.RelatedItemInputContent) (string, error) {
	out, err := e.s.CreateRelatedItem(e.ctx, &api.CreateRelatedItemRequest{DomainId: &e.domain, CaseId: &caseID, Type: &typ, Content: &c})
	if err != nil {
		return "", err
	}
	return *out.RelatedItemId, nil
}

func (e *csEnv) mustRelate(caseID string, typ api.RelatedItemType, c api.RelatedItemInputContent) string {
	e.t.Helper()
	id, err := e.relate(caseID, typ, c)
	if err != nil {
		e.t.Fatalf("CreateRelatedItem %s: %v", typ, err)
	}
	return id
}

// Field value constructors.
func sv(id, s string) api.FieldValue {
	return api.FieldValue{Id: api.String(id), Value: &api.FieldValueUnion{StringValue: api.String(s)}}
}
func nv(id string, n float64) api.FieldValue {
	return api.FieldValue{Id: api.String(id), Value: &api.FieldValueUnion{DoubleValue: api.Float64(n)}}
}
func bv(id string, b bool) api.FieldValue {
	return api.FieldValue{Id: api.String(id), Value: &api.FieldValueUnion{BooleanValue: api.Bool(b)}}
}
func uv(id, arn string) api.FieldValue {
	return api.FieldValue{Id: api.String(id), Value: &api.FieldValueUnion{UserArnValue: api.String(arn)}}
}
func ev(id string) api.FieldValue {
	return api.FieldValue{Id: api.String(id), Value: &api.FieldValueUnion{EmptyValue: &api.EmptyFieldValue{}}}
}

func csCode(err error) api.ErrorCode {
	var e *api.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return "untyped: " + api.ErrorCode(err.Error())
}

func csWant(t *testing.T, err error, want api.ErrorCode) {
	t.Helper()
	if got := csCode(err); got != want {
		t.Fatalf("error = %v (%s), want %s", err, got, want)
	}
}

func csJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
