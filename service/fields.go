package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// systemField describes a field every domain has (§3.1).
type systemField struct {
	id, name, typ, description string
	// serviceManaged fields are set by the service; callers may not write
	// them (§3.3).
	serviceManaged bool
}

var systemFields = []systemField{
	{"title", "Title", "Text", "The title of the case.", false},
	{"status", "Status", "SingleSelect", "The status of the case.", false},
	{"summary", "Summary", "Text", "A summary of the case.", false},
	{"customer_id", "Customer", "Text", "The customer profile ARN of the case.", false},
	{"reference_number", "Reference number", "Text", "A human-readable reference for the case.", false},
	{"case_reason", "Case Reason", "SingleSelect", "The reason for the case.", false},
	{"assigned_queue", "Assigned queue", "Text", "The ARN of the queue the case is assigned to.", false},
	{"assigned_user", "Assigned user", "Text", "The ARN of the user the case is assigned to.", false},
	{"case_id", "Case ID", "Text", "The unique identifier of the case.", true},
	{"created_by", "Created By", "User", "The user who created the case.", true},
	{"created_datetime", "Date/Time Opened", "DateTime", "When the case was created.", true},
	{"last_updated_datetime", "Date/Time Updated", "DateTime", "When the case was last updated.", true},
	{"last_updated_user", "Last Updated User", "User", "The user who last updated the case.", true},
	{"last_closed_datetime", "Date/Time Closed", "DateTime", "When the case was last closed.", true},
	{"last_reopened_datetime", "Date/Time Reopened", "DateTime", "When the case was last reopened.", true},
	{"next_sla_breach_datetime", "Next SLA Breach", "DateTime", "The earliest target time of the case's open SLAs.", true},
}

func systemFieldByID(id string) (systemField, bool) {
	for _, f := range systemFields {
		if f.id == id {
			return f, true
		}
	}
	return systemField{}, false
}

// statusOptions cannot be renamed or deactivated (§3.2).
var statusOptions = []localcases.FieldOption{
	{Name: "Open", Value: "open", Active: true},
	{Name: "Closed", Value: "closed", Active: true},
}

