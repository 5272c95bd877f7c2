package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// configFieldIndex returns every field of the domain by ID, deleted ones
// included: references must tell an unknown field from a deleted one, and
// reads must know which fields to leave out (§4.4).
func configFieldIndex(tx localcases.Tx, domainID string) (map[string]*localcases.Field, error) {
	all, err := scanAll[localcases.Field](tx, localcases.Fields, domainID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*localcases.Field, len(all))
	for i := range all {
		out[all[i].ID] = &all[i]
	}
	return out, nil
}

// maxListedIDs bounds the IDs one error message names, so a request with
// hundreds of bad references still gets a short answer.
const maxListedIDs = 10

func listIDs(ids []string) string {
	if len(ids) <= maxListedIDs {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:maxListedIDs], ", "), len(ids)-maxListedIDs)
}

// checkConfigFieldRefs rejects references to fields that do not exist or are
// deleted: configuration may only point at live fields (§5, §10, §12.4). The
// message names each offending ID once, unknown and deleted apart.
func checkConfigFieldRefs(fields map[string]*localcases.Field, member string, ids []string) error {
	var unknown, deleted []string
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		switch f := fields[id]; {
		case f == nil:
			unknown = append(unknown, id)
		case f.Deleted:
			deleted = append(deleted, id)
		}
	}
	var parts []string
	if len(unknown) > 0 {
		parts = append(parts, "fields not found: "+listIDs(unknown))
	}
	if len(deleted) > 0 {
		parts = append(parts, "fields deleted: "+listIDs(deleted))
	}
	if parts == nil {
		return nil
	}
	return api.Validation("%s refers to %s.", member, strings.Join(parts, "; "))
}

// layoutGroups returns the field groups of a layout, top panel first.
func layoutGroups(c *api.LayoutContent) []*api.FieldGroup {
	if c == nil || c.Basic == nil {
		return nil
	}
	var out []*api.FieldGroup
	for _, panel := range []*api.LayoutSections{c.Basic.TopPanel, c.Basic.MoreInfo} {
		if panel == nil {
			continue
		}
		for i := range panel.Sections {
			if g := panel.Sections[i].FieldGroup; g != nil {
				out = append(out, g)
			}
		}
	}
	return out
}

func layoutFieldIDs(c *api.LayoutContent) []string {
	var ids []string
	for _, g := range layoutGroups(c) {
		for _, f := range g.Fields {
			ids = append(ids, str(f.Id))
		}
	}
	return ids
}

// checkLayoutContent applies the semantic rules of §5.1 that the model
// cannot express.
func (s *Service) checkLayoutContent(tx localcases.Tx, domainID string, c *api.LayoutContent) error {
	ids := layoutFieldIDs(c)
	for _, id := range ids {
		if id == "title" || id == "status" {
			return api.Validation("Field %s cannot be placed in a layout: title and status are not configurable.", id)
		}
	}
	// The quota counts placements, both panels together; it is not
	// adjustable (§13.1).
	if len(ids) > s.quotas.FieldsPerLayout {
		return api.QuotaExceeded("The layout places %d fields; a layout may hold at most %d.", len(ids), s.quotas.FieldsPerLayout)
	}
	fields, err := configFieldIndex(tx, domainID)
	if err != nil {
		return err
	}
	return checkConfigFieldRefs(fields, "content", ids)
}

func (s *Service) getLayout(tx localcases.Tx, domainID, id string) (*localcases.Layout, error) {
	var l localcases.Layout
	if err := get(tx, localcases.Layouts, domainID, id, rtLayout, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// layoutNameTaken reports whether a live layout other than exceptID uses
// name, and how many live layouts the domain holds: deleted layouts free
// their name and their place in the quota.
func layoutNameTaken(tx localcases.Tx, domainID, name, exceptID string) (taken bool, live int, err error) {
	err = tx.List(localcases.Layouts, domainID, 0, func(r localcases.Raw) (bool, error) {
		var l localcases.Layout
		if err := decode(r, &l); err != nil {
			return false, err
		}
		if l.Deleted {
			return true, nil
		}
		live++
		taken = taken || (l.Name == name && l.ID != exceptID)
		return true, nil
	})
	return taken, live, err
}

// CreateLayout stores the content as sent, once its field references are
// known to be live and placeable (§5.1).
func (s *Service) CreateLayout(ctx context.Context, in *api.CreateLayoutRequest) (*api.CreateLayoutResponse, error) {
	domainID := str(in.DomainId)
	l := localcases.Layout{ID: localcases.NewID(), Name: str(in.Name), Content: mustJSON(in.Content)}
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		if err := s.checkLayoutContent(tx, domainID, in.Content); err != nil {
			return err
		}
		taken, live, err := layoutNameTaken(tx, domainID, l.Name, "")
		if err != nil {
			return err
		}
		if taken {
			return api.Conflict("A layout named %q already exists in the domain.", l.Name)
		}
		if live >= s.quotas.LayoutsPerDomain {
			return api.QuotaExceeded("The domain already has %d layouts, the maximum allowed.", live)
		}
		l.Created = s.now()
		l.Modified = l.Created
		l.ARN = s.arn("domain/%s/layout/%s", domainID, l.ID)
		return tx.Put(localcases.Layouts, domainID, l.ID, &l)
	})
	if err != nil {
		return nil, err
	}
	return &api.CreateLayoutResponse{LayoutId: &l.ID, LayoutArn: &l.ARN}, nil
}

