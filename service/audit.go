package service

import (
	"context"
	"encoding/json"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

type principalKey struct{}

// WithPrincipal returns ctx carrying the caller's IAM principal ARN, which
// audit events record as performedBy.iamPrincipalArn (§7.6). The HTTP layer
// derives it from the request's credentials.
func WithPrincipal(ctx context.Context, arn string) context.Context {
	return context.WithValue(ctx, principalKey{}, arn)
}

// principal is the caller's IAM principal, or the account root when the
// transport did not name one: iamPrincipalArn is required in the model.
func (s *Service) principal(ctx context.Context) string {
	if arn, ok := ctx.Value(principalKey{}).(string); ok && arn != "" {
		return arn
	}
	return "arn:aws:iam::" + s.cfg.Account + ":root"
}

func userJSON(u *api.UserUnion) json.RawMessage {
	if u == nil || (u.UserArn == nil && u.CustomEntity == nil) {
		return nil
	}
	return mustJSON(u)
}

func userFromJSON(raw json.RawMessage) *api.UserUnion {
	if len(raw) == 0 {
		return nil
	}
	var u api.UserUnion
	if json.Unmarshal(raw, &u) != nil || (u.UserArn == nil && u.CustomEntity == nil) {
		return nil
	}
	return &u
}

// newAuditEvent starts an event the caller performed at at.
func (s *Service) newAuditEvent(ctx context.Context, typ api.AuditEventType, by *api.UserUnion, at time.Time) *localcases.AuditEvent {
	return &localcases.AuditEvent{
		ID:              localcases.NewID(),
		Type:            string(typ),
		Performed:       at,
		IAMPrincipalARN: s.principal(ctx),
		User:            userJSON(by),
	}
}

// putAudit appends an event to the case's history. Events are only ever
// appended, so store order is performed order and GetCaseAuditEvents can
// page newest-first by sequence number.
func putAudit(tx localcases.Tx, domainID, caseID string, ev *localcases.AuditEvent) error {
	if ev.Fields == nil {
		ev.Fields = []localcases.AuditField{}
	}
	return tx.Put(localcases.AuditEvents, scope2(domainID, caseID), ev.ID, ev)
}

func auditEventOut(ev *localcases.AuditEvent) api.AuditEvent {
	out := api.AuditEvent{
		EventId:       ptr(ev.ID),
		Type:          ptr(api.AuditEventType(ev.Type)),
		PerformedTime: api.NewTime(ev.Performed),
		Fields:        make([]api.AuditEventField, 0, len(ev.Fields)),
		PerformedBy:   &api.AuditEventPerformedBy{IamPrincipalArn: ptr(ev.IAMPrincipalARN), User: userFromJSON(ev.User)},
	}
	if ev.RelatedItemType != "" {
		out.RelatedItemType = ptr(api.RelatedItemType(ev.RelatedItemType))
	}
	for _, f := range ev.Fields {
		af := api.AuditEventField{EventFieldId: ptr(f.FieldID), NewValue: valToAudit(f.NewValue)}
		if f.OldValue != nil {
			af.OldValue = valToAudit(*f.OldValue)
		}
		out.Fields = append(out.Fields, af)
	}
	return out
}

// GetCaseAuditEvents pages a case's history newest first (§7.6). The token
// holds the sequence number of the oldest event returned so far; events
// appended while a client pages have larger numbers, so they never shift
// the pages still to come.
func (s *Service) GetCaseAuditEvents(ctx context.Context, in *api.GetCaseAuditEventsRequest) (*api.GetCaseAuditEventsResponse, error) {
	domainID, caseID := str(in.DomainId), str(in.CaseId)
	tok, err := s.decodeToken(in.NextToken, listingKey("GetCaseAuditEvents", domainID, caseID))
	if err != nil {
		return nil, err
	}
	n := pageSize(in.MaxResults, 25)
	out := &api.GetCaseAuditEventsResponse{AuditEvents: []api.AuditEvent{}}
	err = s.view(ctx, func(tx localcases.Tx) error {
		if err := s.domainExists(tx, domainID); err != nil {
			return err
		}
		if _, err := s.loadCase(tx, domainID, caseID); err != nil {
			return err
		}
		type seqEvent struct {
			seq int64
			raw []byte
		}
		var all []seqEvent
		err := tx.List(localcases.AuditEvents, scope2(domainID, caseID), 0, func(r localcases.Raw) (bool, error) {
			if tok.After > 0 && r.Seq >= tok.After {
				return false, nil
			}
			all = append(all, seqEvent{r.Seq, r.Data})
			return true, nil
		})
		if err != nil {
			return err
		}
		for i := len(all) - 1; i >= 0 && len(out.AuditEvents) < n; i-- {
			var ev localcases.AuditEvent
			if err := json.Unmarshal(all[i].raw, &ev); err != nil {
				return err
			}
			out.AuditEvents = append(out.AuditEvents, auditEventOut(&ev))
			if len(out.AuditEvents) == n && i > 0 {
				out.NextToken = s.encodeToken(pageToken{Listing: tok.Listing, After: all[i].seq})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
