package service_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/service"
)

func cpRequiredRule(t *testing.T, s *service.Service, domainID, name string) string {
	t.Helper()
	out, err := s.CreateCaseRule(context.Background(), &api.CreateCaseRuleRequest{
		DomainId: &domainID, Name: &name,
		Rule: &api.CaseRuleDetails{Required: &api.RequiredCaseRule{DefaultValue: api.Bool(true), Conditions: []api.BooleanCondition{}}},
	})
	if err != nil {
		t.Fatalf("CreateCaseRule: %v", err)
	}
	return *out.CaseRuleId
}

func cpLayoutID(t *testing.T, s *service.Service, domainID, name string) string {
	t.Helper()
	out, err := s.CreateLayout(context.Background(), &api.CreateLayoutRequest{DomainId: &domainID, Name: &name, Content: cpLayout(nil, nil)})
	if err != nil {
		t.Fatalf("CreateLayout: %v", err)
	}
	return *out.LayoutId
}

func cpRequired(ids ...string) []api.RequiredField {
	out := make([]api.RequiredField, 0, len(ids))
	for _, id := range ids {
		out = append(out, api.RequiredField{FieldId: api.String(id)})
	}
	return out
}

func requiredIDs(in []api.RequiredField) []string {
	out := []string{}
	for _, r := range in {
		out = append(out, *r.FieldId)
	}
	return out
}

func TestTemplateCreateAndGet(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	f := cpField(t, s, d, "Priority", api.FieldTypeText)
	l := cpLayoutID(t, s, d, "L")
	r := cpRequiredRule(t, s, d, "R")

	in := &api.CreateTemplateRequest{
		DomainId: &d, Name: api.String("T"), Description: api.String("desc"),
		LayoutConfiguration: &api.LayoutConfiguration{DefaultLayout: &l},
		RequiredFields:      cpRequired("title", f),
		Rules:               []api.TemplateRule{{CaseRuleId: &r, FieldId: &f}, {CaseRuleId: &r}},
		TagPropagationConfigurations: []api.TagPropagationConfiguration{{
			ResourceType: new(api.TagPropagationResourceTypeCases), TagMap: map[string]string{"team": "blue"},
		}},
	}
	cpValid(t, in)
	out, err := s.CreateTemplate(ctx, in)
	cpOK(t, err)
	if want := fmt.Sprintf("arn:aws:cases:us-east-1:000000000000:domain/%s/template/%s", d, *out.TemplateId); *out.TemplateArn != want {
		t.Errorf("templateArn = %s, want %s", *out.TemplateArn, want)
	}

	got, err := s.GetTemplate(ctx, &api.GetTemplateRequest{DomainId: &d, TemplateId: out.TemplateId})
	cpOK(t, err)
	if *got.Name != "T" || *got.Description != "desc" || *got.Status != api.TemplateStatusActive || got.Deleted {
		t.Errorf("GetTemplate = %+v", got)
	}
	if got.LayoutConfiguration == nil || *got.LayoutConfiguration.DefaultLayout != l {
		t.Errorf("layoutConfiguration = %+v", got.LayoutConfiguration)
	}
	if ids := requiredIDs(got.RequiredFields); !reflect.DeepEqual(ids, []string{"title", f}) {
		t.Errorf("requiredFields = %v", ids)
	}
	if len(got.Rules) != 2 || *got.Rules[0].CaseRuleId != r || *got.Rules[0].FieldId != f || got.Rules[1].FieldId != nil {
		t.Errorf("rules = %+v", got.Rules)
	}
	tp := got.TagPropagationConfigurations
	if len(tp) != 1 || *tp[0].ResourceType != api.TagPropagationResourceTypeCases || !reflect.DeepEqual(tp[0].TagMap, map[string]string{"team": "blue"}) {
		t.Errorf("tagPropagationConfigurations = %+v", tp)
	}
	if got.Tags == nil || got.CreatedTime == nil || got.LastModifiedTime == nil {
		t.Errorf("tags/times missing: %+v", got)
	}

	// Status is kept when given.
	in2 := &api.CreateTemplateRequest{DomainId: &d, Name: api.String("T2"), Status: new(api.TemplateStatusInactive)}
	out2, err := s.CreateTemplate(ctx, in2)
	cpOK(t, err)
	got2, err := s.GetTemplate(ctx, &api.GetTemplateRequest{DomainId: &d, TemplateId: out2.TemplateId})
	cpOK(t, err)
	if *got2.Status != api.TemplateStatusInactive || got2.TagPropagationConfigurations != nil || got2.LayoutConfiguration != nil {
		t.Errorf("GetTemplate T2 = %+v", got2)
	}
}

