package localcasestest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/eventpattern"
	"github.com/localcases/localcases/events"
)

// Event is one case event as the server publishes it to EventBridge. The
// server publishes only for domains whose event configuration is enabled
// (PutCaseEventConfiguration); see docs/EVENTS.md.
type Event struct {
	// ID is the envelope's id, unique per event.
	ID string
	// Type is detail.eventType: CASE.CREATED, CASE.UPDATED, CASE.DELETED,
	// RELATED_ITEM.CREATED, ...
	Type string
	// CaseID is the case the event is about (for a related item, its case).
	CaseID string
	// ChangeTime is detail.approximateChangeTime.
	ChangeTime time.Time
	// Resources are the envelope's resources: the domain ARN, then the case
	// or related-item ARN.
	Resources []string
	// Detail is the envelope's detail object; Envelope the whole event,
	// exactly as published.
	Detail   json.RawMessage
	Envelope json.RawMessage
}

// EventQuery selects events.
type EventQuery struct {
	// After is a cursor from an earlier call; "" starts at the oldest event
	// the server keeps.
	After string
	// DomainID keeps one domain's events; "" keeps every domain's.
	DomainID string
	// Pattern keeps the events an EventBridge event pattern (JSON) matches,
	// as a rule on the default event bus would; "" keeps all.
	Pattern string
}

// Events returns the events past q.After that the server holds now, oldest
// first, and the cursor to pass as After next time.
func (s *Server) Events(ctx context.Context, q EventQuery) ([]Event, string, error) {
	return s.readEvents(ctx, q, 0)
}

// WaitEvents waits until at least n events past q.After match q, and
// returns those there are then (n or more) with the cursor after the last
// event read. It fails when ctx ends first, with the events seen so far.
func (s *Server) WaitEvents(ctx context.Context, q EventQuery, n int) ([]Event, string, error) {
	return s.readEvents(ctx, q, n)
}

func (s *Server) readEvents(ctx context.Context, q EventQuery, want int) ([]Event, string, error) {
	var pat *eventpattern.Pattern
	if q.Pattern != "" {
		var err error
		if pat, err = eventpattern.Compile([]byte(q.Pattern)); err != nil {
			return nil, q.After, fmt.Errorf("event pattern: %w", err)
		}
	}
	var out []Event
	aq := admin.EventQuery{After: q.After, DomainID: q.DomainID}
	for {
		page, err := s.admin.Events(ctx, aq)
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%d of %d events before the context ended: %w", len(out), want, ctx.Err())
			}
			return out, aq.After, err
		}
		for _, raw := range page.Events {
			if !pat.Match(raw) {
				continue
			}
			ev, err := decodeEvent(raw)
			if err != nil {
				return out, aq.After, err
			}
			out = append(out, ev)
		}
		aq.After = page.Cursor
		switch {
		case len(page.Events) == events.MaxLimit:
			aq.Wait = 0 // a full page: more are there already
		case len(out) >= want:
			return out, aq.After, nil
		default:
			aq.Wait = events.MaxWait
			if d, ok := ctx.Deadline(); ok && time.Until(d) < aq.Wait {
				aq.Wait = max(time.Until(d), 0)
			}
		}
	}
}

func decodeEvent(raw json.RawMessage) (Event, error) {
	var env struct {
		ID        string          `json:"id"`
		Resources []string        `json:"resources"`
		Detail    json.RawMessage `json:"detail"`
	}
	var d struct {
		EventType  string    `json:"eventType"`
		ChangeTime time.Time `json:"approximateChangeTime"`
		Case       *struct {
			CaseID string `json:"caseId"`
		} `json:"case"`
		RelatedItem *struct {
			CaseID string `json:"caseId"`
		} `json:"relatedItem"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return Event{}, fmt.Errorf("decode event %s: %w", env.ID, err)
	}
	ev := Event{ID: env.ID, Type: d.EventType, ChangeTime: d.ChangeTime, Resources: env.Resources, Detail: env.Detail, Envelope: raw}
	switch {
	case d.Case != nil:
		ev.CaseID = d.Case.CaseID
	case d.RelatedItem != nil:
		ev.CaseID = d.RelatedItem.CaseID
	}
	return ev, nil
}
