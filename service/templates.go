package service

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

func (s *Service) getTemplate(tx localcases.Tx, domainID, id string) (*localcases.Template, error) {
	var t localcases.Template
	if err := get(tx, localcases.Templates, domainID, id, rtTemplate, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// templateNameTaken mirrors layoutNameTaken: deleted templates free their
// name and their place in the quota.
func templateNameTaken(tx localcases.Tx, domainID, name, exceptID string) (taken bool, live int, err error) {
	err = tx.List(localcases.Templates, domainID, 0, func(r localcases.Raw) (bool, error) {
		var t localcases.Template
		if err := decode(r, &t); err != nil {
			return false, err
		}
		if t.Deleted {
			return true, nil
		}
		live++
		taken = taken || (t.Name == name && t.ID != exceptID)
		return true, nil
	})
	return taken, live, err
}

// requiredFieldIDs checks a requiredFields list: the model forbids the same
// field twice in a template, and every field must be live (§5.2).
func requiredFieldIDs(fields map[string]*localcases.Field, in []api.RequiredField) ([]string, error) {
	ids := make([]string, 0, len(in))
	seen := map[string]bool{}
	var dups []string
	for _, rf := range in {
		id := str(rf.FieldId)
		if seen[id] && !slices.Contains(dups, id) {
			dups = append(dups, id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if len(dups) > 0 {
		return nil, api.Validation("requiredFields lists a field more than once: %s.", listIDs(dups))
	}
	if err := checkConfigFieldRefs(fields, "requiredFields", ids); err != nil {
		return nil, err
	}
	return ids, nil
}

// defaultLayoutID checks that a template's default layout is a live layout
// (§5.2). An absent defaultLayout means the template has none.
func (s *Service) defaultLayoutID(tx localcases.Tx, domainID string, in *api.LayoutConfiguration) (string, error) {
	if in == nil || in.DefaultLayout == nil {
		return "", nil
	}
	id := *in.DefaultLayout
	var l localcases.Layout
	err := tx.Get(localcases.Layouts, domainID, id, &l)
	if isNotFound(err) {
		return "", api.Validation("layoutConfiguration.defaultLayout refers to layout %s, which does not exist.", id)
	}
	if err != nil {
		return "", err
	}
	if l.Deleted {
		return "", api.Validation("layoutConfiguration.defaultLayout refers to layout %s, which is deleted.", id)
	}
	return id, nil
}

// templateRules checks that each rule is a live case rule and that the
// field it acts on, when named, is a live field (§5.2, §6.4).
func templateRules(tx localcases.Tx, domainID string, fields map[string]*localcases.Field, in []api.TemplateRule) ([]localcases.TemplateRule, error) {
	out := make([]localcases.TemplateRule, 0, len(in))
	var fieldIDs []string
	for _, r := range in {
		tr := localcases.TemplateRule{CaseRuleID: str(r.CaseRuleId), FieldID: str(r.FieldId)}
		var cr localcases.CaseRule
		err := tx.Get(localcases.CaseRules, domainID, tr.CaseRuleID, &cr)
		if isNotFound(err) {
			return nil, api.Validation("rules refers to case rule %s, which does not exist.", tr.CaseRuleID)
		}
		if err != nil {
			return nil, err
		}
		if cr.Deleted {
			return nil, api.Validation("rules refers to case rule %s, which is deleted.", tr.CaseRuleID)
		}
		if r.FieldId != nil {
			fieldIDs = append(fieldIDs, tr.FieldID)
		}
		out = append(out, tr)
	}
	if err := checkConfigFieldRefs(fields, "rules", fieldIDs); err != nil {
		return nil, err
	}
	return out, nil
}

// applyTagPropagation stores the (at most one) configuration; the model's
// enum already limits resourceType to Cases (§2.3). An empty list removes it.
func applyTagPropagation(t *localcases.Template, in []api.TagPropagationConfiguration) {
	t.TagPropagation, t.HasPropagation = nil, false
	if len(in) == 0 {
		return
	}
	t.HasPropagation = true
	t.TagPropagation = maps.Clone(in[0].TagMap)
}

func tagPropagationOut(t *localcases.Template) []api.TagPropagationConfiguration {
	if !t.HasPropagation {
		return nil
	}
	m := maps.Clone(t.TagPropagation)
	if m == nil {
		m = map[string]string{}
	}
	return []api.TagPropagationConfiguration{{ResourceType: ptr(api.TagPropagationResourceTypeCases), TagMap: m}}
}

// CreateTemplate checks every reference the template makes (§5.2). A
// template without a status is Active.
func (s *Service) CreateTemplate(ctx context.Context, in *api.CreateTemplateRequest) (*api.CreateTemplateResponse, error) {
	domainID := str(in.DomainId)
	t := localcases.Template{
		ID: localcases.NewID(), Name: str(in.Name), Description: str(in.Description),
		Status: string(api.TemplateStatusActive),
	}
	if in.Status != nil {
		t.Status = string(*in.Status)
	}
	applyTagPropagation(&t, in.TagPropagationConfigurations)
	err := s.update(ctx, func(tx localcases.Tx) (err error) {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		fields, err := configFieldIndex(tx, domainID)
		if err != nil {
			return err
		}
		if t.RequiredFields, err = requiredFieldIDs(fields, in.RequiredFields); err != nil {
			return err
		}
		if t.DefaultLayout, err = s.defaultLayoutID(tx, domainID, in.LayoutConfiguration); err != nil {
			return err
		}
		if t.Rules, err = templateRules(tx, domainID, fields, in.Rules); err != nil {
			return err
		}
		taken, live, err := templateNameTaken(tx, domainID, t.Name, "")
		if err != nil {
			return err
		}
		if taken {
			return api.Conflict("A template named %q already exists in the domain.", t.Name)
		}
		if live >= s.quotas.TemplatesPerDomain {
			return api.QuotaExceeded("The domain already has %d templates, the maximum allowed.", live)
		}
		t.Created = s.now()
		t.Modified = t.Created
		t.ARN = s.arn("domain/%s/template/%s", domainID, t.ID)
		return tx.Put(localcases.Templates, domainID, t.ID, &t)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateTemplateResponse{TemplateId: &t.ID, TemplateArn: &t.ARN}, nil
}

// GetTemplate answers for deleted templates too, and leaves deleted fields
// out of requiredFields (§5.2, §4.4).
func (s *Service) GetTemplate(ctx context.Context, in *api.GetTemplateRequest) (*api.GetTemplateResponse, error) {
	domainID, id := str(in.DomainId), str(in.TemplateId)
	var t *localcases.Template
	var fields map[string]*localcases.Field
	err := s.view(ctx, func(tx localcases.Tx) (err error) {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		if t, err = s.getTemplate(tx, domainID, id); err != nil {
			return err
		}
		fields, err = configFieldIndex(tx, domainID)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.GetTemplateResponse{
		TemplateId: ptr(t.ID), TemplateArn: ptr(t.ARN), Name: ptr(t.Name),
		Status: ptr(api.TemplateStatus(t.Status)), Deleted: t.Deleted,
		CreatedTime: api.NewTime(t.Created), LastModifiedTime: api.NewTime(t.Modified),
		TagPropagationConfigurations: tagPropagationOut(t), Tags: tagsOut(t.Tags),
		RequiredFields: make([]api.RequiredField, 0, len(t.RequiredFields)),
		Rules:          make([]api.TemplateRule, 0, len(t.Rules)),
	}
	if t.Description != "" {
		out.Description = ptr(t.Description)
	}
	if t.DefaultLayout != "" {
		out.LayoutConfiguration = &api.LayoutConfiguration{DefaultLayout: ptr(t.DefaultLayout)}
	}
	for _, id := range t.RequiredFields {
		if f := fields[id]; f != nil && f.Deleted {
			continue
		}
		out.RequiredFields = append(out.RequiredFields, api.RequiredField{FieldId: ptr(id)})
	}
	for _, r := range t.Rules {
		tr := api.TemplateRule{CaseRuleId: ptr(r.CaseRuleID)}
		if r.FieldID != "" {
			tr.FieldId = ptr(r.FieldID)
		}
		out.Rules = append(out.Rules, tr)
	}
	return out, nil
}

// UpdateTemplate is a partial update: members left out keep their values,
// and at least one must be given (§5.2). A deleted template cannot change
// (§12.4).
func (s *Service) UpdateTemplate(ctx context.Context, in *api.UpdateTemplateRequest) (*api.UpdateTemplateResponse, error) {
	domainID, id := str(in.DomainId), str(in.TemplateId)
	empty := in.Name == nil && in.Description == nil && in.LayoutConfiguration == nil && in.RequiredFields == nil &&
		in.Status == nil && in.Rules == nil && in.TagPropagationConfigurations == nil
	err := s.update(ctx, func(tx localcases.Tx) (err error) {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		t, err := s.getTemplate(tx, domainID, id)
		if err != nil {
			return err
		}
		if t.Deleted {
			return api.Validation("Template %s is deleted and cannot be updated.", id)
		}
		if empty {
			return api.Validation("UpdateTemplate needs at least one of name, description, layoutConfiguration, requiredFields, status, rules, tagPropagationConfigurations.")
		}
		fields, err := configFieldIndex(tx, domainID)
		if err != nil {
			return err
		}
		if in.RequiredFields != nil {
			if t.RequiredFields, err = requiredFieldIDs(fields, in.RequiredFields); err != nil {
				return err
			}
		}
		if in.LayoutConfiguration != nil {
			if t.DefaultLayout, err = s.defaultLayoutID(tx, domainID, in.LayoutConfiguration); err != nil {
				return err
			}
		}
		if in.Rules != nil {
			if t.Rules, err = templateRules(tx, domainID, fields, in.Rules); err != nil {
				return err
			}
		}
		if in.TagPropagationConfigurations != nil {
			applyTagPropagation(t, in.TagPropagationConfigurations)
		}
		if in.Description != nil {
			t.Description = *in.Description
		}
		if in.Status != nil {
			t.Status = string(*in.Status)
		}
		if in.Name != nil && *in.Name != t.Name {
			taken, _, err := templateNameTaken(tx, domainID, *in.Name, id)
			if err != nil {
				return err
			}
			if taken {
				return api.Conflict("A template named %q already exists in the domain.", *in.Name)
			}
			t.Name = *in.Name
		}
		t.Modified = s.now()
		return tx.Put(localcases.Templates, domainID, id, t)
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateTemplateResponse{}, nil
}

// ListTemplates leaves deleted templates out; without a status filter it
// lists both statuses (§5.2).
func (s *Service) ListTemplates(ctx context.Context, in *api.ListTemplatesRequest) (*api.ListTemplatesResponse, error) {
	domainID := str(in.DomainId)
	want := map[string]bool{}
	for _, st := range in.Status {
		want[string(st)] = true
	}
	// The filter is part of the listing so that a token cannot be replayed
	// under another filter; sorting makes the order of repeated query values
	// irrelevant.
	filter := slices.Sorted(maps.Keys(want))
	tok, err := s.decodeToken(in.NextToken, listingKey("ListTemplates", domainID, strings.Join(filter, ",")))
	if err != nil {
		return nil, err
	}
	var templates []localcases.Template
	var next *string
	err = s.view(ctx, func(tx localcases.Tx) (err error) {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		templates, next, err = listPage(s, tx, localcases.Templates, domainID, tok, pageSize(in.MaxResults, 100),
			func(t *localcases.Template) bool { return !t.Deleted && (len(want) == 0 || want[t.Status]) })
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListTemplatesResponse{Templates: make([]api.TemplateSummary, 0, len(templates)), NextToken: next}
	for i := range templates {
		t := &templates[i]
		out.Templates = append(out.Templates, api.TemplateSummary{
			TemplateId: ptr(t.ID), TemplateArn: ptr(t.ARN), Name: ptr(t.Name),
			Status: ptr(api.TemplateStatus(t.Status)), TagPropagationConfigurations: tagPropagationOut(t),
		})
	}
	return out, nil
}

// DeleteTemplate marks the template deleted: it stays readable through
// GetTemplate, and cases it created keep it as their template (§5.2).
func (s *Service) DeleteTemplate(ctx context.Context, in *api.DeleteTemplateRequest) (*api.DeleteTemplateResponse, error) {
	domainID, id := str(in.DomainId), str(in.TemplateId)
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		t, err := s.getTemplate(tx, domainID, id)
		if err != nil {
			return err
		}
		if t.Deleted {
			return api.Validation("Template %s is already deleted.", id)
		}
		t.Deleted = true
		t.Modified = s.now()
		return tx.Put(localcases.Templates, domainID, id, t)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteTemplateResponse{}, nil
}
