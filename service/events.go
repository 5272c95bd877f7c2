package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// Case events (EVENTS.md, which replaces BEHAVIOR.md §10): when a domain's
// event configuration is enabled, every change that AWS publishes to
// EventBridge appends its envelope to the store's outbox in the change's
// own transaction. So an event exists exactly when its change committed,
// and outbox order is commit order, which keeps each case's events in
// order. The envelope is stored exactly as it is published.

// Event types (EVENTS.md §2.1, §3.1).
const (
	EventCaseCreated        = "CASE.CREATED"
	EventCaseUpdated        = "CASE.UPDATED"
	EventCaseDeleted        = "CASE.DELETED"
	EventRelatedItemCreated = "RELATED_ITEM.CREATED"
	// EventRelatedItemUpdated and EventRelatedItemDeleted are the default
	// names of the optional related-item change events (§3.1: unverified).
	EventRelatedItemUpdated = "RELATED_ITEM.UPDATED"
	EventRelatedItemDeleted = "RELATED_ITEM.DELETED"
)

// Envelope constants (EVENTS.md §1).
const (
	EventSource     = "aws.cases"
	EventDetailType = "Amazon Connect Cases Change"
)

// EventOptions choose the emulator's answer where EVENTS.md marks AWS's
// behaviour unverified. The zero value is the spec's suggested default for
// every choice; docs/EVENTS.md lists them.
type EventOptions struct {
	// RelatedItemChanges also publishes UpdateRelatedItem and
	// DeleteRelatedItem, as RelatedItemUpdatedType and
	// RelatedItemDeletedType (§3.1). Default off: the current EventBridge
	// reference lists only RELATED_ITEM.CREATED.
	RelatedItemChanges bool `yaml:"relatedItemChanges" json:"relatedItemChanges"`
	// RelatedItemUpdatedType and RelatedItemDeletedType name those events.
	// Defaults RELATED_ITEM.UPDATED and RELATED_ITEM.DELETED.
	RelatedItemUpdatedType string `yaml:"relatedItemUpdatedType" json:"relatedItemUpdatedType"`
	RelatedItemDeletedType string `yaml:"relatedItemDeletedType" json:"relatedItemDeletedType"`
	// NoopUpdates publishes CASE.UPDATED (with no changedFieldIds) for an
	// UpdateCase that changes no stored value (§3.1). Default off.
	NoopUpdates bool `yaml:"noopUpdates" json:"noopUpdates"`
	// BareDeletes leaves the configured fields' last values out of
	// CASE.DELETED. Default off: the event carries them, so downstream
	// stores can tombstone (§2.2).
	BareDeletes bool `yaml:"bareDeletes" json:"bareDeletes"`
	// CaseARN adds detail.case.caseArn. Default off: no sample shows it,
	// and resources[1] holds it (§2.2).
	CaseARN bool `yaml:"caseArn" json:"caseArn"`
	// FilterChangedFields limits changedFieldIds to the fields of
	// includedData.caseData. Default off: the list describes the change,
	// not the payload (§2.2).
	FilterChangedFields bool `yaml:"filterChangedFields" json:"filterChangedFields"`
}

func (o EventOptions) withDefaults() EventOptions {
	if o.RelatedItemUpdatedType == "" {
		o.RelatedItemUpdatedType = EventRelatedItemUpdated
	}
	if o.RelatedItemDeletedType == "" {
		o.RelatedItemDeletedType = EventRelatedItemDeleted
	}
	return o
}

// eventEnvelope is the EventBridge event (§1), members in the documented order.
type eventEnvelope struct {
	Version    string      `json:"version"`
	ID         string      `json:"id"`
	DetailType string      `json:"detail-type"`
	Source     string      `json:"source"`
	Account    string      `json:"account"`
	Time       string      `json:"time"`
	Region     string      `json:"region"`
	Resources  []string    `json:"resources"`
	Detail     eventDetail `json:"detail"`
}

type eventDetail struct {
	Version               string `json:"version"`
	EventType             string `json:"eventType"`
	ApproximateChangeTime string `json:"approximateChangeTime"`
	// ChangedFieldIDs is on case events only; an empty list still shows.
	ChangedFieldIDs   []string          `json:"changedFieldIds,omitzero"`
	PerformedBy       eventPerformedBy  `json:"performedBy"`
	ChangedAttributes []string          `json:"changedAttributes,omitzero"`
	Case              *eventCase        `json:"case,omitzero"`
	RelatedItem       *eventRelatedItem `json:"relatedItem,omitzero"`
}

// eventPerformedBy has the model's AuditEventPerformedBy shape (§2.1).
type eventPerformedBy struct {
	User            *api.UserUnion `json:"user,omitzero"`
	IAMPrincipalARN string         `json:"iamPrincipalArn"`
}

type eventCase struct {
	CaseID          string `json:"caseId"`
	TemplateID      string `json:"templateId"`
	CreatedDateTime string `json:"createdDateTime"`
	CaseARN         string `json:"caseArn,omitzero"`
	// Fields is absent without includedData.caseData and {} when none of
	// the configured fields holds a value.
	Fields map[string]eventFieldValue `json:"fields,omitzero"`
}

