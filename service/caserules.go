package service

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// The API limit on rule conditions (§6.2), tighter than the model's lists.
const (
	maxRuleConditions = 5
	maxRuleNesting    = 2
)

// ruleKind names the CaseRuleDetails member that is set; the model's union
// check guarantees there is exactly one (§6.1).
func ruleKind(d *api.CaseRuleDetails) api.RuleType {
	switch {
	case d.Required != nil:
		return api.RuleTypeRequired
	case d.Hidden != nil:
		return api.RuleTypeHidden
	default:
		return api.RuleTypeFieldOptions
	}
}

// conditionWalk counts the comparisons (equalTo/notEqualTo) of a condition
// tree and collects the fields they read.
//
// BEHAVIOR §6.2 gives the limit as "5 conditions across 2 levels of nesting"
// without defining either word. We count comparisons only, since andAll and
// orAll carry no result of their own, and a level of nesting is one compound
// inside which a condition sits: orAll[andAll[a, b], andAll[c, d]] is two
// levels and allowed; a third compound inside those is not.
type conditionWalk struct {
	comparisons int
	fieldIDs    []string
}

func (w *conditionWalk) walk(conds []api.BooleanCondition, depth int) error {
	for i := range conds {
		c := &conds[i]
		var ops *api.BooleanOperands
		var inner *api.CompoundCondition
		switch {
		case c.EqualTo != nil:
			ops = c.EqualTo
		case c.NotEqualTo != nil:
			ops = c.NotEqualTo
		case c.AndAll != nil:
			inner = c.AndAll
		case c.OrAll != nil:
			inner = c.OrAll
		}
		if inner != nil {
			if depth+1 > maxRuleNesting {
				return api.Validation("A case rule may nest conditions at most %d levels deep.", maxRuleNesting)
			}
			if err := w.walk(inner.Conditions, depth+1); err != nil {
				return err
			}
			continue
		}
		if ops == nil {
			continue
		}
		w.comparisons++
		if w.comparisons > maxRuleConditions {
			return api.Validation("A case rule may have at most %d conditions.", maxRuleConditions)
		}
		if ops.OperandOne != nil && ops.OperandOne.FieldId != nil {
			w.fieldIDs = append(w.fieldIDs, *ops.OperandOne.FieldId)
		}
	}
	return nil
}

// checkRule applies the semantic rules of §6 to a rule body.
func (s *Service) checkRule(tx localcases.Tx, domainID string, d *api.CaseRuleDetails) error {
	fields, err := configFieldIndex(tx, domainID)
	if err != nil {
		return err
	}
	var conds []api.BooleanCondition
	switch {
	case d.Required != nil:
		conds = d.Required.Conditions
	case d.Hidden != nil:
		conds = d.Hidden.Conditions
	case d.FieldOptions != nil:
		return checkFieldOptionsRule(fields, d.FieldOptions)
	}
	var w conditionWalk
	if err := w.walk(conds, 0); err != nil {
		return err
	}
	return checkConfigFieldRefs(fields, "rule conditions", w.fieldIDs)
}

// checkFieldOptionsRule: cascading options only make sense between two
// distinct live SingleSelect fields (§6.3). The model leaves both IDs
// optional, but the rule means nothing without them.
func checkFieldOptionsRule(fields map[string]*localcases.Field, r *api.FieldOptionsCaseRule) error {
	if r.ParentFieldId == nil || r.ChildFieldId == nil {
		return api.Validation("A fieldOptions rule needs both parentFieldId and childFieldId.")
	}
	parent, child := *r.ParentFieldId, *r.ChildFieldId
	if parent == child {
		return api.Validation("A fieldOptions rule needs distinct parent and child fields; both are %s.", parent)
	}
	if err := checkConfigFieldRefs(fields, "fieldOptions", []string{parent, child}); err != nil {
		return err
	}
	for _, id := range []string{parent, child} {
		if t := fields[id].Type; t != string(api.FieldTypeSingleSelect) {
			return api.Validation("Field %s is of type %s; fieldOptions rules apply to SingleSelect fields.", id, t)
		}
	}
	return nil
}

