package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// contactLink is what ListCasesForContact reads (§7.5), written when a
// Contact item is added to a case. A case's template never changes, so
// keeping it here saves reading the case.
type contactLink struct {
	CaseID     string `json:"caseId"`
	TemplateID string `json:"templateId"`
}

// contactChannel is what an emulator, with no Connect contact to read,
// reports as a linked contact's channel (§8.1).
const contactChannel = "VOICE"

func inputContentType(c *api.RelatedItemInputContent) api.RelatedItemType {
	switch {
	case c == nil:
	case c.Contact != nil:
		return api.RelatedItemTypeContact
	case c.Comment != nil:
		return api.RelatedItemTypeComment
	case c.File != nil:
		return api.RelatedItemTypeFile
	case c.Sla != nil:
		return api.RelatedItemTypeSla
	case c.ConnectCase != nil:
		return api.RelatedItemTypeConnectCase
	case c.Custom != nil:
		return api.RelatedItemTypeCustom
	}
	return ""
}

func (s *Service) relatedItemARN(domainID, caseID, id string) string {
	return s.arn("domain/%s/case/%s/related-item/%s", domainID, caseID, id)
}

func decodeContent(ri *localcases.RelatedItem) (*api.RelatedItemContent, error) {
	var rc api.RelatedItemContent
	if err := json.Unmarshal(ri.Content, &rc); err != nil {
		return nil, fmt.Errorf("decode related item %s: %w", ri.ID, err)
	}
	return &rc, nil
}

// slaStatus is computed on read, as Overdue is purely a matter of time
// (§8.2): Met or NotMet once completed, by whether that beat the target.
func slaStatus(cfg *api.SlaConfiguration, now time.Time) api.SlaStatus {
	if cfg.TargetTime == nil {
		return api.SlaStatusActive
	}
	if cfg.CompletionTime != nil {
		if cfg.CompletionTime.After(cfg.TargetTime.Time) {
			return api.SlaStatusNotMet
		}
		return api.SlaStatusMet
	}
	if now.After(cfg.TargetTime.Time) {
		return api.SlaStatusOverdue
	}
	return api.SlaStatusActive
}

// contentOut is the stored content as clients see it now.
func contentOut(ri *localcases.RelatedItem, now time.Time) (*api.RelatedItemContent, error) {
	rc, err := decodeContent(ri)
	if err != nil {
		return nil, err
	}
	if rc.Sla != nil && rc.Sla.SlaConfiguration != nil {
		rc.Sla.SlaConfiguration.Status = ptr(slaStatus(rc.Sla.SlaConfiguration, now))
	}
	return rc, nil
}