type eventFieldValue struct {
	Value *api.FieldValueUnion `json:"value"`
}

type eventRelatedItem struct {
	RelatedItemType string `json:"relatedItemType"`
	RelatedItemID   string `json:"relatedItemId"`
	CaseID          string `json:"caseId"`
	CreatedDateTime string `json:"createdDateTime"`
	// The content member (comment, contact, ...) sits beside the others,
	// named as in the API's RelatedItemContent union (§2.4).
	*api.RelatedItemContent
}

// eventConfig returns the domain's event configuration, or nil when
// publishing is off (or was never configured). The record is read in tx
// as always, so the answer is the transaction's; only its decoding is
// cached, per domain, for as long as the stored bytes stay the same, since
// every case change of a publishing domain asks for it.
func (s *Service) eventConfig(tx localcases.Tx, domainID string) (*eventConf, error) {
	var rec localcases.EventConfig
	err := tx.Get(localcases.EventConfigs, domainID, eventConfigID, &rec)
	if isNotFound(err) {
		s.evcfg.Delete(domainID)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c, ok := s.evcfg.Load(domainID); ok && bytes.Equal(c.(*eventConf).raw, rec.EventBridge) {
		return c.(*eventConf).on(), nil
	}
	var eb api.EventBridgeConfiguration
	if err := json.Unmarshal(rec.EventBridge, &eb); err != nil {
		return nil, fmt.Errorf("decode event configuration of %s: %w", domainID, err)
	}
	c := &eventConf{raw: rec.EventBridge, cfg: &eb}
	if d := eb.IncludedData; d != nil {
		if d.CaseData != nil {
			c.caseData = true
			for _, f := range d.CaseData.Fields {
				c.want = append(c.want, str(f.Id))
			}
		}
		c.content = d.RelatedItemData != nil && d.RelatedItemData.IncludeContent != nil && *d.RelatedItemData.IncludeContent
	}
	s.evcfg.Store(domainID, c)
	return c.on(), nil
}

// eventConf is a decoded event configuration; shared between
// transactions, so never modified once stored.
type eventConf struct {
	raw json.RawMessage
	cfg *api.EventBridgeConfiguration
	// caseData: includedData.caseData is set, listing the fields want.
	caseData bool
	want     []string
	// content: includedData.relatedItemData.includeContent.
	content bool
}

// on returns c if it enables publishing, nil if not.
func (c *eventConf) on() *eventConf {
	if c.cfg.Enabled == nil || !*c.cfg.Enabled {
		return nil
	}
	return c
}

// eventTimes are the envelope's time and the detail's
// approximateChangeTime for a change at at (§1): the change time in
// milliseconds, and the envelope time in whole seconds rounded up, so it
// is never earlier than the change, as in the documented sample.
func eventTimes(at time.Time) (envelope, change string) {
	at = at.UTC()
	sec := at.Truncate(time.Second)
	if sec.Before(at) {
		sec = sec.Add(time.Second)
	}
	return sec.Format(time.RFC3339), at.Format(api.TimeFormat)
}

func (s *Service) appendEvent(ctx context.Context, tx localcases.Tx, domainID string, at time.Time, resource string, d eventDetail) error {
	tm, change := eventTimes(at)
	d.Version = "0"
	d.ApproximateChangeTime = change
	d.PerformedBy.IAMPrincipalARN = s.principal(ctx)
	env := eventEnvelope{
		Version: "0", ID: localcases.NewID(), DetailType: EventDetailType, Source: EventSource,
		Account: s.cfg.Account, Time: tm, Region: s.cfg.Region,
		Resources: []string{s.arn("domain/%s", domainID), resource},
		Detail:    d,
	}
	data, err := appendEnvelope(make([]byte, 0, 1024), &env)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	_, err = tx.AppendEvent(domainID, at, data)
	return err
}

// caseChange is one case change to publish.
type caseChange struct {
	typ      string
	domainID string
	c        *localcases.Case
	// named are the field IDs the request named, in request order;
	// changed are the IDs whose value differs (diffValues order).
	named   []string
	changed []localcases.AuditField
	by      *api.UserUnion
	at      time.Time
	fs      *fieldSet // the domain's fields; loaded on demand when nil
}

// emitCase appends a case event if the domain publishes events.
func (s *Service) emitCase(ctx context.Context, tx localcases.Tx, ch caseChange) error {
	cfg, err := s.eventConfig(tx, ch.domainID)
	if err != nil || cfg == nil {
		return err
	}
	want := cfg.want
	ec := &eventCase{CaseID: ch.c.ID, TemplateID: ch.c.TemplateID, CreatedDateTime: ch.c.Created.UTC().Format(api.TimeFormat)}
	if s.events.CaseARN {
		ec.CaseARN = ch.c.ARN
	}
	if cfg.caseData {
		ec.Fields = map[string]eventFieldValue{}
		if ch.typ != EventCaseDeleted || !s.events.BareDeletes {
			fs := ch.fs
			if fs == nil && len(want) > 0 {
				if fs, err = s.loadFieldSet(tx, ch.domainID); err != nil {
					return err
				}
			}
			for _, id := range want {
				v, ok := ch.c.Fields[id]
				// Deleted fields are left out, as Get leaves them out of the
				// configuration (§2.3, suggested).
				if !ok || valIsEmpty(v) || (fs != nil && fs.byID[id] != nil && fs.byID[id].Deleted) {
					continue
				}
				ec.Fields[id] = eventFieldValue{Value: valToUnion(v)}
			}
		}
	}
	changed := changedFieldIDs(ch.named, ch.changed)
	if s.events.FilterChangedFields {
		keep := make(map[string]bool, len(want))
		for _, id := range want {
			keep[id] = true
		}
		kept := changed[:0]
		for _, id := range changed {
			if keep[id] {
				kept = append(kept, id)
			}
		}
		changed = kept
	}
	d := eventDetail{EventType: ch.typ, ChangedFieldIDs: changed, Case: ec}
	d.PerformedBy.User = userUnion(ch.by)
	return s.appendEvent(ctx, tx, ch.domainID, ch.at, ch.c.ARN, d)
}

// changedFieldIDs lists the changed fields the request named, in its
// order, then the side effects (service-managed fields) by ID, which is
// the documented sample's order: ["status", "last_updated_datetime"]. The
// list is never nil, so an event with no changes shows [].
func changedFieldIDs(named []string, changed []localcases.AuditField) []string {
	out := make([]string, 0, len(changed))
	isChanged := make(map[string]bool, len(changed))
	for _, f := range changed {
		isChanged[f.FieldID] = true
	}
	first := make(map[string]bool, len(named))
	for _, id := range named {
		if isChanged[id] && !first[id] {
			first[id] = true
			out = append(out, id)
		}
	}
	rest := make([]string, 0, len(changed))
	for _, f := range changed {
		if !first[f.FieldID] {
			rest = append(rest, f.FieldID)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func userUnion(u *api.UserUnion) *api.UserUnion {
	if u == nil || (u.UserArn == nil && u.CustomEntity == nil) {
		return nil
	}
	return u
}

// emitRelated appends a related-item event if the domain publishes events.
// rc is the item's content (for a deletion, its last content).
func (s *Service) emitRelated(ctx context.Context, tx localcases.Tx, typ, domainID string, ri *localcases.RelatedItem, rc *api.RelatedItemContent, by *api.UserUnion, at time.Time) error {
	cfg, err := s.eventConfig(tx, domainID)
	if err != nil || cfg == nil {
		return err
	}
	item := &eventRelatedItem{
		RelatedItemType: ri.Type, RelatedItemID: ri.ID, CaseID: ri.CaseID,
		CreatedDateTime: ri.Associated.UTC().Format(api.TimeFormat),
	}
	if cfg.content {
		content := *rc
		if content.Sla != nil && content.Sla.SlaConfiguration != nil {
			sla := *content.Sla.SlaConfiguration
			sla.Status = ptr(slaStatus(&sla, at))
			content.Sla = &api.SlaContent{SlaConfiguration: &sla}
		}
		item.RelatedItemContent = &content
	}
	attrs := []string{}
	if typ != s.events.RelatedItemDeletedType {
		attrs = changedAttributes(rc)
	}
	d := eventDetail{EventType: typ, ChangedAttributes: attrs, RelatedItem: item}
	d.PerformedBy.User = userUnion(by)
	return s.appendEvent(ctx, tx, domainID, at, ri.ARN, d)
}

// changedAttributes names what a related-item event changed (§2.4): the
// documented "comment.commentText" for a comment, and otherwise the
// suggested "<unionMember>.<attribute>" for each attribute the content sets.
func changedAttributes(rc *api.RelatedItemContent) []string {
	var out []string
	add := func(name string, set bool) {
		if set {
			out = append(out, name)
		}
	}
	switch {
	case rc.Comment != nil:
		add("comment.commentText", true)
	case rc.Contact != nil:
		add("contact.contactArn", rc.Contact.ContactArn != nil)
		add("contact.channel", rc.Contact.Channel != nil)
		add("contact.connectedToSystemTime", rc.Contact.ConnectedToSystemTime != nil)
	case rc.File != nil:
		add("file.fileArn", true)
	case rc.ConnectCase != nil:
		add("connectCase.caseId", true)
	case rc.Sla != nil:
		add("sla.slaConfiguration", true)
	case rc.Custom != nil:
		add("custom.fields", true)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// noteTx is the transaction an update function sees: it remembers whether
// an event was appended, so the service can wake readers once it commits.
type noteTx struct {
	localcases.Tx
	appended *bool
}

func (t noteTx) AppendEvent(domainID string, at time.Time, data []byte) (int64, error) {
	seq, err := t.Tx.AppendEvent(domainID, at, data)
	if err == nil {
		*t.appended = true
	}
	return seq, err
}