func TestTemplateCreateErrors(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{TemplatesPerDomain: 2})
	d := cpDomain(t, s)
	live := cpField(t, s, d, "Live", api.FieldTypeText)
	gone := cpField(t, s, d, "Gone", api.FieldTypeText)
	cpDeleteField(t, s, d, gone)
	layout := cpLayoutID(t, s, d, "L")
	deadLayout := cpLayoutID(t, s, d, "Dead")
	_, err := s.DeleteLayout(ctx, &api.DeleteLayoutRequest{DomainId: &d, LayoutId: &deadLayout})
	cpOK(t, err)
	rule := cpRequiredRule(t, s, d, "R")
	deadRule := cpRequiredRule(t, s, d, "Dead")
	_, err = s.DeleteCaseRule(ctx, &api.DeleteCaseRuleRequest{DomainId: &d, CaseRuleId: &deadRule})
	cpOK(t, err)
	_, err = s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &d, Name: api.String("Taken")})
	cpOK(t, err)

	tests := []struct {
		name string
		in   api.CreateTemplateRequest
		want api.ErrorCode
	}{
		{"unknown domain", api.CreateTemplateRequest{DomainId: api.String("nd")}, api.CodeResourceNotFoundException},
		{"unknown required field", api.CreateTemplateRequest{RequiredFields: cpRequired("nope")}, api.CodeValidationException},
		{"deleted required field", api.CreateTemplateRequest{RequiredFields: cpRequired(gone)}, api.CodeValidationException},
		{"duplicate required field", api.CreateTemplateRequest{RequiredFields: cpRequired(live, "title", live)}, api.CodeValidationException},
		{"unknown layout", api.CreateTemplateRequest{LayoutConfiguration: &api.LayoutConfiguration{DefaultLayout: api.String("nl")}}, api.CodeValidationException},
		{"deleted layout", api.CreateTemplateRequest{LayoutConfiguration: &api.LayoutConfiguration{DefaultLayout: &deadLayout}}, api.CodeValidationException},
		{"unknown case rule", api.CreateTemplateRequest{Rules: []api.TemplateRule{{CaseRuleId: api.String("nr")}}}, api.CodeValidationException},
		{"deleted case rule", api.CreateTemplateRequest{Rules: []api.TemplateRule{{CaseRuleId: &deadRule}}}, api.CodeValidationException},
		{"rule on unknown field", api.CreateTemplateRequest{Rules: []api.TemplateRule{{CaseRuleId: &rule, FieldId: api.String("nope")}}}, api.CodeValidationException},
		{"rule on deleted field", api.CreateTemplateRequest{Rules: []api.TemplateRule{{CaseRuleId: &rule, FieldId: &gone}}}, api.CodeValidationException},
		{"duplicate name", api.CreateTemplateRequest{Name: api.String("Taken")}, api.CodeConflictException},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.DomainId == nil {
				in.DomainId = &d
			}
			if in.Name == nil {
				in.Name = api.String("New")
			}
			cpValid(t, &in)
			_, err := s.CreateTemplate(ctx, &in)
			cpWant(t, err, tc.want)
		})
	}

	_, err = s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &d, Name: api.String("Second"),
		LayoutConfiguration: &api.LayoutConfiguration{DefaultLayout: &layout}, RequiredFields: cpRequired(live),
		Rules: []api.TemplateRule{{CaseRuleId: &rule, FieldId: &live}}})
	cpOK(t, err)
	_, err = s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &d, Name: api.String("Third")})
	cpWant(t, err, api.CodeServiceQuotaExceededException)
}

