package service_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/service"
)

func cpEq(fieldID, value string) api.BooleanCondition {
	return api.BooleanCondition{EqualTo: &api.BooleanOperands{
		OperandOne: &api.OperandOne{FieldId: &fieldID}, OperandTwo: &api.OperandTwo{StringValue: &value}, Result: api.Bool(true),
	}}
}

func cpNotEmpty(fieldID string) api.BooleanCondition {
	return api.BooleanCondition{NotEqualTo: &api.BooleanOperands{
		OperandOne: &api.OperandOne{FieldId: &fieldID}, OperandTwo: &api.OperandTwo{EmptyValue: &api.EmptyOperandValue{}}, Result: api.Bool(true),
	}}
}

func cpAnd(c ...api.BooleanCondition) api.BooleanCondition {
	return api.BooleanCondition{AndAll: &api.CompoundCondition{Conditions: c}}
}

func cpOr(c ...api.BooleanCondition) api.BooleanCondition {
	return api.BooleanCondition{OrAll: &api.CompoundCondition{Conditions: c}}
}

func cpRequiredDetails(c ...api.BooleanCondition) *api.CaseRuleDetails {
	if c == nil {
		c = []api.BooleanCondition{}
	}
	return &api.CaseRuleDetails{Required: &api.RequiredCaseRule{DefaultValue: api.Bool(false), Conditions: c}}
}

func cpHiddenDetails(c ...api.BooleanCondition) *api.CaseRuleDetails {
	if c == nil {
		c = []api.BooleanCondition{}
	}
	return &api.CaseRuleDetails{Hidden: &api.HiddenCaseRule{DefaultValue: api.Bool(true), Conditions: c}}
}

func cpOptionsDetails(parent, child string) *api.CaseRuleDetails {
	return &api.CaseRuleDetails{FieldOptions: &api.FieldOptionsCaseRule{
		ParentFieldId: &parent, ChildFieldId: &child,
		ParentChildFieldOptionsMappings: []api.ParentChildFieldOptionsMapping{
			{ParentFieldOptionValue: api.String("hardware"), ChildFieldOptionValues: []string{"laptop", "phone"}},
			{ParentFieldOptionValue: api.String(""), ChildFieldOptionValues: []string{}},
		},
	}}
}

func cpBatchGetRule(t *testing.T, s *service.Service, d string, ids ...string) *api.BatchGetCaseRuleResponse {
	t.Helper()
	in := &api.BatchGetCaseRuleRequest{DomainId: &d}
	for _, id := range ids {
		in.CaseRules = append(in.CaseRules, api.CaseRuleIdentifier{Id: api.String(id)})
	}
	cpValid(t, in)
	out, err := s.BatchGetCaseRule(context.Background(), in)
	cpOK(t, err)
	return out
}

func TestCaseRuleCreateKinds(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	text := cpField(t, s, d, "Text", api.FieldTypeText)
	parent := cpField(t, s, d, "Category", api.FieldTypeSingleSelect)
	child := cpField(t, s, d, "Item", api.FieldTypeSingleSelect)

	tests := []struct {
		name string
		rule *api.CaseRuleDetails
		want api.RuleType
	}{
		{"required", cpRequiredDetails(cpEq("status", "open"), cpAnd(cpEq(text, "x"), cpNotEmpty("summary"))), api.RuleTypeRequired},
		{"hidden", cpHiddenDetails(cpNotEmpty(text)), api.RuleTypeHidden},
		{"fieldOptions", cpOptionsDetails(parent, child), api.RuleTypeFieldOptions},
		{"fieldOptions on system select", cpOptionsDetails("case_reason", child), api.RuleTypeFieldOptions},
		{"five conditions over two levels", cpRequiredDetails(cpOr(cpAnd(cpEq(text, "a"), cpEq(text, "b")), cpAnd(cpEq(text, "c"), cpEq(text, "d"))), cpEq(text, "e")), api.RuleTypeRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &api.CreateCaseRuleRequest{DomainId: &d, Name: api.String(tc.name), Description: api.String("about " + tc.name), Rule: tc.rule}
			cpValid(t, in)
			out, err := s.CreateCaseRule(ctx, in)
			cpOK(t, err)
			if want := fmt.Sprintf("arn:aws:cases:us-east-1:000000000000:domain/%s/case-rule/%s", d, *out.CaseRuleId); *out.CaseRuleArn != want {
				t.Errorf("caseRuleArn = %s, want %s", *out.CaseRuleArn, want)
			}
			got := cpBatchGetRule(t, s, d, *out.CaseRuleId)
			if len(got.CaseRules) != 1 || len(got.Errors) != 0 {
				t.Fatalf("BatchGetCaseRule = %+v", got)
			}
			r := got.CaseRules[0]
			if *r.Name != tc.name || *r.Description != "about "+tc.name || r.Deleted || r.CreatedTime == nil || r.LastModifiedTime == nil || r.Tags == nil {
				t.Errorf("rule = %+v", r)
			}
			if !reflect.DeepEqual(r.Rule, tc.rule) {
				t.Errorf("rule body did not round-trip:\n got %+v\nwant %+v", r.Rule, tc.rule)
			}
			list, err := s.ListCaseRules(ctx, &api.ListCaseRulesRequest{DomainId: &d})
			cpOK(t, err)
			found := false
			for _, sum := range list.CaseRules {
				if *sum.CaseRuleId == *out.CaseRuleId {
					found = true
					if *sum.RuleType != tc.want || *sum.Name != tc.name || *sum.CaseRuleArn != *out.CaseRuleArn {
						t.Errorf("summary = %+v, want ruleType %s", sum, tc.want)
					}
				}
			}
			if !found {
				t.Error("ListCaseRules does not list the new rule")
			}
		})
	}
}