func (s *Service) getCaseRule(tx localcases.Tx, domainID, id string) (*localcases.CaseRule, error) {
	var r localcases.CaseRule
	if err := get(tx, localcases.CaseRules, domainID, id, rtCaseRule, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// CreateCaseRule stores the rule as sent; its type follows from the union
// member (§6.1). The documentation names no uniqueness rule or quota for
// case rules (§13.1), so none is enforced.
func (s *Service) CreateCaseRule(ctx context.Context, in *api.CreateCaseRuleRequest) (*api.CreateCaseRuleResponse, error) {
	domainID := str(in.DomainId)
	if in.Rule == nil {
		return nil, api.Validation("rule is required.")
	}
	r := localcases.CaseRule{
		ID: localcases.NewID(), Name: str(in.Name), Description: str(in.Description),
		RuleType: string(ruleKind(in.Rule)), Rule: mustJSON(in.Rule),
	}
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		if err := s.checkRule(tx, domainID, in.Rule); err != nil {
			return err
		}
		r.Created = s.now()
		r.Modified = r.Created
		r.ARN = s.arn("domain/%s/case-rule/%s", domainID, r.ID)
		return tx.Put(localcases.CaseRules, domainID, r.ID, &r)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateCaseRuleResponse{CaseRuleId: &r.ID, CaseRuleArn: &r.ARN}, nil
}

// UpdateCaseRule is a partial update. A new rule body must keep the rule's
// kind (§6.4): templates attach a rule for what it does, and swapping a
// Required rule for a FieldOptions one under them would change that.
func (s *Service) UpdateCaseRule(ctx context.Context, in *api.UpdateCaseRuleRequest) (*api.UpdateCaseRuleResponse, error) {
	domainID, id := str(in.DomainId), str(in.CaseRuleId)
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		r, err := s.getCaseRule(tx, domainID, id)
		if err != nil {
			return err
		}
		if r.Deleted {
			return api.Validation("Case rule %s is deleted and cannot be updated.", id)
		}
		if in.Name == nil && in.Description == nil && in.Rule == nil {
			return nil
		}
		if in.Rule != nil {
			if kind := ruleKind(in.Rule); string(kind) != r.RuleType {
				return api.Validation("Case rule %s is a %s rule; its type cannot change to %s.", id, r.RuleType, kind)
			}
			if err := s.checkRule(tx, domainID, in.Rule); err != nil {
				return err
			}
			r.Rule = mustJSON(in.Rule)
		}
		if in.Name != nil {
			r.Name = *in.Name
		}
		if in.Description != nil {
			r.Description = *in.Description
		}
		r.Modified = s.now()
		return tx.Put(localcases.CaseRules, domainID, id, r)
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateCaseRuleResponse{}, nil
}

// DeleteCaseRule marks the rule deleted unless a live template still uses
// it (§6.4). The operation declares no ValidationException (§12.5), so a
// rule that is already deleted is a conflict with its state, not a bad
// request.
func (s *Service) DeleteCaseRule(ctx context.Context, in *api.DeleteCaseRuleRequest) (*api.DeleteCaseRuleResponse, error) {
	domainID, id := str(in.DomainId), str(in.CaseRuleId)
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		r, err := s.getCaseRule(tx, domainID, id)
		if err != nil {
			return err
		}
		if r.Deleted {
			return api.Conflict("Case rule %s is already deleted.", id)
		}
		var users []string
		err = tx.List(localcases.Templates, domainID, 0, func(raw localcases.Raw) (bool, error) {
			var t localcases.Template
			if err := decode(raw, &t); err != nil {
				return false, err
			}
			if t.Deleted {
				return true, nil
			}
			for _, tr := range t.Rules {
				if tr.CaseRuleID == id {
					users = append(users, t.ID)
					break
				}
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return api.Conflict("Case rule %s is used by templates %s; remove it from them first.", id, listIDs(users))
		}
		r.Deleted = true
		r.Modified = s.now()
		return tx.Put(localcases.CaseRules, domainID, id, r)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteCaseRuleResponse{}, nil
}

func caseRuleOut(r *localcases.CaseRule) (api.GetCaseRuleResponse, error) {
	var d api.CaseRuleDetails
	if err := json.Unmarshal(r.Rule, &d); err != nil {
		return api.GetCaseRuleResponse{}, fmt.Errorf("decode case rule %s: %w", r.ID, err)
	}
	out := api.GetCaseRuleResponse{
		CaseRuleId: ptr(r.ID), CaseRuleArn: ptr(r.ARN), Name: ptr(r.Name), Rule: &d,
		Deleted: r.Deleted, CreatedTime: api.NewTime(r.Created), LastModifiedTime: api.NewTime(r.Modified),
		Tags: tagsOut(r.Tags),
	}
	if r.Description != "" {
		out.Description = ptr(r.Description)
	}
	return out, nil
}

// BatchGetCaseRule returns deleted rules too (§6.4); unknown IDs go to
// errors rather than failing the call, as in BatchGetField (§4.2). Every
// rule is read in one transaction, so nothing is ever left unprocessed.
func (s *Service) BatchGetCaseRule(ctx context.Context, in *api.BatchGetCaseRuleRequest) (*api.BatchGetCaseRuleResponse, error) {
	domainID := str(in.DomainId)
	var out *api.BatchGetCaseRuleResponse
	err := s.view(ctx, func(tx localcases.Tx) error {
		out = &api.BatchGetCaseRuleResponse{CaseRules: []api.GetCaseRuleResponse{}, Errors: []api.CaseRuleError{}, UnprocessedCaseRules: []string{}}
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		for _, ci := range in.CaseRules {
			id := str(ci.Id)
			r, err := s.getCaseRule(tx, domainID, id)
			if isNotFoundError(err) {
				out.Errors = append(out.Errors, api.CaseRuleError{Id: ptr(id), ErrorCode: ptr("NotFound"), Message: ptr(fmt.Sprintf("Case rule %s not found.", id))})
				continue
			}
			if err != nil {
				return err
			}
			cr, err := caseRuleOut(r)
			if err != nil {
				return err
			}
			out.CaseRules = append(out.CaseRules, cr)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListCaseRules leaves deleted rules out, as every list of the domain's
// configuration does.
func (s *Service) ListCaseRules(ctx context.Context, in *api.ListCaseRulesRequest) (*api.ListCaseRulesResponse, error) {
	domainID := str(in.DomainId)
	tok, err := s.decodeToken(in.NextToken, listingKey("ListCaseRules", domainID))
	if err != nil {
		return nil, err
	}
	var rules []localcases.CaseRule
	var next *string
	err = s.view(ctx, func(tx localcases.Tx) (err error) {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		rules, next, err = listPage(s, tx, localcases.CaseRules, domainID, tok, pageSize(in.MaxResults, 100),
			func(r *localcases.CaseRule) bool { return !r.Deleted })
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListCaseRulesResponse{CaseRules: make([]api.CaseRuleSummary, 0, len(rules)), NextToken: next}
	for _, r := range rules {
		sum := api.CaseRuleSummary{CaseRuleId: ptr(r.ID), CaseRuleArn: ptr(r.ARN), Name: ptr(r.Name), RuleType: ptr(api.RuleType(r.RuleType))}
		if r.Description != "" {
			sum.Description = ptr(r.Description)
		}
		out.CaseRules = append(out.CaseRules, sum)
	}
	return out, nil
}