func TestTemplateUpdate(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	f := cpField(t, s, d, "F", api.FieldTypeText)
	l := cpLayoutID(t, s, d, "L")
	r := cpRequiredRule(t, s, d, "R")
	out, err := s.CreateTemplate(ctx, &api.CreateTemplateRequest{
		DomainId: &d, Name: api.String("T"), Description: api.String("d1"),
		LayoutConfiguration: &api.LayoutConfiguration{DefaultLayout: &l}, RequiredFields: cpRequired(f),
		Rules:                        []api.TemplateRule{{CaseRuleId: &r}},
		TagPropagationConfigurations: []api.TagPropagationConfiguration{{ResourceType: new(api.TagPropagationResourceTypeCases), TagMap: map[string]string{"k": "v"}}},
	})
	cpOK(t, err)
	id := *out.TemplateId
	_, err = s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &d, Name: api.String("Other")})
	cpOK(t, err)
	get := func() *api.GetTemplateResponse {
		got, err := s.GetTemplate(ctx, &api.GetTemplateRequest{DomainId: &d, TemplateId: &id})
		cpOK(t, err)
		return got
	}

	// One member at a time; the rest keep their values.
	_, err = s.UpdateTemplate(ctx, &api.UpdateTemplateRequest{DomainId: &d, TemplateId: &id, Status: new(api.TemplateStatusInactive)})
	cpOK(t, err)
	got := get()
	if *got.Status != api.TemplateStatusInactive || *got.Name != "T" || *got.Description != "d1" ||
		*got.LayoutConfiguration.DefaultLayout != l || len(got.RequiredFields) != 1 || len(got.Rules) != 1 || len(got.TagPropagationConfigurations) != 1 {
		t.Errorf("after status update: %+v", got)
	}
	_, err = s.UpdateTemplate(ctx, &api.UpdateTemplateRequest{DomainId: &d, TemplateId: &id, Name: api.String("T2"),
		RequiredFields: []api.RequiredField{}, TagPropagationConfigurations: []api.TagPropagationConfiguration{}})
	cpOK(t, err)
	got = get()
	if *got.Name != "T2" || len(got.RequiredFields) != 0 || got.TagPropagationConfigurations != nil || len(got.Rules) != 1 {
		t.Errorf("after clearing lists: %+v", got)
	}
	_, err = s.UpdateTemplate(ctx, &api.UpdateTemplateRequest{DomainId: &d, TemplateId: &id, Name: api.String("T2")})
	cpOK(t, err)

	tests := []struct {
		name string
		in   api.UpdateTemplateRequest
		want api.ErrorCode
	}{
		{"no members", api.UpdateTemplateRequest{}, api.CodeValidationException},
		{"no members, unknown domain", api.UpdateTemplateRequest{DomainId: api.String("nd")}, api.CodeResourceNotFoundException},
		{"no members, unknown template", api.UpdateTemplateRequest{TemplateId: api.String("nt")}, api.CodeResourceNotFoundException},
		{"unknown domain", api.UpdateTemplateRequest{DomainId: api.String("nd"), Name: api.String("x")}, api.CodeResourceNotFoundException},
		{"unknown template", api.UpdateTemplateRequest{TemplateId: api.String("nt"), Name: api.String("x")}, api.CodeResourceNotFoundException},
		{"name taken", api.UpdateTemplateRequest{Name: api.String("Other")}, api.CodeConflictException},
		{"unknown required field", api.UpdateTemplateRequest{RequiredFields: cpRequired("nope")}, api.CodeValidationException},
		{"duplicate required field", api.UpdateTemplateRequest{RequiredFields: cpRequired(f, f)}, api.CodeValidationException},
		{"unknown layout", api.UpdateTemplateRequest{LayoutConfiguration: &api.LayoutConfiguration{DefaultLayout: api.String("nl")}}, api.CodeValidationException},
		{"unknown rule", api.UpdateTemplateRequest{Rules: []api.TemplateRule{{CaseRuleId: api.String("nr")}}}, api.CodeValidationException},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.DomainId == nil {
				in.DomainId = &d
			}
			if in.TemplateId == nil {
				in.TemplateId = &id
			}
			cpValid(t, &in)
			_, err := s.UpdateTemplate(ctx, &in)
			cpWant(t, err, tc.want)
		})
	}

	_, err = s.DeleteTemplate(ctx, &api.DeleteTemplateRequest{DomainId: &d, TemplateId: &id})
	cpOK(t, err)
	_, err = s.UpdateTemplate(ctx, &api.UpdateTemplateRequest{DomainId: &d, TemplateId: &id, Name: api.String("x")})
	cpWant(t, err, api.CodeValidationException)
}

func TestTemplateDeleteAndDeletedFields(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{TemplatesPerDomain: 1})
	d := cpDomain(t, s)
	keep := cpField(t, s, d, "Keep", api.FieldTypeText)
	drop := cpField(t, s, d, "Drop", api.FieldTypeText)
	out, err := s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &d, Name: api.String("T"), RequiredFields: cpRequired(drop, keep)})
	cpOK(t, err)
	id := *out.TemplateId
	cpDeleteField(t, s, d, drop)

	got, err := s.GetTemplate(ctx, &api.GetTemplateRequest{DomainId: &d, TemplateId: &id})
	cpOK(t, err)
	if ids := requiredIDs(got.RequiredFields); !reflect.DeepEqual(ids, []string{keep}) {
		t.Errorf("requiredFields = %v, want [%s]", ids, keep)
	}

	_, err = s.DeleteTemplate(ctx, &api.DeleteTemplateRequest{DomainId: &d, TemplateId: &id})
	cpOK(t, err)
	got, err = s.GetTemplate(ctx, &api.GetTemplateRequest{DomainId: &d, TemplateId: &id})
	cpOK(t, err)
	if !got.Deleted {
		t.Error("deleted template: deleted = false")
	}
	_, err = s.DeleteTemplate(ctx, &api.DeleteTemplateRequest{DomainId: &d, TemplateId: &id})
	cpWant(t, err, api.CodeValidationException)
	_, err = s.DeleteTemplate(ctx, &api.DeleteTemplateRequest{DomainId: &d, TemplateId: api.String("nt")})
	cpWant(t, err, api.CodeResourceNotFoundException)
	_, err = s.DeleteTemplate(ctx, &api.DeleteTemplateRequest{DomainId: api.String("nd"), TemplateId: &id})
	cpWant(t, err, api.CodeResourceNotFoundException)
	_, err = s.GetTemplate(ctx, &api.GetTemplateRequest{DomainId: &d, TemplateId: api.String("nt")})
	cpWant(t, err, api.CodeResourceNotFoundException)
	_, err = s.GetTemplate(ctx, &api.GetTemplateRequest{DomainId: api.String("nd"), TemplateId: &id})
	cpWant(t, err, api.CodeResourceNotFoundException)

	// The name and the quota place are free again.
	_, err = s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &d, Name: api.String("T")})
	cpOK(t, err)
}