func TestCaseRuleCreateErrors(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	text := cpField(t, s, d, "Text", api.FieldTypeText)
	sel := cpField(t, s, d, "Select", api.FieldTypeSingleSelect)
	gone := cpField(t, s, d, "Gone", api.FieldTypeSingleSelect)
	cpDeleteField(t, s, d, gone)

	six := []api.BooleanCondition{cpEq(text, "1"), cpEq(text, "2"), cpEq(text, "3"), cpEq(text, "4"), cpEq(text, "5"), cpEq(text, "6")}
	tests := []struct {
		name   string
		domain string
		rule   *api.CaseRuleDetails
		want   api.ErrorCode
	}{
		{"unknown domain", "nd", cpRequiredDetails(), api.CodeResourceNotFoundException},
		{"unknown operand field", d, cpRequiredDetails(cpEq("nope", "x")), api.CodeValidationException},
		{"deleted operand field", d, cpHiddenDetails(cpNotEmpty(gone)), api.CodeValidationException},
		{"nested unknown operand field", d, cpRequiredDetails(cpOr(cpAnd(cpEq("nope", "x")))), api.CodeValidationException},
		{"six flat conditions", d, cpRequiredDetails(six...), api.CodeValidationException},
		{"six nested conditions", d, cpHiddenDetails(cpAnd(six[:3]...), cpOr(six[3:]...)), api.CodeValidationException},
		{"three levels", d, cpRequiredDetails(cpAnd(cpOr(cpAnd(cpEq(text, "x"))))), api.CodeValidationException},
		{"options parent not select", d, cpOptionsDetails(text, sel), api.CodeValidationException},
		{"options child not select", d, cpOptionsDetails(sel, "title"), api.CodeValidationException},
		{"options unknown child", d, cpOptionsDetails(sel, "nope"), api.CodeValidationException},
		{"options deleted parent", d, cpOptionsDetails(gone, sel), api.CodeValidationException},
		{"options same field", d, cpOptionsDetails(sel, sel), api.CodeValidationException},
		{"options no parent", d, &api.CaseRuleDetails{FieldOptions: &api.FieldOptionsCaseRule{ChildFieldId: &sel,
			ParentChildFieldOptionsMappings: []api.ParentChildFieldOptionsMapping{{ParentFieldOptionValue: api.String("a"), ChildFieldOptionValues: []string{}}}}}, api.CodeValidationException},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &api.CreateCaseRuleRequest{DomainId: &tc.domain, Name: api.String("R"), Rule: tc.rule}
			cpValid(t, in)
			_, err := s.CreateCaseRule(ctx, in)
			cpWant(t, err, tc.want)
		})
	}
	list, err := s.ListCaseRules(ctx, &api.ListCaseRulesRequest{DomainId: &d})
	cpOK(t, err)
	if list.CaseRules == nil || len(list.CaseRules) != 0 {
		t.Errorf("failed creates left rules behind: %#v", list.CaseRules)
	}
}