// checkCustomFields validates a Custom item's field set (§8.1): at most
// Quotas.FieldsPerCustomItem custom fields, each live, once, well typed.
func (s *Service) checkCustomFields(fs *fieldSet, fields []api.FieldValue) error {
	if len(fields) > s.quotas.FieldsPerCustomItem {
		return api.QuotaExceeded("A Custom related item may hold at most %d fields; %d were given.", s.quotas.FieldsPerCustomItem, len(fields))
	}
	seen := map[string]bool{}
	for _, fv := range fields {
		id := str(fv.Id)
		f := fs.byID[id]
		switch {
		case seen[id]:
			return api.Validation("Field %s appears more than once in the custom content.", id)
		case f == nil:
			return api.Validation("Field %s does not exist in domain %s.", id, fs.domainID)
		case f.Deleted:
			return api.Validation("Field %s is deleted and cannot be used.", id)
		case f.Namespace == localcases.NamespaceSystem:
			return api.Validation("System field %s cannot be used in a Custom related item.", id)
		}
		seen[id] = true
		if err := fs.checkValue(f, valFromUnion(fv.Value), nil); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) buildContent(tx localcases.Tx, domainID, caseID string, in *api.RelatedItemInputContent, now time.Time) (*api.RelatedItemContent, error) {
	switch {
	case in.Contact != nil:
		return &api.RelatedItemContent{Contact: &api.ContactContent{
			ContactArn: in.Contact.ContactArn, Channel: ptr(contactChannel), ConnectedToSystemTime: api.NewTime(now),
		}}, nil
	case in.Comment != nil:
		return &api.RelatedItemContent{Comment: in.Comment}, nil
	case in.File != nil:
		return &api.RelatedItemContent{File: in.File}, nil
	case in.ConnectCase != nil:
		other := str(in.ConnectCase.CaseId)
		if other == caseID {
			return nil, api.Validation("A case cannot be related to itself.")
		}
		if _, err := s.loadCase(tx, domainID, other); err != nil {
			return nil, err
		}
		return &api.RelatedItemContent{ConnectCase: &api.ConnectCaseContent{CaseId: ptr(other)}}, nil
	case in.Custom != nil:
		fs, err := s.loadFieldSet(tx, domainID)
		if err != nil {
			return nil, err
		}
		if err := s.checkCustomFields(fs, in.Custom.Fields); err != nil {
			return nil, err
		}
		return &api.RelatedItemContent{Custom: &api.CustomContent{Fields: in.Custom.Fields}}, nil
	case in.Sla != nil:
		cfg := in.Sla.SlaInputConfiguration
		if cfg == nil {
			return nil, api.Validation("content.sla.slaInputConfiguration is required.")
		}
		fieldID := str(cfg.FieldId)
		if fieldID == "" {
			return nil, api.Validation("An SLA of type CaseField needs a fieldId.")
		}
		fs, err := s.loadFieldSet(tx, domainID)
		if err != nil {
			return nil, err
		}
		f := fs.byID[fieldID]
		if f == nil || f.Deleted {
			return nil, api.Validation("Field %s does not exist in domain %s.", fieldID, domainID)
		}
		for _, t := range cfg.TargetFieldValues {
			if err := fs.checkValue(f, valFromUnion(&t), nil); err != nil {
				return nil, err
			}
		}
		minutes := int64(0)
		if cfg.TargetSlaMinutes != nil {
			minutes = *cfg.TargetSlaMinutes
		}
		typ := api.SlaTypeCaseField
		if cfg.Type != nil {
			typ = *cfg.Type
		}
		return &api.RelatedItemContent{Sla: &api.SlaContent{SlaConfiguration: &api.SlaConfiguration{
			Name: cfg.Name, Type: ptr(typ), Status: ptr(api.SlaStatusActive), FieldId: ptr(fieldID),
			TargetFieldValues: cfg.TargetFieldValues,
			TargetTime:        api.NewTime(now.Add(time.Duration(minutes) * time.Minute)),
		}}}, nil
	}
	return nil, api.Validation("content must set exactly one member.")
}

// relatedValues renders content as audit fields (§7.6 leaves their IDs
// open): the content's members by name, and a Custom item's field IDs.
func relatedValues(rc *api.RelatedItemContent) map[string]localcases.Value {
	m := map[string]localcases.Value{}
	set := func(k string, p *string) {
		if p != nil {
			m[k] = localcases.Value{Kind: localcases.ValueString, S: *p}
		}
	}
	switch {
	case rc.Contact != nil:
		set("contactArn", rc.Contact.ContactArn)
		set("channel", rc.Contact.Channel)
	case rc.Comment != nil:
		set("body", rc.Comment.Body)
		if rc.Comment.ContentType != nil {
			set("contentType", ptr(string(*rc.Comment.ContentType)))
		}
	case rc.File != nil:
		set("fileArn", rc.File.FileArn)
	case rc.ConnectCase != nil:
		set("caseId", rc.ConnectCase.CaseId)
	case rc.Sla != nil && rc.Sla.SlaConfiguration != nil:
		set("name", rc.Sla.SlaConfiguration.Name)
		set("fieldId", rc.Sla.SlaConfiguration.FieldId)
	case rc.Custom != nil:
		for _, fv := range rc.Custom.Fields {
			if v := valFromUnion(fv.Value); !valIsEmpty(v) {
				m[str(fv.Id)] = v
			}
		}
	}
	return m
}

func relatedAuditEvent(ev *localcases.AuditEvent, ri *localcases.RelatedItem, before, after *api.RelatedItemContent) {
	ev.RelatedItemType = ri.Type
	ev.Fields = []localcases.AuditField{{FieldID: "relatedItemId", NewValue: localcases.Value{Kind: localcases.ValueString, S: ri.ID}}}
	var a, b map[string]localcases.Value
	if before != nil {
		a = relatedValues(before)
	}
	if after != nil {
		b = relatedValues(after)
	}
	for _, d := range diffValues(a, b) {
		if before == nil {
			d.OldValue = nil // a creation has no old values, as Case.Created
		}
		ev.Fields = append(ev.Fields, d)
	}
}

// CreateRelatedItem attaches an item to a case (§8.1, §8.3), within the
// per-case quotas, and records RelatedItem.Created.
func (s *Service) CreateRelatedItem(ctx context.Context, in *api.CreateRelatedItemRequest) (*api.CreateRelatedItemResponse, error) {
	domainID, caseID := str(in.DomainId), str(in.CaseId)
	var typ api.RelatedItemType
	if in.Type != nil {
		typ = *in.Type
	}
	if got := inputContentType(in.Content); got != typ {
		return nil, api.Validation("Related item type %s does not match the content given (%s).", typ, got)
	}
	var out api.CreateRelatedItemResponse
	err := s.update(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		c, err := s.loadCase(tx, domainID, caseID)
		if err != nil {
			return err
		}
		items, err := scanAll[localcases.RelatedItem](tx, localcases.RelatedItems, scope2(domainID, caseID))
		if err != nil {
			return err
		}
		count := map[string]int{}
		for _, it := range items {
			count[it.Type]++
		}
		switch {
		case len(items) >= s.quotas.RelatedItemsPerCase:
			return api.QuotaExceeded("Case %s already has %d related items, the maximum allowed.", caseID, len(items))
		case typ == api.RelatedItemTypeFile && count[string(typ)] >= s.quotas.FilesPerCase:
			return api.QuotaExceeded("Case %s already has %d files, the maximum allowed.", caseID, count[string(typ)])
		case typ == api.RelatedItemTypeSla && count[string(typ)] >= s.quotas.SLAsPerCase:
			return api.QuotaExceeded("Case %s already has %d SLAs, the maximum allowed.", caseID, count[string(typ)])
		}
		now := s.now()
		rc, err := s.buildContent(tx, domainID, caseID, in.Content, now)
		if err != nil {
			return err
		}
		ri := localcases.RelatedItem{
			ID: localcases.NewID(), CaseID: caseID, Type: string(typ), Content: mustJSON(rc),
			Associated: now, PerformedBy: userJSON(in.PerformedBy),
		}
		ri.ARN = s.relatedItemARN(domainID, caseID, ri.ID)
		if err := tx.Put(localcases.RelatedItems, scope2(domainID, caseID), ri.ID, &ri); err != nil {
			return err
		}
		switch typ {
		case api.RelatedItemTypeContact:
			link := contactLink{CaseID: caseID, TemplateID: c.TemplateID}
			if err := tx.Put(localcases.ContactLinks, scope2(domainID, str(rc.Contact.ContactArn)), caseID, &link); err != nil {
				return err
			}
		case api.RelatedItemTypeSla:
			if err := s.settleAndSave(tx, domainID, c, now); err != nil {
				return err
			}
		}
		ev := s.newAuditEvent(ctx, api.AuditEventTypeRelatedItemCreated, in.PerformedBy, now)
		relatedAuditEvent(ev, &ri, nil, rc)
		if err := putAudit(tx, domainID, caseID, ev); err != nil {
			return err
		}
		if err := s.emitRelated(ctx, tx, EventRelatedItemCreated, domainID, &ri, rc, in.PerformedBy, now); err != nil {
			return err
		}
		out = api.CreateRelatedItemResponse{RelatedItemId: ptr(ri.ID), RelatedItemArn: ptr(ri.ARN)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Service) loadRelatedItem(tx localcases.Tx, domainID, caseID, id string) (*localcases.RelatedItem, error) {
	if err := s.domainExists(tx, domainID); err != nil {
		return nil, err
	}
	if _, err := s.loadCase(tx, domainID, caseID); err != nil {
		return nil, err
	}
	var ri localcases.RelatedItem
	if err := get(tx, localcases.RelatedItems, scope2(domainID, caseID), id, rtRelatedItem, &ri); err != nil {
		return nil, err
	}
	return &ri, nil
}

// UpdateRelatedItem changes a Comment's body or replaces a Custom item's
// whole field set (§8.3); other types cannot change.
func (s *Service) UpdateRelatedItem(ctx context.Context, in *api.UpdateRelatedItemRequest) (*api.UpdateRelatedItemResponse, error) {
	domainID, caseID, id := str(in.DomainId), str(in.CaseId), str(in.RelatedItemId)
	var out *api.UpdateRelatedItemResponse
	err := s.update(ctx, func(tx localcases.Tx) error {
		ri, err := s.loadRelatedItem(tx, domainID, caseID, id)
		if err != nil {
			return err
		}
		before, err := decodeContent(ri)
		if err != nil {
			return err
		}
		var after *api.RelatedItemContent
		switch {
		case in.Content == nil:
			return api.Validation("content is required.")
		case ri.Type == string(api.RelatedItemTypeComment) && in.Content.Comment != nil && in.Content.Custom == nil:
			after = &api.RelatedItemContent{Comment: &api.CommentContent{Body: in.Content.Comment.Body, ContentType: in.Content.Comment.ContentType}}
		case ri.Type == string(api.RelatedItemTypeCustom) && in.Content.Custom != nil && in.Content.Comment == nil:
			fs, err := s.loadFieldSet(tx, domainID)
			if err != nil {
				return err
			}
			if err := s.checkCustomFields(fs, in.Content.Custom.Fields); err != nil {
				return err
			}
			after = &api.RelatedItemContent{Custom: &api.CustomContent{Fields: in.Content.Custom.Fields}}
		case ri.Type == string(api.RelatedItemTypeComment) || ri.Type == string(api.RelatedItemTypeCustom):
			return api.Validation("Related item %s is of type %s; the update content must be of the same type.", id, ri.Type)
		default:
			return api.Validation("Related items of type %s cannot be updated; only Comment and Custom items can.", ri.Type)
		}
		now := s.now()
		ri.Content = mustJSON(after)
		ri.UpdatedBy = userJSON(in.PerformedBy)
		if err := tx.Put(localcases.RelatedItems, scope2(domainID, caseID), id, ri); err != nil {
			return err
		}
		ev := s.newAuditEvent(ctx, api.AuditEventTypeRelatedItemUpdated, in.PerformedBy, now)
		relatedAuditEvent(ev, ri, before, after)
		if err := putAudit(tx, domainID, caseID, ev); err != nil {
			return err
		}
		if s.events.RelatedItemChanges {
			if err := s.emitRelated(ctx, tx, s.events.RelatedItemUpdatedType, domainID, ri, after, in.PerformedBy, now); err != nil {
				return err
			}
		}
		out = &api.UpdateRelatedItemResponse{
			RelatedItemId: ptr(ri.ID), RelatedItemArn: ptr(ri.ARN), Type: ptr(api.RelatedItemType(ri.Type)),
			AssociationTime: api.NewTime(ri.Associated), Content: after, Tags: tagsOut(ri.Tags),
			CreatedBy: userFromJSON(ri.PerformedBy), LastUpdatedUser: userFromJSON(ri.UpdatedBy),
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteRelatedItem removes an item (§8.3). File items belong to Connect's
// attached-files API and are refused, as the model documents.
func (s *Service) DeleteRelatedItem(ctx context.Context, in *api.DeleteRelatedItemRequest) (*api.DeleteRelatedItemResponse, error) {
	domainID, caseID, id := str(in.DomainId), str(in.CaseId), str(in.RelatedItemId)
	err := s.update(ctx, func(tx localcases.Tx) error {
		ri, err := s.loadRelatedItem(tx, domainID, caseID, id)
		if err != nil {
			return err
		}
		if ri.Type == string(api.RelatedItemTypeFile) {
			return api.Validation("File related items cannot be deleted with DeleteRelatedItem; delete the attached file in Amazon Connect instead.")
		}
		before, err := decodeContent(ri)
		if err != nil {
			return err
		}
		sc := scope2(domainID, caseID)
		if err := tx.Delete(localcases.RelatedItems, sc, id); err != nil {
			return err
		}
		now := s.now()
		switch ri.Type {
		case string(api.RelatedItemTypeContact):
			if err := s.unlinkContact(tx, domainID, caseID, contactARNOf(ri)); err != nil {
				return err
			}
		case string(api.RelatedItemTypeSla):
			c, err := s.loadCase(tx, domainID, caseID)
			if err != nil {
				return err
			}
			if err := s.settleAndSave(tx, domainID, c, now); err != nil {
				return err
			}
		}
		ev := s.newAuditEvent(ctx, api.AuditEventTypeRelatedItemDeleted, nil, now)
		relatedAuditEvent(ev, ri, before, nil)
		if err := putAudit(tx, domainID, caseID, ev); err != nil {
			return err
		}
		if !s.events.RelatedItemChanges {
			return nil
		}
		return s.emitRelated(ctx, tx, s.events.RelatedItemDeletedType, domainID, ri, before, nil, now)
	})
	if err != nil {
		return nil, err
	}
	return &api.DeleteRelatedItemResponse{}, nil
}

// unlinkContact drops the case's link to a contact unless another Contact
// item of the case still names it.
func (s *Service) unlinkContact(tx localcases.Tx, domainID, caseID, arn string) error {
	if arn == "" {
		return nil
	}
	items, err := scanAll[localcases.RelatedItem](tx, localcases.RelatedItems, scope2(domainID, caseID))
	if err != nil {
		return err
	}
	for i := range items {
		if contactARNOf(&items[i]) == arn {
			return nil
		}
	}
	err = tx.Delete(localcases.ContactLinks, scope2(domainID, arn), caseID)
	if isNotFound(err) {
		return nil
	}
	return err
}

// settledSLA is an SLA item settleSLAs completed, with its new content.
type settledSLA struct {
	ri *localcases.RelatedItem
	rc *api.RelatedItemContent
}

// settleSLAs completes the case's open SLAs whose field now holds a target
// value and sets next_sla_breach_datetime to the earliest target of those
// still open (§3.3, §8.2). It writes SLA items but not the case, and
// returns the items it completed.
func (s *Service) settleSLAs(tx localcases.Tx, domainID string, c *localcases.Case, now time.Time) ([]settledSLA, error) {
	sc := scope2(domainID, c.ID)
	items, err := scanAll[localcases.RelatedItem](tx, localcases.RelatedItems, sc)
	if err != nil {
		return nil, err
	}
	var settled []settledSLA
	var next *time.Time
	for i := range items {
		ri := &items[i]
		if ri.Type != string(api.RelatedItemTypeSla) {
			continue
		}
		rc, err := decodeContent(ri)
		if err != nil {
			return nil, err
		}
		cfg := rc.Sla.SlaConfiguration
		if cfg == nil || cfg.CompletionTime != nil {
			continue
		}
		have := c.Fields[str(cfg.FieldId)]
		met := false
		for _, t := range cfg.TargetFieldValues {
			if valEqual(valFromUnion(&t), have) {
				met = true
			}
		}
		if met {
			cfg.CompletionTime = api.NewTime(now)
			ri.Content = mustJSON(rc)
			if err := tx.Put(localcases.RelatedItems, sc, ri.ID, ri); err != nil {
				return nil, err
			}
			settled = append(settled, settledSLA{ri, rc})
			continue
		}
		if cfg.TargetTime != nil && (next == nil || cfg.TargetTime.Before(*next)) {
			next = &cfg.TargetTime.Time
		}
	}
	if next == nil {
		delete(c.Fields, "next_sla_breach_datetime")
	} else {
		c.Fields["next_sla_breach_datetime"] = timeValue(*next)
	}
	return settled, nil
}

// settleAndSave runs settleSLAs for a related-item change and stores the
// case if its breach time moved. A related-item change is not a case
// update, so the case keeps its last_updated_datetime (§3.3).
func (s *Service) settleAndSave(tx localcases.Tx, domainID string, c *localcases.Case, now time.Time) error {
	before := c.Fields["next_sla_breach_datetime"]
	if _, err := s.settleSLAs(tx, domainID, c, now); err != nil {
		return err
	}
	if valEqual(before, c.Fields["next_sla_breach_datetime"]) {
		return nil
	}
	c.Version++
	if err := tx.Put(localcases.Cases, domainID, c.ID, c); err != nil {
		return err
	}
	return s.indexCase(tx, domainID, c, nil)
}

// relatedFilterMatches applies SearchRelatedItems filters (§8.3): filters
// OR together, the members given inside one filter AND together, and no
// filters match everything.
func relatedFilterMatches(filters []api.RelatedItemTypeFilter, ri *localcases.RelatedItem, rc *api.RelatedItemContent, now time.Time) bool {
	if len(filters) == 0 {
		return true
	}
	for i := range filters {
		if oneRelatedFilter(&filters[i], ri, rc, now) {
			return true
		}
	}
	return false
}

func oneRelatedFilter(f *api.RelatedItemTypeFilter, ri *localcases.RelatedItem, rc *api.RelatedItemContent, now time.Time) bool {
	opt := func(want *string, have *string) bool { return want == nil || (have != nil && *want == *have) }
	switch {
	case f.Contact != nil:
		c := rc.Contact
		return c != nil && opt(f.Contact.ContactArn, c.ContactArn) &&
			(len(f.Contact.Channel) == 0 || slices.Contains(f.Contact.Channel, str(c.Channel)))
	case f.Comment != nil:
		return rc.Comment != nil
	case f.File != nil:
		return rc.File != nil && opt(f.File.FileArn, rc.File.FileArn)
	case f.Sla != nil:
		if rc.Sla == nil || rc.Sla.SlaConfiguration == nil {
			return false
		}
		cfg := rc.Sla.SlaConfiguration
		return opt(f.Sla.Name, cfg.Name) && (f.Sla.Status == nil || *f.Sla.Status == slaStatus(cfg, now))
	case f.ConnectCase != nil:
		return rc.ConnectCase != nil && opt(f.ConnectCase.CaseId, rc.ConnectCase.CaseId)
	case f.Custom != nil:
		if rc.Custom == nil {
			return false
		}
		return customMatches(f.Custom.Fields, relatedValues(rc))
	}
	return false
}

// checkRelatedFilters rejects unknown field IDs and over-deep nesting in
// custom field filters, as SearchCases does for its filter (§9.3).
func (s *Service) checkRelatedFilters(tx localcases.Tx, domainID string, filters []api.RelatedItemTypeFilter) error {
	ids := map[string]bool{}
	for i := range filters {
		if c := filters[i].Custom; c != nil {
			if err := customFilterFields(c.Fields, 1, ids); err != nil {
				return err
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	fs, err := s.loadFieldSet(tx, domainID)
	if err != nil {
		return err
	}
	for id := range ids {
		if fs.byID[id] == nil {
			return api.Validation("Field %s does not exist in domain %s.", id, domainID)
		}
	}
	return nil
}

// SearchRelatedItems lists a case's items newest first (§8.3). Items are
// appended in association order, so the token is the sequence number of
// the last item returned, which items added meanwhile cannot disturb.
func (s *Service) SearchRelatedItems(ctx context.Context, in *api.SearchRelatedItemsRequest) (*api.SearchRelatedItemsResponse, error) {
	domainID, caseID := str(in.DomainId), str(in.CaseId)
	tok, err := s.decodeToken(in.NextToken, listingKey("SearchRelatedItems", domainID, caseID, string(mustJSON(in.Filters))))
	if err != nil {
		return nil, err
	}
	n := pageSize(in.MaxResults, 25)
	out := &api.SearchRelatedItemsResponse{RelatedItems: []api.SearchRelatedItemsResponseItem{}}
	err = s.view(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		if _, err := s.loadCase(tx, domainID, caseID); err != nil {
			return err
		}
		if err := s.checkRelatedFilters(tx, domainID, in.Filters); err != nil {
			return err
		}
		now := s.now()
		type hit struct {
			seq int64
			ri  localcases.RelatedItem
			rc  *api.RelatedItemContent
		}
		var hits []hit
		err := tx.List(localcases.RelatedItems, scope2(domainID, caseID), 0, func(r localcases.Raw) (bool, error) {
			if tok.After > 0 && r.Seq >= tok.After {
				return false, nil
			}
			var ri localcases.RelatedItem
			if err := decode(r, &ri); err != nil {
				return false, err
			}
			rc, err := contentOut(&ri, now)
			if err != nil {
				return false, err
			}
			if relatedFilterMatches(in.Filters, &ri, rc, now) {
				hits = append(hits, hit{r.Seq, ri, rc})
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		for i := len(hits) - 1; i >= 0 && len(out.RelatedItems) < n; i-- {
			h := &hits[i]
			out.RelatedItems = append(out.RelatedItems, api.SearchRelatedItemsResponseItem{
				RelatedItemId: ptr(h.ri.ID), Type: ptr(api.RelatedItemType(h.ri.Type)),
				AssociationTime: api.NewTime(h.ri.Associated), Content: h.rc,
				PerformedBy: userFromJSON(h.ri.PerformedBy), Tags: tagsOut(h.ri.Tags),
			})
			if len(out.RelatedItems) == n && i > 0 {
				out.NextToken = s.encodeToken(pageToken{Listing: tok.Listing, After: h.seq})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SearchAllRelatedItems searches every case of the domain (§8.3). Default
// order: association time, newest first. Sort keys never change after an
// item is created, so the keyset cursor alone keeps pages stable.
func (s *Service) SearchAllRelatedItems(ctx context.Context, in *api.SearchAllRelatedItemsRequest) (*api.SearchAllRelatedItemsResponse, error) {
	domainID := str(in.DomainId)
	type term struct {
		byCase bool
		desc   bool
	}
	terms := []term{{false, true}}
	if len(in.Sorts) > 0 {
		terms = terms[:0]
		for _, so := range in.Sorts {
			terms = append(terms, term{
				byCase: so.SortProperty != nil && *so.SortProperty == api.SearchAllRelatedItemsSortPropertyCaseId,
				desc:   so.SortOrder != nil && *so.SortOrder == api.OrderDesc,
			})
		}
	}
	desc := make([]bool, len(terms))
	for i, t := range terms {
		desc[i] = t.desc
	}
	query := mustJSON(struct {
		F []api.RelatedItemTypeFilter     `json:"f"`
		S []api.SearchAllRelatedItemsSort `json:"s"`
	}{in.Filters, in.Sorts})
	listing := listingKey("SearchAllRelatedItems", domainID, string(query))
	cur, err := s.decodeCursor(in.NextToken, listing, len(terms))
	if err != nil {
		return nil, err
	}
	n := pageSize(in.MaxResults, 25)
	out := &api.SearchAllRelatedItemsResponse{RelatedItems: []api.SearchAllRelatedItemsResponseItem{}}
	err = s.view(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		if err := s.checkRelatedFilters(tx, domainID, in.Filters); err != nil {
			return err
		}
		now := s.now()
		var caseIDs []string
		err := tx.List(localcases.Cases, domainID, 0, func(r localcases.Raw) (bool, error) {
			caseIDs = append(caseIDs, r.ID)
			return true, nil
		})
		if err != nil {
			return err
		}
		type found struct {
			ri localcases.RelatedItem
			rc *api.RelatedItemContent
		}
		byID := map[string]found{}
		var hits []keyed
		for _, caseID := range caseIDs {
			items, err := scanAll[localcases.RelatedItem](tx, localcases.RelatedItems, scope2(domainID, caseID))
			if err != nil {
				return err
			}
			for _, ri := range items {
				rc, err := contentOut(&ri, now)
				if err != nil {
					return err
				}
				if !relatedFilterMatches(in.Filters, &ri, rc, now) {
					continue
				}
				k := keyed{id: ri.ID, keys: make([]sortKey, len(terms))}
				for j, t := range terms {
					if t.byCase {
						k.keys[j] = sortKey{R: rankString, S: caseID}
					} else {
						k.keys[j] = sortKey{R: rankTime, T: ri.Associated.UnixMilli(), N: float64(ri.Associated.Nanosecond() % 1e6)}
					}
				}
				hits = append(hits, k)
				byID[ri.ID] = found{ri, rc}
			}
		}
		start := pageAfter(desc, hits, cur)
		end := min(start+n, len(hits))
		for _, h := range hits[start:end] {
			f := byID[h.id]
			out.RelatedItems = append(out.RelatedItems, api.SearchAllRelatedItemsResponseItem{
				RelatedItemId: ptr(f.ri.ID), CaseId: ptr(f.ri.CaseID), Type: ptr(api.RelatedItemType(f.ri.Type)),
				AssociationTime: api.NewTime(f.ri.Associated), Content: f.rc,
				PerformedBy: userFromJSON(f.ri.PerformedBy), Tags: tagsOut(f.ri.Tags),
			})
		}
		if end < len(hits) {
			last := hits[end-1]
			out.NextToken = s.encodeCursor(cursorToken{Listing: listing, Keys: last.keys, ID: last.id})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