// GetLayout answers for deleted layouts too, and leaves deleted fields out
// of the content (§5.1, §4.4).
func (s *Service) GetLayout(ctx context.Context, in *api.GetLayoutRequest) (*api.GetLayoutResponse, error) {
	domainID, id := str(in.DomainId), str(in.LayoutId)
	var l *localcases.Layout
	var fields map[string]*localcases.Field
	err := s.view(ctx, func(tx localcases.Tx) (err error) {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		if l, err = s.getLayout(tx, domainID, id); err != nil {
			return err
		}
		fields, err = configFieldIndex(tx, domainID)
		return err
	})
	if err != nil {
		return nil, err
	}
	var content api.LayoutContent
	if err := json.Unmarshal(l.Content, &content); err != nil {
		return nil, fmt.Errorf("decode layout %s content: %w", l.ID, err)
	}
	for _, g := range layoutGroups(&content) {
		kept := make([]api.FieldItem, 0, len(g.Fields))
		for _, f := range g.Fields {
			if fd := fields[str(f.Id)]; fd != nil && fd.Deleted {
				continue
			}
			kept = append(kept, f)
		}
		g.Fields = kept
	}
	return &api.GetLayoutResponse{
		LayoutId: ptr(l.ID), LayoutArn: ptr(l.ARN), Name: ptr(l.Name), Content: &content,
		Deleted: l.Deleted, CreatedTime: api.NewTime(l.Created), LastModifiedTime: api.NewTime(l.Modified),
		Tags: tagsOut(l.Tags),
	}, nil
}

// UpdateLayout replaces the members given; a deleted layout cannot change
// (§5.1, §12.4).
func (s *Service) UpdateLayout(ctx context.Context, in *api.UpdateLayoutRequest) (*api.UpdateLayoutResponse, error) {
	domainID, id := str(in.DomainId), str(in.LayoutId)
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		l, err := s.getLayout(tx, domainID, id)
		if err != nil {
			return err
		}
		if l.Deleted {
			return api.Validation("Layout %s is deleted and cannot be updated.", id)
		}
		if in.Name == nil && in.Content == nil {
			return nil
		}
		if in.Content != nil {
			if err := s.checkLayoutContent(tx, domainID, in.Content); err != nil {
				return err
			}
			l.Content = mustJSON(in.Content)
		}
		if in.Name != nil && *in.Name != l.Name {
			taken, _, err := layoutNameTaken(tx, domainID, *in.Name, id)
			if err != nil {
				return err
			}
			if taken {
				return api.Conflict("A layout named %q already exists in the domain.", *in.Name)
			}
			l.Name = *in.Name
		}
		l.Modified = s.now()
		return tx.Put(localcases.Layouts, domainID, id, l)
	})
	if err != nil {
		return nil, err
	}
	return &api.UpdateLayoutResponse{}, nil
}

// ListLayouts leaves deleted layouts out (§5.1).
func (s *Service) ListLayouts(ctx context.Context, in *api.ListLayoutsRequest) (*api.ListLayoutsResponse, error) {
	domainID := str(in.DomainId)
	tok, err := s.decodeToken(in.NextToken, listingKey("ListLayouts", domainID))
	if err != nil {
		return nil, err
	}
	var layouts []localcases.Layout
	var next *string
	err = s.view(ctx, func(tx localcases.Tx) (err error) {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		layouts, next, err = listPage(s, tx, localcases.Layouts, domainID, tok, pageSize(in.MaxResults, 100),
			func(l *localcases.Layout) bool { return !l.Deleted })
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &api.ListLayoutsResponse{Layouts: make([]api.LayoutSummary, 0, len(layouts)), NextToken: next}
	for _, l := range layouts {
		out.Layouts = append(out.Layouts, api.LayoutSummary{LayoutId: ptr(l.ID), LayoutArn: ptr(l.ARN), Name: ptr(l.Name)})
	}
	return out, nil
}

// DeleteLayout marks the layout deleted: it stays readable through GetLayout
// (§5.1). Templates that name it as their default layout keep the reference;
// the model documents no conflict for that, and the layout only shapes the
// agent UI.
func (s *Service) DeleteLayout(ctx context.Context, in *api.DeleteLayoutRequest) (*api.DeleteLayoutResponse, error) {
	domainID, id := str(in.DomainId), str(in.LayoutId)
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		l, err := s.getLayout(tx, domainID, id)
		if err != nil {
			return err
		}
		if l.Deleted {
			return api.Validation("Layout %s is already deleted.", id)
		}
		l.Deleted = true
		l.Modified = s.now()
		return tx.Put(localcases.Layouts, domainID, id, l)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteLayoutResponse{}, nil
}
