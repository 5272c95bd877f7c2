package health

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/healthapi"
)

// Config configures a Service.
type Config struct {
	// Region is the server's region: events are posted in it.
	Region string
	// Account appears in entity ARNs.
	Account string
	// Faults is the engine whose scenarios and announced rules become
	// events; nil posts only what the admin API posts.
	Faults *fault.Engine
	// Domains lists the ARNs of the account's Cases domains, the entities
	// an account-wide incident affects; nil means none.
	Domains func(context.Context) ([]string, error)
	// Clock defaults to the system clock.
	Clock  localcases.Clock
	Logger *slog.Logger
}

// Service is the AWS Health API over an in-memory event store.
type Service struct {
	healthapi.NotImplemented
	cfg Config

	mu     sync.Mutex
	events []*Event // in the order they were opened

	subscriptionRequired atomic.Bool
}

var _ healthapi.Service = (*Service)(nil)

// New returns a Service with no events.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = localcases.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg}
}

// SetSubscriptionRequired makes every operation answer
// SubscriptionRequiredException (true), as for an account without a
// Business, Enterprise On-Ramp or Enterprise Support plan, or answer
// normally (false, the default).
func (s *Service) SetSubscriptionRequired(v bool) { s.subscriptionRequired.Store(v) }

// SubscriptionRequired reports the mode SetSubscriptionRequired set.
func (s *Service) SubscriptionRequired() bool { return s.subscriptionRequired.Load() }

// Events syncs with the fault engine and returns a copy of every event,
// most recently updated first.
func (s *Service) Events(ctx context.Context) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncLocked(ctx)
	out := make([]Event, 0, len(s.events))
	for _, e := range s.sorted() {
		out = append(out, e.clone())
	}
	return out
}

// Reset forgets every event. Scenarios and announced rules still in force
// open new ones at the next sync.
func (s *Service) Reset() {
	s.mu.Lock()
	s.events = nil
	s.mu.Unlock()
}

// Sync brings the events up to date with the fault engine now, so that an
// event closes when a scenario is stopped rather than when it is next read.
func (s *Service) Sync(ctx context.Context) {
	s.mu.Lock()
	s.syncLocked(ctx)
	s.mu.Unlock()
}

// Notice is an event the admin API posts.
type Notice struct {
	// Category is scheduledChange (default), accountNotification or issue.
	Category string `json:"category,omitempty"`
	// TypeCode defaults by category: AWS_CONNECT_MAINTENANCE_SCHEDULED,
	// AWS_CONNECT_OPERATIONAL_NOTIFICATION, AWS_CONNECT_OPERATIONAL_ISSUE.
	TypeCode string `json:"eventTypeCode,omitempty"`
	// Service defaults to CONNECT, Region to the server's.
	Service string `json:"service,omitempty"`
	Region  string `json:"region,omitempty"`
	// Description is the event's text (DescribeEventDetails).
	Description string `json:"description"`
	// StartTime defaults to now. Before it the event is upcoming, from it
	// open, and from EndTime (if set) closed.
	StartTime time.Time `json:"startTime,omitzero"`
	EndTime   time.Time `json:"endTime,omitzero"`
	// Entities are the affected resources' values, such as domain ARNs.
	Entities []string `json:"entities,omitempty"`
}

// typeCodeRE is the model's eventTypeCode pattern; the code is also part of
// the event ARN, whose pattern allows no other characters.
var typeCodeRE = regexp.MustCompile(`^[a-zA-Z0-9_\-]{3,100}$`)

