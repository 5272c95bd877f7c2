package service

import (
	"context"
	"maps"
	"strings"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// casesARN is a parsed Amazon Connect Cases resource ARN (§2.2). Kind is ""
// for the domain itself; CaseID is set for related items only.
type casesARN struct {
	DomainID string
	Kind     string // "field", "layout", "template", "case-rule", "case", "related-item"
	ID       string
	CaseID   string
}

// parseCasesARN accepts only ARNs of this server's partition, Region and
// account: a resource elsewhere is not one this emulator can hold, and the
// request is malformed rather than the resource missing (§2.3).
func (s *Service) parseCasesARN(arn string) (casesARN, error) {
	bad := func(why string) (casesARN, error) {
		return casesARN{}, api.Validation("%q is not an Amazon Connect Cases resource ARN of this Region and account: %s.", clipARN(arn), why)
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return bad("expected arn:aws:cases:{region}:{account}:domain/{domainId}[/...]")
	}
	switch {
	case parts[1] != "aws":
		return bad("partition must be aws")
	case parts[2] != "cases":
		return bad("service must be cases")
	case parts[3] != s.cfg.Region:
		return bad("region must be " + s.cfg.Region)
	case parts[4] != s.cfg.Account:
		return bad("account must be " + s.cfg.Account)
	}
	segs := strings.Split(parts[5], "/")
	for _, seg := range segs {
		if seg == "" {
			return bad("empty path segment")
		}
	}
	if segs[0] != "domain" || len(segs) < 2 {
		return bad("resource must start with domain/{domainId}")
	}
	ref := casesARN{DomainID: segs[1]}
	switch len(segs) {
	case 2:
		return ref, nil
	case 4:
		switch segs[2] {
		case "field", "layout", "template", "case-rule", "case":
			ref.Kind, ref.ID = segs[2], segs[3]
			return ref, nil
		}
		return bad("unknown resource type " + segs[2])
	case 6:
		if segs[2] == "case" && segs[4] == "related-item" {
			ref.Kind, ref.CaseID, ref.ID = "related-item", segs[3], segs[5]
			return ref, nil
		}
	}
	return bad("unknown resource path")
}

func clipARN(s string) string {
	if len(s) > 200 {
		return strings.ToValidUTF8(s[:200], "") + "..."
	}
	return s
}

// taggedRecord is a loaded record's tag map and the write that stores the
// record back with whatever the caller did to it.
type taggedRecord struct {
	tags *map[string]string
	put  func() error
}

// loadTagged reads one record into its root type, so a write-back keeps
// every member the owning plane stores. A missing record is reported under
// the ARN the caller named (§2.3, §12.4).
func loadTagged[T any](tx localcases.Tx, c localcases.Collection, scope, id, resourceType, arn string, tags func(*T) *map[string]string) (*taggedRecord, error) {
	v := new(T)
	if err := tx.Get(c, scope, id, v); err != nil {
		if isNotFound(err) {
			return nil, api.NotFound(resourceType, arn)
		}
		return nil, err
	}
	return &taggedRecord{tags: tags(v), put: func() error { return tx.Put(c, scope, id, v) }}, nil
}

// resolveTagged loads the record an ARN names, the domain first. Deleted
// fields, layouts, templates and rules stay readable (§4.4, §5, §6.4), so
// they stay taggable too.
func (s *Service) resolveTagged(tx localcases.Tx, arn string, ref casesARN) (*taggedRecord, error) {
	d := ref.DomainID
	dom, err := loadTagged(tx, localcases.Domains, s.cfg.Account, d, rtDomain, arn, func(v *localcases.Domain) *map[string]string { return &v.Tags })
	if err != nil || ref.Kind == "" {
		return dom, err
	}
	switch ref.Kind {
	case "field":
		return loadTagged(tx, localcases.Fields, d, ref.ID, rtField, arn, func(v *localcases.Field) *map[string]string { return &v.Tags })
	case "layout":
		return loadTagged(tx, localcases.Layouts, d, ref.ID, rtLayout, arn, func(v *localcases.Layout) *map[string]string { return &v.Tags })
	case "template":
		return loadTagged(tx, localcases.Templates, d, ref.ID, rtTemplate, arn, func(v *localcases.Template) *map[string]string { return &v.Tags })
	case "case-rule":
		return loadTagged(tx, localcases.CaseRules, d, ref.ID, rtCaseRule, arn, func(v *localcases.CaseRule) *map[string]string { return &v.Tags })
	case "case":
		return loadTagged(tx, localcases.Cases, d, ref.ID, rtCase, arn, func(v *localcases.Case) *map[string]string { return &v.Tags })
	default: // related-item
		if err := tx.Get(localcases.Cases, d, ref.CaseID, &localcases.Case{}); err != nil {
			if isNotFound(err) {
				return nil, api.NotFound(rtCase, arn)
			}
			return nil, err
		}
		return loadTagged(tx, localcases.RelatedItems, scope2(d, ref.CaseID), ref.ID, rtRelatedItem, arn, func(v *localcases.RelatedItem) *map[string]string { return &v.Tags })
	}
}

// TagResource adds or overwrites tags. The aws: prefix is reserved in any
// letter case, as on CreateCase (§2.3); a null value in the sparse map is
// stored as the empty string.
func (s *Service) TagResource(ctx context.Context, in *api.TagResourceRequest) error {
	arn := str(in.Arn)
	ref, err := s.parseCasesARN(arn)
	if err != nil {
		return err
	}
	for k := range in.Tags {
		if k == "" {
			return api.Validation("Tag keys must not be empty.")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return api.Validation("Tag key %q uses the reserved prefix aws:.", k)
		}
	}
	return s.update(ctx, func(tx localcases.Tx) error {
		rec, err := s.resolveTagged(tx, arn, ref)
		if err != nil {
			return err
		}
		if len(in.Tags) == 0 {
			return nil
		}
		if *rec.tags == nil {
			*rec.tags = make(map[string]string, len(in.Tags))
		}
		for k, v := range in.Tags {
			(*rec.tags)[k] = str(v)
		}
		return rec.put()
	})
}

// UntagResource removes the keys given; keys the resource does not carry
// are ignored, as AWS tagging APIs do.
func (s *Service) UntagResource(ctx context.Context, in *api.UntagResourceRequest) error {
	arn := str(in.Arn)
	ref, err := s.parseCasesARN(arn)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx localcases.Tx) error {
		rec, err := s.resolveTagged(tx, arn, ref)
		if err != nil {
			return err
		}
		n := len(*rec.tags)
		for _, k := range in.TagKeys {
			delete(*rec.tags, k)
		}
		if len(*rec.tags) == n {
			return nil
		}
		return rec.put()
	})
}

func (s *Service) ListTagsForResource(ctx context.Context, in *api.ListTagsForResourceRequest) (*api.ListTagsForResourceResponse, error) {
	arn := str(in.Arn)
	ref, err := s.parseCasesARN(arn)
	if err != nil {
		return nil, err
	}
	var tags map[string]string
	err = s.view(ctx, func(tx localcases.Tx) error {
		rec, err := s.resolveTagged(tx, arn, ref)
		if err != nil {
			return err
		}
		tags = maps.Clone(*rec.tags)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &api.ListTagsForResourceResponse{Tags: tagsOut(tags)}, nil
}
