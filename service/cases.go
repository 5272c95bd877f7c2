package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// clientTokenTTL is how long a CreateCase clientToken is remembered. AWS
// does not document it; §7.1 suggests at least eight hours.
const clientTokenTTL = 8 * time.Hour

// refNumRecord indexes a reference number (upper-cased) to its case, which
// makes uniqueness within a domain a single lookup (§3.3).
type refNumRecord struct {
	CaseID string `json:"caseId"`
}

func (s *Service) caseTemplate(tx localcases.Tx, domainID, id string) (*localcases.Template, error) {
	var t localcases.Template
	if err := get(tx, localcases.Templates, domainID, id, rtTemplate, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// createCaseHash is the canonical form of a CreateCase request for the
// clientToken comparison: field order and nil-versus-empty collections are
// not differences a retry should trip over.
func createCaseHash(in *api.CreateCaseRequest) string {
	fields := append([]api.FieldValue{}, in.Fields...)
	sort.SliceStable(fields, func(i, j int) bool { return str(fields[i].Id) < str(fields[j].Id) })
	tags := in.Tags
	if len(tags) == 0 {
		tags = nil
	}
	b := mustJSON(struct {
		TemplateID  string            `json:"t"`
		Fields      []api.FieldValue  `json:"f"`
		PerformedBy *api.UserUnion    `json:"p"`
		Tags        map[string]string `json:"g"`
	}{str(in.TemplateId), fields, in.PerformedBy, tags})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

const refAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newReferenceNumber draws a 9-character alphanumeric reference, the 2026
// format (§3.3); uniqueness is the caller's loop against the index.
func newReferenceNumber() string {
	b := make([]byte, 9)
	for i := range b {
		b[i] = refAlphabet[rand.IntN(len(refAlphabet))]
	}
	return string(b)
}

func refKey(v string) string { return strings.ToUpper(v) }

// claimReference indexes ref for caseID, failing with dup() when another
// case already holds it, compared case-insensitively (§3.3).
func claimReference(tx localcases.Tx, domainID, caseID, ref string, dup func() error) error {
	var r refNumRecord
	err := tx.Get(localcases.ReferenceNums, domainID, refKey(ref), &r)
	if err == nil && r.CaseID != caseID {
		return dup()
	}
	if err != nil && !isNotFound(err) {
		return err
	}
	return tx.Put(localcases.ReferenceNums, domainID, refKey(ref), &refNumRecord{CaseID: caseID})
}

func releaseReference(tx localcases.Tx, domainID, caseID, ref string) error {
	var r refNumRecord
	err := tx.Get(localcases.ReferenceNums, domainID, refKey(ref), &r)
	if isNotFound(err) || (err == nil && r.CaseID != caseID) {
		return nil
	}
	if err != nil {
		return err
	}
	return tx.Delete(localcases.ReferenceNums, domainID, refKey(ref))
}

func refOf(fields map[string]localcases.Value) string {
	if v, ok := fields["reference_number"]; ok && v.Kind == localcases.ValueString {
		return v.S
	}
	return ""
}

// CreateCase creates a case from an active template (§7.1). Everything,
// including the clientToken check, runs in one transaction, so two
// concurrent retries cannot both create a case; most of the work is done
// before it (casecreate.go).
func (s *Service) CreateCase(ctx context.Context, in *api.CreateCaseRequest) (*api.CreateCaseResponse, error) {
	domainID, templateID, token := str(in.DomainId), str(in.TemplateId), str(in.ClientToken)
	hash := createCaseHash(in)
	now := s.now()
	var plan *createPlan
	if tpl, fs := s.cachedTemplate(domainID, templateID), s.cachedFieldSet(domainID); tpl != nil && fs != nil {
		// A plan that fails is dropped: the transaction decides on what
		// it reads.
		plan, _ = s.planCreate(ctx, in, domainID, templateID, token, hash, tpl, fs, now)
	}
	var out api.CreateCaseResponse
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		if token != "" {
			var ct localcases.ClientToken
			err := tx.Get(localcases.ClientTokens, domainID, token, &ct)
			if err != nil && !isNotFound(err) {
				return err
			}
			if err == nil && now.Sub(ct.Created) < clientTokenTTL {
				if ct.RequestHash != hash {
					return api.Conflict("The clientToken %q was already used with different parameters.", token)
				}
				out = api.CreateCaseResponse{CaseId: ptr(ct.CaseID), CaseArn: ptr(ct.CaseARN)}
				return nil
			}
		}
		tpl, err := s.loadTemplate(tx, domainID, templateID)
		if err != nil {
			return err
		}
		fs, err := s.loadFieldSet(tx, domainID)
		if err != nil {
			return err
		}
		p := plan
		if p == nil || p.tpl != tpl || p.fs.src != fs.src {
			s.createReplans.Add(1)
			if p, err = s.planCreate(ctx, in, domainID, templateID, token, hash, tpl, fs, now); err != nil {
				return err
			}
		}
		// 36^9 values make a collision rare; a bounded loop keeps a full or
		// broken index from spinning forever.
		for range 32 {
			err := s.writeCreate(ctx, tx, domainID, token, p, in.PerformedBy)
			if err != errRefTaken {
				if err == nil {
					out = api.CreateCaseResponse{CaseId: ptr(p.c.ID), CaseArn: ptr(p.c.ARN)}
				}
				return err
			}
			if p, err = s.planCreate(ctx, in, domainID, templateID, token, hash, tpl, fs, now); err != nil {
				return err
			}
		}
		return fmt.Errorf("no free reference number in domain %s", domainID)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetCase returns the requested fields that hold a value, in request order
// (§7.2). Deleted fields still return their stored values; unknown IDs and
// fields without a value are left out.
func (s *Service) GetCase(ctx context.Context, in *api.GetCaseRequest) (*api.GetCaseResponse, error) {
	domainID, caseID := str(in.DomainId), str(in.CaseId)
	// GetCase never issues a token (220 fields always fit), so any token
	// the client sends was not ours (§9.5).
	if _, err := s.decodeToken(in.NextToken, listingKey("GetCase", domainID, caseID)); err != nil {
		return nil, err
	}
	var c *localcases.Case
	err := s.view(ctx, func(tx localcases.Tx) (err error) {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		c, err = s.loadCase(tx, domainID, caseID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.GetCaseResponse{
		TemplateId: ptr(c.TemplateID),
		Tags:       tagsOut(c.Tags),
		Fields:     projectFields(c.Fields, in.Fields),
	}, nil
}

func projectFields(fields map[string]localcases.Value, want []api.FieldIdentifier) []api.FieldValue {
	out := make([]api.FieldValue, 0, len(want))
	seen := make(map[string]bool, len(want))
	for _, w := range want {
		id := str(w.Id)
		v, ok := fields[id]
		if !ok || seen[id] || valIsEmpty(v) {
			continue
		}
		seen[id] = true
		out = append(out, api.FieldValue{Id: ptr(id), Value: valToUnion(v)})
	}
	return out
}

// UpdateCase merges the given values into the case (§7.3). The read, the
// checks and the write share one transaction, so concurrent updates of one
// case serialise instead of losing each other's fields.
func (s *Service) UpdateCase(ctx context.Context, in *api.UpdateCaseRequest) (*api.UpdateCaseResponse, error) {
	domainID, caseID := str(in.DomainId), str(in.CaseId)
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		c, err := s.loadCase(tx, domainID, caseID)
		if err != nil {
			return err
		}
		fs, err := s.loadFieldSet(tx, domainID)
		if err != nil {
			return err
		}
		old := c.Fields
		fields, named, err := fs.mergeValues(in.Fields, old, false)
		if err != nil {
			return err
		}
		if len(diffValues(old, fields)) == 0 {
			// §7.3: an update that changes nothing leaves no trace, nor an
			// event unless asked for (EVENTS.md §3.1).
			if !s.events.NoopUpdates {
				return nil
			}
			return s.emitCase(ctx, tx, caseChange{typ: EventCaseUpdated, domainID: domainID, c: c,
				by: in.PerformedBy, at: s.now(), fs: fs})
		}
		var tpl *localcases.Template
		if t, err := s.caseTemplate(tx, domainID, c.TemplateID); err == nil {
			tpl = t
		} else if !isNotFoundError(err) {
			return err
		}
		if oldRef, newRef := refOf(old), refOf(fields); oldRef != newRef {
			if oldRef != "" {
				if err := releaseReference(tx, domainID, caseID, oldRef); err != nil {
					return err
				}
			}
			if newRef != "" {
				// UpdateCase declares no ConflictException (§12.5).
				err := claimReference(tx, domainID, caseID, newRef, func() error {
					return api.Validation("Reference number %q is already used by another case in the domain.", newRef)
				})
				if err != nil {
					return err
				}
			}
		}

		now := s.now()
		fields["last_updated_datetime"] = timeValue(now)
		if by := in.PerformedBy; by != nil && by.UserArn != nil {
			fields["last_updated_user"] = localcases.Value{Kind: localcases.ValueUser, S: *by.UserArn}
		} else {
			// The previous user did not make this change; naming them would
			// misattribute it (§3.3 leaves the no-user case open).
			delete(fields, "last_updated_user")
		}
		wasClosed, isClosed := old["status"].S == "closed", fields["status"].S == "closed"
		if isClosed && !wasClosed {
			fields["last_closed_datetime"] = timeValue(now)
		}
		if wasClosed && !isClosed {
			fields["last_reopened_datetime"] = timeValue(now)
		}
		reqs, err := s.loadRequirements(tx, domainID, tpl)
		if err != nil {
			return err
		}
		if err := reqs.check(old, fields); err != nil {
			return err
		}
		c.Fields = fields
		settled, err := s.settleSLAs(tx, domainID, c, now)
		if err != nil {
			return err
		}
		c.Modified = now
		c.Version++
		if err := tx.Put(localcases.Cases, domainID, caseID, c); err != nil {
			return err
		}
		if err := s.indexCase(tx, domainID, c, fs); err != nil {
			return err
		}
		ev := s.newAuditEvent(ctx, api.AuditEventTypeCaseUpdated, in.PerformedBy, now)
		ev.Fields = diffValues(old, c.Fields)
		if err := putAudit(tx, domainID, caseID, ev); err != nil {
			return err
		}
		err = s.emitCase(ctx, tx, caseChange{typ: EventCaseUpdated, domainID: domainID, c: c,
			named: named, changed: ev.Fields, by: in.PerformedBy, at: now, fs: fs})
		if err != nil || !s.events.RelatedItemChanges {
			return err
		}
		// An SLA the update met changes too (EVENTS.md §3.1: suggested,
		// with the related-item changes).
		for _, st := range settled {
			if err := s.emitRelated(ctx, tx, s.events.RelatedItemUpdatedType, domainID, st.ri, st.rc, in.PerformedBy, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateCaseResponse{}, nil
}

// DeleteCase removes the case and everything hanging off it (§7.4); the ID
// is unusable afterwards, so a clientToken retry must not hand it back.
func (s *Service) DeleteCase(ctx context.Context, in *api.DeleteCaseRequest) (*api.DeleteCaseResponse, error) {
	domainID, caseID := str(in.DomainId), str(in.CaseId)
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		c, err := s.loadCase(tx, domainID, caseID)
		if err != nil {
			return err
		}
		if ref := refOf(c.Fields); ref != "" {
			if err := releaseReference(tx, domainID, caseID, ref); err != nil {
				return err
			}
		}
		var tokens []string
		err = tx.List(localcases.ClientTokens, domainID, 0, func(r localcases.Raw) (bool, error) {
			var ct localcases.ClientToken
			if err := decode(r, &ct); err != nil {
				return false, err
			}
			if ct.CaseID == caseID {
				tokens = append(tokens, r.ID)
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, t := range tokens {
			if err := tx.Delete(localcases.ClientTokens, domainID, t); err != nil && !isNotFound(err) {
				return err
			}
		}
		if err := s.deleteCaseContents(tx, domainID, caseID); err != nil {
			return err
		}
		if err := tx.Delete(localcases.Cases, domainID, caseID); err != nil {
			return err
		}
		// DeleteCase takes no performedBy, so the event names only the caller.
		return s.emitCase(ctx, tx, caseChange{typ: EventCaseDeleted, domainID: domainID, c: c,
			changed: []localcases.AuditField{}, at: s.now()})
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteCaseResponse{}, nil
}

// ListCasesForContact lists the cases holding a Contact related item for
// the contact (§7.5), in the order the links were made.
func (s *Service) ListCasesForContact(ctx context.Context, in *api.ListCasesForContactRequest) (*api.ListCasesForContactResponse, error) {
	domainID, contact := str(in.DomainId), str(in.ContactArn)
	tok, err := s.decodeToken(in.NextToken, listingKey("ListCasesForContact", domainID, contact))
	if err != nil {
		return nil, err
	}
	var links []contactLink
	var next *string
	err = s.view(ctx, func(tx localcases.Tx) (err error) {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		links, next, err = listPage[contactLink](s, tx, localcases.ContactLinks, scope2(domainID, contact), tok, pageSize(in.MaxResults, 10), nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListCasesForContactResponse{Cases: make([]api.CaseSummary, 0, len(links)), NextToken: next}
	for _, l := range links {
		out.Cases = append(out.Cases, api.CaseSummary{CaseId: ptr(l.CaseID), TemplateId: ptr(l.TemplateID)})
	}
	return out, nil
}

// requirements are the value rules a template imposes on its cases: its
// requiredFields, title (§7.1 step 4), and its Required and FieldOptions
// case rules (§6).
type requirements struct {
	required []string
	rules    []boundRule
}

type boundRule struct {
	id      string
	fieldID string // the template rule's target field
	rule    api.CaseRuleDetails
}

func (s *Service) loadRequirements(tx localcases.Tx, domainID string, tpl *localcases.Template) (*requirements, error) {
	r := &requirements{required: []string{"title"}}
	if tpl == nil {
		return r, nil
	}
	r.required = append(r.required, tpl.RequiredFields...)
	for _, tr := range tpl.Rules {
		var cr localcases.CaseRule
		err := tx.Get(localcases.CaseRules, domainID, tr.CaseRuleID, &cr)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if cr.Deleted {
			continue
		}
		var d api.CaseRuleDetails
		if err := json.Unmarshal(cr.Rule, &d); err != nil {
			return nil, fmt.Errorf("decode case rule %s: %w", cr.ID, err)
		}
		r.rules = append(r.rules, boundRule{id: cr.ID, fieldID: tr.FieldID, rule: d})
	}
	return r, nil
}

// violations lists, as stable messages, every requirement fields breaks.
func (r *requirements) violations(fields map[string]localcases.Value) []string {
	var out []string
	seen := map[string]bool{}
	need := func(id, why string) {
		if id == "" || seen[id] || valHasContent(fields[id]) {
			return
		}
		seen[id] = true
		out = append(out, fmt.Sprintf("field %s is required%s", id, why))
	}
	for _, id := range r.required {
		need(id, "")
	}
	for _, b := range r.rules {
		switch {
		case b.rule.Required != nil:
			if ruleValue(b.rule.Required.Conditions, b.rule.Required.DefaultValue, fields) {
				need(b.fieldID, " by case rule "+b.id)
			}
		case b.rule.FieldOptions != nil:
			if msg := fieldOptionsViolation(b.id, b.rule.FieldOptions, fields); msg != "" {
				out = append(out, msg)
			}
		}
	}
	return out
}

// check fails when after breaks a requirement that before did not. On
// CreateCase before is nil, so every requirement applies. On UpdateCase
// this rejects clearing a required field and rule-required fields that the
// update makes required, yet lets a case that already lacked a value (say
// the template gained a required field after the case was made) be
// updated in other ways.
func (r *requirements) check(before, after map[string]localcases.Value) error {
	had := map[string]bool{}
	if before != nil {
		for _, v := range r.violations(before) {
			had[v] = true
		}
	}
	var bad []string
	for _, v := range r.violations(after) {
		if !had[v] {
			bad = append(bad, v)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return api.Validation("The case does not meet its template's requirements: %s.", strings.Join(bad, "; "))
}

// ruleValue evaluates a Required (or Hidden) rule: the first true condition
// supplies its result, else the default (§6.2).
func ruleValue(conds []api.BooleanCondition, def *bool, fields map[string]localcases.Value) bool {
	for i := range conds {
		if conditionHolds(&conds[i], fields) {
			return conditionResult(&conds[i])
		}
	}
	return def != nil && *def
}

func conditionHolds(c *api.BooleanCondition, fields map[string]localcases.Value) bool {
	switch {
	case c.EqualTo != nil:
		return operandsEqual(c.EqualTo, fields)
	case c.NotEqualTo != nil:
		return !operandsEqual(c.NotEqualTo, fields)
	case c.AndAll != nil:
		// An empty compound has no child to give a result, so it never fires.
		if len(c.AndAll.Conditions) == 0 {
			return false
		}
		for i := range c.AndAll.Conditions {
			if !conditionHolds(&c.AndAll.Conditions[i], fields) {
				return false
			}
		}
		return true
	case c.OrAll != nil:
		for i := range c.OrAll.Conditions {
			if conditionHolds(&c.OrAll.Conditions[i], fields) {
				return true
			}
		}
	}
	return false
}

// conditionResult is a leaf's result; a compound yields its first child's,
// the suggested reading of §6.2 (open question 13).
func conditionResult(c *api.BooleanCondition) bool {
	switch {
	case c.EqualTo != nil:
		return c.EqualTo.Result != nil && *c.EqualTo.Result
	case c.NotEqualTo != nil:
		return c.NotEqualTo.Result != nil && *c.NotEqualTo.Result
	case c.AndAll != nil && len(c.AndAll.Conditions) > 0:
		return conditionResult(&c.AndAll.Conditions[0])
	case c.OrAll != nil && len(c.OrAll.Conditions) > 0:
		return conditionResult(&c.OrAll.Conditions[0])
	}
	return false
}

func operandsEqual(o *api.BooleanOperands, fields map[string]localcases.Value) bool {
	if o.OperandOne == nil || o.OperandTwo == nil {
		return false
	}
	v, has := fields[str(o.OperandOne.FieldId)]
	has = has && !valIsEmpty(v)
	t := o.OperandTwo
	switch {
	case t.EmptyValue != nil:
		return !has
	case t.StringValue != nil:
		return has && (v.Kind == localcases.ValueString || v.Kind == localcases.ValueUser) && v.S == *t.StringValue
	case t.BooleanValue != nil:
		return has && v.Kind == localcases.ValueBool && v.B == *t.BooleanValue
	case t.DoubleValue != nil:
		return has && v.Kind == localcases.ValueDouble && v.N == *t.DoubleValue
	}
	return false
}

// fieldOptionsViolation enforces a FieldOptions rule (§6.3): while the
// parent holds P, the child may only hold a value mapped for P. A parent
// value with no mapping leaves the child unrestricted; an unset parent is
// looked up as "", which the model allows as a mapping key.
func fieldOptionsViolation(ruleID string, r *api.FieldOptionsCaseRule, fields map[string]localcases.Value) string {
	child, ok := fields[str(r.ChildFieldId)]
	if !ok || valIsEmpty(child) {
		return ""
	}
	parent := fields[str(r.ParentFieldId)].S
	for _, m := range r.ParentChildFieldOptionsMappings {
		if str(m.ParentFieldOptionValue) != parent {
			continue
		}
		for _, allowed := range m.ChildFieldOptionValues {
			if allowed == child.S {
				return ""
			}
		}
		return fmt.Sprintf("field %s may not hold %q while field %s holds %q (case rule %s)",
			str(r.ChildFieldId), clipValue(child.S), str(r.ParentFieldId), clipValue(parent), ruleID)
	}
	return ""
}