func TestCaseRuleUpdate(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	text := cpField(t, s, d, "Text", api.FieldTypeText)
	a := cpField(t, s, d, "A", api.FieldTypeSingleSelect)
	b := cpField(t, s, d, "B", api.FieldTypeSingleSelect)
	out, err := s.CreateCaseRule(ctx, &api.CreateCaseRuleRequest{DomainId: &d, Name: api.String("R"), Description: api.String("d"), Rule: cpRequiredDetails(cpEq(text, "x"))})
	cpOK(t, err)
	id := *out.CaseRuleId
	opts, err := s.CreateCaseRule(ctx, &api.CreateCaseRuleRequest{DomainId: &d, Name: api.String("O"), Rule: cpOptionsDetails(a, b)})
	cpOK(t, err)

	_, err = s.UpdateCaseRule(ctx, &api.UpdateCaseRuleRequest{DomainId: &d, CaseRuleId: &id, Name: api.String("R2")})
	cpOK(t, err)
	got := cpBatchGetRule(t, s, d, id).CaseRules[0]
	if *got.Name != "R2" || *got.Description != "d" || !reflect.DeepEqual(got.Rule, cpRequiredDetails(cpEq(text, "x"))) {
		t.Errorf("after rename: %+v", got)
	}
	newRule := cpRequiredDetails(cpNotEmpty(text), cpEq("status", "closed"))
	_, err = s.UpdateCaseRule(ctx, &api.UpdateCaseRuleRequest{DomainId: &d, CaseRuleId: &id, Rule: newRule, Description: api.String("")})
	cpOK(t, err)
	got = cpBatchGetRule(t, s, d, id).CaseRules[0]
	if *got.Name != "R2" || got.Description != nil || !reflect.DeepEqual(got.Rule, newRule) {
		t.Errorf("after rule update: %+v", got)
	}
	_, err = s.UpdateCaseRule(ctx, &api.UpdateCaseRuleRequest{DomainId: &d, CaseRuleId: opts.CaseRuleId, Rule: cpOptionsDetails(b, a)})
	cpOK(t, err)

	tests := []struct {
		name string
		in   api.UpdateCaseRuleRequest
		want api.ErrorCode
	}{
		{"unknown domain", api.UpdateCaseRuleRequest{DomainId: api.String("nd"), Name: api.String("x")}, api.CodeResourceNotFoundException},
		{"unknown rule", api.UpdateCaseRuleRequest{CaseRuleId: api.String("nr"), Name: api.String("x")}, api.CodeResourceNotFoundException},
		{"required to hidden", api.UpdateCaseRuleRequest{Rule: cpHiddenDetails()}, api.CodeValidationException},
		{"required to fieldOptions", api.UpdateCaseRuleRequest{Rule: cpOptionsDetails(a, b)}, api.CodeValidationException},
		{"fieldOptions to required", api.UpdateCaseRuleRequest{CaseRuleId: opts.CaseRuleId, Rule: cpRequiredDetails()}, api.CodeValidationException},
		{"unknown operand field", api.UpdateCaseRuleRequest{Rule: cpRequiredDetails(cpEq("nope", "x"))}, api.CodeValidationException},
		{"too many conditions", api.UpdateCaseRuleRequest{Rule: cpRequiredDetails(cpEq(text, "1"), cpEq(text, "2"), cpEq(text, "3"), cpAnd(cpEq(text, "4"), cpEq(text, "5"), cpEq(text, "6")))}, api.CodeValidationException},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.DomainId == nil {
				in.DomainId = &d
			}
			if in.CaseRuleId == nil {
				in.CaseRuleId = &id
			}
			cpValid(t, &in)
			_, err := s.UpdateCaseRule(ctx, &in)
			cpWant(t, err, tc.want)
		})
	}
	if got := cpBatchGetRule(t, s, d, id).CaseRules[0]; !reflect.DeepEqual(got.Rule, newRule) {
		t.Errorf("a failed update changed the rule: %+v", got.Rule)
	}

	_, err = s.DeleteCaseRule(ctx, &api.DeleteCaseRuleRequest{DomainId: &d, CaseRuleId: &id})
	cpOK(t, err)
	_, err = s.UpdateCaseRule(ctx, &api.UpdateCaseRuleRequest{DomainId: &d, CaseRuleId: &id, Name: api.String("x")})
	cpWant(t, err, api.CodeValidationException)
}