// Post stores a notice as an event and returns it.
func (s *Service) Post(ctx context.Context, n Notice) (Event, error) {
	now := ms(s.cfg.Clock.Now())
	if n.Category == "" {
		n.Category = string(healthapi.EventTypeCategoryScheduledChange)
	}
	if n.TypeCode == "" {
		switch healthapi.EventTypeCategory(n.Category) {
		case healthapi.EventTypeCategoryScheduledChange:
			n.TypeCode = TypeMaintenance
		case healthapi.EventTypeCategoryAccountNotification:
			n.TypeCode = TypeNotification
		default:
			n.TypeCode = TypeOperationalIssue
		}
	}
	if n.Service == "" {
		n.Service = ServiceConnect
	}
	if n.Region == "" {
		n.Region = s.cfg.Region
	}
	if n.StartTime.IsZero() {
		n.StartTime = now
	}
	// The notice must be something DescribeEvents can return: the same
	// constraints as the model's Event and EventFilter members.
	probe := healthapi.DescribeEventsRequest{Filter: &healthapi.EventFilter{
		EventTypeCodes:      []string{n.TypeCode},
		Services:            []string{n.Service},
		Regions:             []string{n.Region},
		EventTypeCategories: []healthapi.EventTypeCategory{healthapi.EventTypeCategory(n.Category)},
	}}
	if err := probe.Validate(); err != nil {
		return Event{}, fmt.Errorf("notice: %s", strings.TrimPrefix(err.Error(), "ValidationException: "))
	}
	if !typeCodeRE.MatchString(n.TypeCode) {
		return Event{}, fmt.Errorf("notice: eventTypeCode %q: want letters, digits, _ and - only", n.TypeCode)
	}
	if strings.TrimSpace(n.Description) == "" {
		return Event{}, fmt.Errorf("notice: description is required")
	}
	if !n.EndTime.IsZero() && n.EndTime.Before(n.StartTime) {
		return Event{}, fmt.Errorf("notice: endTime is before startTime")
	}
	actionability := healthapi.EventActionabilityInformational
	if n.Category == string(healthapi.EventTypeCategoryScheduledChange) {
		actionability = healthapi.EventActionabilityActionMayBeRequired
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.newEvent(n.Service, n.TypeCode, n.Category, n.Region, now, "admin")
	e.Actionability = string(actionability)
	e.StartTime, e.ends, e.Description = ms(n.StartTime), ms(n.EndTime), n.Description
	e.Entities = s.entities(n.Entities, now)
	s.scopeFromEntities(e)
	s.scheduleLocked(e, now)
	return e.clone(), nil
}

// Close closes the event with arn now. It reports false when there is no
// such event.
func (s *Service) Close(ctx context.Context, arn string) bool {
	now := ms(s.cfg.Clock.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		if e.ARN == arn {
			if e.Status != string(healthapi.EventStatusCodeClosed) {
				// An upcoming event closed now is called off: its
				// window shrinks to this instant.
				if e.StartTime.After(now) {
					e.StartTime = now
				}
				e.ends = now
				if e.Source != "admin" {
					s.closeLocked(e, now)
				} else {
					s.scheduleLocked(e, now)
				}
			}
			return true
		}
	}
	return false
}

func (s *Service) newEvent(service, code, category, region string, now time.Time, source string) *Event {
	id := strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", ""))
	e := &Event{
		ARN:           fmt.Sprintf("arn:aws:health:%s::event/%s/%s/%s_%s-%s", region, service, code, code, id[:6], id[6:12]),
		Service:       service,
		TypeCode:      code,
		Category:      category,
		Region:        region,
		Scope:         string(healthapi.EventScopeCodePublic),
		Actionability: string(healthapi.EventActionabilityInformational),
		Status:        string(healthapi.EventStatusCodeOpen),
		StartTime:     now,
		LastUpdated:   now,
		Source:        source,
	}
	s.events = append(s.events, e)
	return e
}

func (s *Service) entities(values []string, now time.Time) []Entity {
	out := make([]Entity, 0, len(values))
	for _, v := range values {
		id := strings.ReplaceAll(uuid.NewString(), "-", "")
		out = append(out, Entity{
			ARN:         fmt.Sprintf("arn:aws:health:%s:%s:entity/%s", s.cfg.Region, s.cfg.Account, id),
			Value:       v,
			Status:      string(healthapi.EntityStatusCodeImpaired),
			LastUpdated: now,
		})
	}
	return out
}

// scopeFromEntities makes an event with affected resources specific to the
// account, as AWS does; one without stays public.
func (s *Service) scopeFromEntities(e *Event) {
	if len(e.Entities) > 0 {
		e.Scope = string(healthapi.EventScopeCodeAccountSpecific)
	}
}

// scheduleLocked sets a posted event's status from its times.
func (s *Service) scheduleLocked(e *Event, now time.Time) {
	status := healthapi.EventStatusCodeOpen
	switch {
	case now.Before(e.StartTime):
		status = healthapi.EventStatusCodeUpcoming
	case !e.ends.IsZero() && !now.Before(e.ends):
		status = healthapi.EventStatusCodeClosed
	}
	if string(status) == e.Status {
		return
	}
	e.Status = string(status)
	e.LastUpdated = now
	if status == healthapi.EventStatusCodeClosed {
		e.EndTime = e.ends
		e.LastUpdated = e.ends
		for i := range e.Entities {
			e.Entities[i].Status = string(healthapi.EntityStatusCodeResolved)
			e.Entities[i].LastUpdated = e.ends
		}
	}
}

// sorted returns the events most recently updated first, as DescribeEvents
// lists them; ties go to the later ARN order for a stable listing.
func (s *Service) sorted() []*Event {
	out := append([]*Event(nil), s.events...)
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].LastUpdated.Equal(out[j].LastUpdated) {
			return out[i].LastUpdated.After(out[j].LastUpdated)
		}
		return out[i].ARN < out[j].ARN
	})
	return out
}