func TestListTemplates(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)

	empty, err := s.ListTemplates(ctx, &api.ListTemplatesRequest{DomainId: &d})
	cpOK(t, err)
	if empty.Templates == nil || empty.NextToken != nil {
		t.Fatalf("empty ListTemplates = %#v", empty)
	}

	byStatus := map[api.TemplateStatus][]string{}
	var all []string
	for i, st := range []api.TemplateStatus{"Active", "Inactive", "Active", "Inactive", "Active"} {
		out, err := s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &d, Name: api.String(fmt.Sprintf("T%d", i)), Status: &st})
		cpOK(t, err)
		byStatus[st] = append(byStatus[st], *out.TemplateId)
		all = append(all, *out.TemplateId)
	}
	deleted, err := s.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: &d, Name: api.String("Gone")})
	cpOK(t, err)
	_, err = s.DeleteTemplate(ctx, &api.DeleteTemplateRequest{DomainId: &d, TemplateId: deleted.TemplateId})
	cpOK(t, err)

	listAll := func(status []api.TemplateStatus, page int32) []string {
		t.Helper()
		var got []string
		var tok *string
		for range 10 {
			in := &api.ListTemplatesRequest{DomainId: &d, Status: status, MaxResults: &page, NextToken: tok}
			cpValid(t, in)
			out, err := s.ListTemplates(ctx, in)
			cpOK(t, err)
			for _, tm := range out.Templates {
				got = append(got, *tm.TemplateId)
				if tm.TemplateArn == nil || tm.Name == nil || tm.Status == nil {
					t.Errorf("summary missing members: %+v", tm)
				}
				if len(status) == 1 && *tm.Status != status[0] {
					t.Errorf("status filter %v listed a %s template", status, *tm.Status)
				}
			}
			if out.NextToken == nil {
				return got
			}
			tok = out.NextToken
		}
		t.Fatal("pagination does not end")
		return nil
	}
	tests := []struct {
		name   string
		status []api.TemplateStatus
		want   []string
	}{
		{"no filter lists both", nil, all},
		{"both", []api.TemplateStatus{"Inactive", "Active"}, all},
		{"active", []api.TemplateStatus{"Active"}, byStatus["Active"]},
		{"inactive", []api.TemplateStatus{"Inactive"}, byStatus["Inactive"]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := listAll(tc.status, 2); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("listed %v, want %v", got, tc.want)
			}
		})
	}

	// A token is bound to its filter; the order of repeated values is not
	// part of the filter.
	first, err := s.ListTemplates(ctx, &api.ListTemplatesRequest{DomainId: &d, MaxResults: api.Int32(1), Status: []api.TemplateStatus{"Active"}})
	cpOK(t, err)
	_, err = s.ListTemplates(ctx, &api.ListTemplatesRequest{DomainId: &d, NextToken: first.NextToken})
	cpWant(t, err, api.CodeValidationException)
	_, err = s.ListTemplates(ctx, &api.ListTemplatesRequest{DomainId: &d, NextToken: first.NextToken, Status: []api.TemplateStatus{"Inactive"}})
	cpWant(t, err, api.CodeValidationException)
	_, err = s.ListLayouts(ctx, &api.ListLayoutsRequest{DomainId: &d, NextToken: first.NextToken})
	cpWant(t, err, api.CodeValidationException)
	both, err := s.ListTemplates(ctx, &api.ListTemplatesRequest{DomainId: &d, MaxResults: api.Int32(1), Status: []api.TemplateStatus{"Active", "Inactive"}})
	cpOK(t, err)
	_, err = s.ListTemplates(ctx, &api.ListTemplatesRequest{DomainId: &d, NextToken: both.NextToken, Status: []api.TemplateStatus{"Inactive", "Active"}})
	cpOK(t, err)
	_, err = s.ListTemplates(ctx, &api.ListTemplatesRequest{DomainId: api.String("nd")})
	cpWant(t, err, api.CodeResourceNotFoundException)
}