func TestCaseRuleDelete(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	r := cpRequiredRule(t, s, d, "R")
	tmpl, err := s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &d, Name: api.String("T"), Rules: []api.TemplateRule{{CaseRuleId: &r, FieldId: api.String("summary")}}})
	cpOK(t, err)

	// In use by a live template.
	_, err = s.DeleteCaseRule(ctx, &api.DeleteCaseRuleRequest{DomainId: &d, CaseRuleId: &r})
	cpWant(t, err, api.CodeConflictException)

	// Detaching it from the template frees it.
	_, err = s.UpdateTemplate(ctx, &api.UpdateTemplateRequest{DomainId: &d, TemplateId: tmpl.TemplateId, Rules: []api.TemplateRule{}})
	cpOK(t, err)
	_, err = s.DeleteCaseRule(ctx, &api.DeleteCaseRuleRequest{DomainId: &d, CaseRuleId: &r})
	cpOK(t, err)

	// Deleted templates do not hold rules.
	r2 := cpRequiredRule(t, s, d, "R2")
	tmpl2, err := s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &d, Name: api.String("T2"), Rules: []api.TemplateRule{{CaseRuleId: &r2}}})
	cpOK(t, err)
	_, err = s.DeleteTemplate(ctx, &api.DeleteTemplateRequest{DomainId: &d, TemplateId: tmpl2.TemplateId})
	cpOK(t, err)
	_, err = s.DeleteCaseRule(ctx, &api.DeleteCaseRuleRequest{DomainId: &d, CaseRuleId: &r2})
	cpOK(t, err)

	// DeleteCaseRule declares no ValidationException (§12.5).
	tests := []struct {
		name     string
		domain   string
		caseRule string
		want     api.ErrorCode
	}{
		{"already deleted", d, r, api.CodeConflictException},
		{"unknown rule", d, "nr", api.CodeResourceNotFoundException},
		{"unknown domain", "nd", r, api.CodeResourceNotFoundException},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.DeleteCaseRule(ctx, &api.DeleteCaseRuleRequest{DomainId: &tc.domain, CaseRuleId: &tc.caseRule})
			cpWant(t, err, tc.want)
		})
	}

	got := cpBatchGetRule(t, s, d, r, r2)
	if len(got.CaseRules) != 2 || !got.CaseRules[0].Deleted || !got.CaseRules[1].Deleted {
		t.Errorf("BatchGetCaseRule of deleted rules = %+v", got.CaseRules)
	}
	list, err := s.ListCaseRules(ctx, &api.ListCaseRulesRequest{DomainId: &d})
	cpOK(t, err)
	if list.CaseRules == nil || len(list.CaseRules) != 0 {
		t.Errorf("ListCaseRules lists deleted rules: %#v", list.CaseRules)
	}
}

func TestBatchGetCaseRule(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	a := cpRequiredRule(t, s, d, "A")
	b := cpRequiredRule(t, s, d, "B")

	got := cpBatchGetRule(t, s, d, b, "missing", a)
	if len(got.CaseRules) != 2 || *got.CaseRules[0].CaseRuleId != b || *got.CaseRules[1].CaseRuleId != a {
		t.Errorf("caseRules = %+v", got.CaseRules)
	}
	if len(got.Errors) != 1 || *got.Errors[0].Id != "missing" || *got.Errors[0].ErrorCode != "NotFound" || got.Errors[0].Message == nil {
		t.Errorf("errors = %+v", got.Errors)
	}
	if got.UnprocessedCaseRules == nil || len(got.UnprocessedCaseRules) != 0 {
		t.Errorf("unprocessedCaseRules = %#v, want an empty list", got.UnprocessedCaseRules)
	}

	none := cpBatchGetRule(t, s, d, "x", "y")
	if none.CaseRules == nil || len(none.CaseRules) != 0 || len(none.Errors) != 2 {
		t.Errorf("all unknown = %+v", none)
	}
	_, err := s.BatchGetCaseRule(ctx, &api.BatchGetCaseRuleRequest{DomainId: api.String("nd"), CaseRules: []api.CaseRuleIdentifier{{Id: &a}}})
	cpWant(t, err, api.CodeResourceNotFoundException)
}

func TestListCaseRulesPagination(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	var want []string
	for i := range 7 {
		want = append(want, cpRequiredRule(t, s, d, fmt.Sprintf("R%d", i)))
	}
	var got []string
	var tok *string
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		out, err := s.ListCaseRules(ctx, &api.ListCaseRulesRequest{DomainId: &d, MaxResults: api.Int32(3), NextToken: tok})
		cpOK(t, err)
		if len(out.CaseRules) > 3 {
			t.Fatalf("page of %d, want at most 3", len(out.CaseRules))
		}
		for _, r := range out.CaseRules {
			got = append(got, *r.CaseRuleId)
		}
		if tok = out.NextToken; tok == nil {
			break
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	first, err := s.ListCaseRules(ctx, &api.ListCaseRulesRequest{DomainId: &d, MaxResults: api.Int32(1)})
	cpOK(t, err)
	_, err = s.ListLayouts(ctx, &api.ListLayoutsRequest{DomainId: &d, NextToken: first.NextToken})
	cpWant(t, err, api.CodeValidationException)
	_, err = s.ListCaseRules(ctx, &api.ListCaseRulesRequest{DomainId: api.String("nd")})
	cpWant(t, err, api.CodeResourceNotFoundException)
}