func (s *Service) createSystemFields(tx localcases.Tx, d *localcases.Domain) error {
	for _, sf := range systemFields {
		f := localcases.Field{
			ID: sf.id, Name: sf.name, Type: sf.typ, Description: sf.description,
			Namespace: localcases.NamespaceSystem, Created: d.Created, Modified: d.Created,
		}
		f.ARN = s.arn("domain/%s/field/%s", d.ID, f.ID)
		if err := tx.Put(localcases.Fields, d.ID, f.ID, &f); err != nil {
			return err
		}
	}
	for _, o := range statusOptions {
		if err := tx.Put(localcases.FieldOptions, scope2(d.ID, "status"), o.Value, &o); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) getField(tx localcases.Tx, domainID, id string) (*localcases.Field, error) {
	var f localcases.Field
	if err := get(tx, localcases.Fields, domainID, id, rtField, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// liveFields returns the domain's fields that are not deleted, by ID.
func (s *Service) liveFields(tx localcases.Tx, domainID string) (map[string]*localcases.Field, error) {
	all, err := scanAll[localcases.Field](tx, localcases.Fields, domainID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*localcases.Field, len(all))
	for i := range all {
		if !all[i].Deleted {
			out[all[i].ID] = &all[i]
		}
	}
	return out, nil
}

func fieldAttributes(in *api.FieldAttributes, typ string) (*bool, error) {
	if in == nil || in.Text == nil {
		return nil, nil
	}
	if typ != string(api.FieldTypeText) {
		return nil, api.Validation("attributes.text applies only to fields of type Text, not %s.", typ)
	}
	if in.Text.IsMultiline == nil {
		return ptr(false), nil
	}
	return ptr(*in.Text.IsMultiline), nil
}

func attributesOut(f *localcases.Field) *api.FieldAttributes {
	if f.Multiline == nil {
		return nil
	}
	return &api.FieldAttributes{Text: &api.TextAttributes{IsMultiline: ptr(*f.Multiline)}}
}

// CreateField creates a custom field. Names are unique among the domain's
// live fields; the domain may hold Quotas.FieldsPerDomain custom fields.
func (s *Service) CreateField(ctx context.Context, in *api.CreateFieldRequest) (*api.CreateFieldResponse, error) {
	domainID := str(in.DomainId)
	f := localcases.Field{
		ID: localcases.NewID(), Name: str(in.Name), Description: str(in.Description),
		Type: string(*in.Type), Namespace: localcases.NamespaceCustom,
	}
	var err error
	if f.Multiline, err = fieldAttributes(in.Attributes, f.Type); err != nil {
		return nil, err
	}
	err = s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		live, err := s.liveFields(tx, domainID)
		if err != nil {
			return err
		}
		custom := 0
		for _, o := range live {
			if o.Name == f.Name {
				return api.Conflict("A field named %q already exists in the domain.", f.Name)
			}
			if o.Namespace == localcases.NamespaceCustom {
				custom++
			}
		}
		if custom >= s.quotas.FieldsPerDomain {
			return api.QuotaExceeded("The domain already has %d custom fields, the maximum allowed.", custom)
		}
		f.Created = s.now()
		f.Modified = f.Created
		f.ARN = s.arn("domain/%s/field/%s", domainID, f.ID)
		return tx.Put(localcases.Fields, domainID, f.ID, &f)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateFieldResponse{FieldId: &f.ID, FieldArn: &f.ARN}, nil
}

// UpdateField changes a field's name, description or attributes. System
// fields keep their name and description; deleted fields cannot change (§4.4).
func (s *Service) UpdateField(ctx context.Context, in *api.UpdateFieldRequest) (*api.UpdateFieldResponse, error) {
	domainID, id := str(in.DomainId), str(in.FieldId)
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		f, err := s.getField(tx, domainID, id)
		if err != nil {
			return err
		}
		if f.Deleted {
			return api.Validation("Field %s is deleted and cannot be updated.", id)
		}
		if f.Namespace == localcases.NamespaceSystem && (in.Name != nil || in.Description != nil) {
			return api.Validation("System field %s cannot be renamed or have its description changed.", id)
		}
		if in.Name != nil && *in.Name != f.Name {
			live, err := s.liveFields(tx, domainID)
			if err != nil {
				return err
			}
			for _, o := range live {
				if o.Name == *in.Name && o.ID != id {
					return api.Conflict("A field named %q already exists in the domain.", *in.Name)
				}
			}
			f.Name = *in.Name
		}
		if in.Description != nil {
			f.Description = *in.Description
		}
		if in.Attributes != nil {
			m, err := fieldAttributes(in.Attributes, f.Type)
			if err != nil {
				return err
			}
			f.Multiline = m
		}
		f.Modified = s.now()
		return tx.Put(localcases.Fields, domainID, id, f)
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateFieldResponse{}, nil
}

// DeleteField marks a custom field deleted; it stays readable through
// BatchGetField and its stored case values remain (§4.4).
func (s *Service) DeleteField(ctx context.Context, in *api.DeleteFieldRequest) (*api.DeleteFieldResponse, error) {
	domainID, id := str(in.DomainId), str(in.FieldId)
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		f, err := s.getField(tx, domainID, id)
		if err != nil {
			return err
		}
		if f.Namespace == localcases.NamespaceSystem {
			return api.Validation("System field %s cannot be deleted.", id)
		}
		if f.Deleted {
			return api.Validation("Field %s is already deleted.", id)
		}
		f.Deleted = true
		f.Modified = s.now()
		return tx.Put(localcases.Fields, domainID, id, f)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteFieldResponse{}, nil
}

func (s *Service) ListFields(ctx context.Context, in *api.ListFieldsRequest) (*api.ListFieldsResponse, error) {
	domainID := str(in.DomainId)
	tok, err := s.decodeToken(in.NextToken, listingKey("ListFields", domainID))
	if err != nil {
		return nil, err
	}
	var fields []localcases.Field
	var next *string
	err = s.view(ctx, func(tx localcases.Tx) (err error) {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		fields, next, err = listPage(s, tx, localcases.Fields, domainID, tok, pageSize(in.MaxResults, 100),
			func(f *localcases.Field) bool { return !f.Deleted })
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListFieldsResponse{Fields: make([]api.FieldSummary, 0, len(fields)), NextToken: next}
	for i := range fields {
		f := &fields[i]
		out.Fields = append(out.Fields, api.FieldSummary{
			FieldId: ptr(f.ID), FieldArn: ptr(f.ARN), Name: ptr(f.Name),
			Type: ptr(api.FieldType(f.Type)), Namespace: ptr(api.FieldNamespace(f.Namespace)),
			Attributes: attributesOut(f),
		})
	}
	return out, nil
}

func fieldOut(f *localcases.Field) api.GetFieldResponse {
	out := api.GetFieldResponse{
		FieldId: ptr(f.ID), FieldArn: ptr(f.ARN), Name: ptr(f.Name),
		Type: ptr(api.FieldType(f.Type)), Namespace: ptr(api.FieldNamespace(f.Namespace)),
		Attributes: attributesOut(f), Deleted: f.Deleted,
		CreatedTime: api.NewTime(f.Created), LastModifiedTime: api.NewTime(f.Modified),
		Tags: tagsOut(f.Tags),
	}
	if f.Description != "" {
		out.Description = ptr(f.Description)
	}
	return out
}

// BatchGetField returns the fields asked for, deleted ones included; unknown
// IDs are reported in errors rather than failing the call (§4.2).
func (s *Service) BatchGetField(ctx context.Context, in *api.BatchGetFieldRequest) (*api.BatchGetFieldResponse, error) {
	domainID := str(in.DomainId)
	out := &api.BatchGetFieldResponse{Fields: []api.GetFieldResponse{}, Errors: []api.FieldError{}}
	err := s.view(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		for _, fi := range in.Fields {
			id := str(fi.Id)
			f, err := s.getField(tx, domainID, id)
			if isNotFoundError(err) {
				out.Errors = append(out.Errors, api.FieldError{Id: ptr(id), ErrorCode: ptr("NotFound"), Message: ptr(fmt.Sprintf("Field %s not found.", id))})
				continue
			}
			if err != nil {
				return err
			}
			out.Fields = append(out.Fields, fieldOut(f))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func isNotFoundError(err error) bool {
	e, ok := err.(*api.Error)
	return ok && e.Code == api.CodeResourceNotFoundException
}

// singleSelectField returns a live SingleSelect field, or the
// ValidationException the option operations give for anything else.
func (s *Service) singleSelectField(tx localcases.Tx, domainID, id string) (*localcases.Field, error) {
	if err := s.domainExists(tx, domainID); err != nil {
		return nil, err
	}
	f, err := s.getField(tx, domainID, id)
	if err != nil {
		return nil, err
	}
	if f.Deleted {
		return nil, api.Validation("Field %s is deleted.", id)
	}
	if f.Type != string(api.FieldTypeSingleSelect) {
		return nil, api.Validation("Field %s is of type %s; options belong to SingleSelect fields.", id, f.Type)
	}
	return f, nil
}

// BatchPutFieldOptions creates or updates options by value. Options are
// never removed, only deactivated; the status field's open and closed
// options cannot change. Failures are reported per option (§4.3).
func (s *Service) BatchPutFieldOptions(ctx context.Context, in *api.BatchPutFieldOptionsRequest) (*api.BatchPutFieldOptionsResponse, error) {
	domainID, id := str(in.DomainId), str(in.FieldId)
	out := &api.BatchPutFieldOptionsResponse{Errors: []api.FieldOptionError{}}
	err := s.update(ctx, func(tx localcases.Tx) error {
		out.Errors = out.Errors[:0]
		if _, err := s.singleSelectField(tx, domainID, id); err != nil {
			return err
		}
		sc := scope2(domainID, id)
		n, err := tx.Count(localcases.FieldOptions, sc)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, o := range in.Options {
			opt := localcases.FieldOption{Name: str(o.Name), Value: str(o.Value), Active: o.Active != nil && *o.Active}
			if seen[opt.Value] {
				out.Errors = append(out.Errors, optionError(opt.Value, "DuplicateValue", "The option value appears more than once in the request."))
				continue
			}
			seen[opt.Value] = true
			var prev localcases.FieldOption
			err := tx.Get(localcases.FieldOptions, sc, opt.Value, &prev)
			exists := err == nil
			if err != nil && !isNotFound(err) {
				return err
			}
			if id == "status" && isStatusOption(opt.Value) && (opt.Name != prev.Name || !opt.Active) {
				out.Errors = append(out.Errors, optionError(opt.Value, "ValidationException", "The open and closed options of the status field cannot be renamed or deactivated."))
				continue
			}
			if !exists {
				if n >= s.quotas.OptionsPerField {
					return api.QuotaExceeded("Field %s already has %d options, the maximum allowed.", id, n)
				}
				n++
			}
			if err := tx.Put(localcases.FieldOptions, sc, opt.Value, &opt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func isStatusOption(v string) bool {
	for _, o := range statusOptions {
		if o.Value == v {
			return true
		}
	}
	return false
}

func optionError(value, code, msg string) api.FieldOptionError {
	return api.FieldOptionError{Value: ptr(value), ErrorCode: ptr(code), Message: ptr(msg)}
}

// ListFieldOptions lists active and inactive options in the order they were
// first added; `values` narrows the list to the given values.
func (s *Service) ListFieldOptions(ctx context.Context, in *api.ListFieldOptionsRequest) (*api.ListFieldOptionsResponse, error) {
	domainID, id := str(in.DomainId), str(in.FieldId)
	tok, err := s.decodeToken(in.NextToken, listingKey("ListFieldOptions", domainID, id, strings.Join(in.Values, "\x00")))
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, v := range in.Values {
		want[v] = true
	}
	var opts []localcases.FieldOption
	var next *string
	err = s.view(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		if _, err := s.getField(tx, domainID, id); err != nil {
			return err
		}
		opts, next, err = listPage(s, tx, localcases.FieldOptions, scope2(domainID, id), tok, pageSize(in.MaxResults, 100),
			func(o *localcases.FieldOption) bool { return len(want) == 0 || want[o.Value] })
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListFieldOptionsResponse{Options: make([]api.FieldOption, 0, len(opts)), NextToken: next}
	for _, o := range opts {
		out.Options = append(out.Options, api.FieldOption{Name: ptr(o.Name), Value: ptr(o.Value), Active: ptr(o.Active)})
	}
	return out, nil
}
