package health

import (
	"time"

	"github.com/localcases/localcases/healthapi"
)

// Service names and event type codes localcases posts, in AWS's style.
const (
	ServiceConnect = "CONNECT"
	// TypeOperationalIssue is a fault scenario's or announced rule's event.
	TypeOperationalIssue = "AWS_CONNECT_OPERATIONAL_ISSUE"
	// TypeMaintenance is the default of a posted scheduled change.
	TypeMaintenance = "AWS_CONNECT_MAINTENANCE_SCHEDULED"
	// TypeNotification is the default of a posted account notification.
	TypeNotification = "AWS_CONNECT_OPERATIONAL_NOTIFICATION"
)

// Event is one stored AWS Health event.
type Event struct {
	ARN           string            `json:"arn"`
	Service       string            `json:"service"`
	TypeCode      string            `json:"eventTypeCode"`
	Category      string            `json:"eventTypeCategory"`
	Region        string            `json:"region"`
	Scope         string            `json:"eventScopeCode"`
	Actionability string            `json:"actionability"`
	Status        string            `json:"statusCode"`
	StartTime     time.Time         `json:"startTime"`
	EndTime       time.Time         `json:"endTime,omitzero"`
	LastUpdated   time.Time         `json:"lastUpdatedTime"`
	Description   string            `json:"description"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	Entities      []Entity          `json:"entities,omitempty"`
	// Source says what opened the event: "scenario", "rule" or "admin".
	Source string `json:"source"`

	key     string    // what the event tracks, e.g. the scenario run
	impact  impact    // how an issue's posts word it
	updates []update  // the posts its description is made of
	ops     []string  // operations seen affected, in order
	ends    time.Time // a posted event's scheduled end (zero: none)
}

// Entity is a resource an event affects.
type Entity struct {
	ARN         string            `json:"entityArn"`
	Value       string            `json:"entityValue"`
	Status      string            `json:"statusCode"`
	LastUpdated time.Time         `json:"lastUpdatedTime"`
	Tags        map[string]string `json:"tags,omitempty"`
}

type update struct {
	at   time.Time
	text string
}

func (e *Event) wire() healthapi.Event {
	out := healthapi.Event{
		Arn:               &e.ARN,
		Service:           &e.Service,
		EventTypeCode:     &e.TypeCode,
		EventTypeCategory: ptr(healthapi.EventTypeCategory(e.Category)),
		Region:            &e.Region,
		EventScopeCode:    ptr(healthapi.EventScopeCode(e.Scope)),
		Actionability:     ptr(healthapi.EventActionability(e.Actionability)),
		Personas:          []healthapi.EventPersona{healthapi.EventPersonaOperations},
		StatusCode:        ptr(healthapi.EventStatusCode(e.Status)),
		StartTime:         healthapi.NewTime(e.StartTime),
		LastUpdatedTime:   healthapi.NewTime(e.LastUpdated),
	}
	if !e.EndTime.IsZero() {
		out.EndTime = healthapi.NewTime(e.EndTime)
	}
	return out
}

func (e *Event) clone() Event {
	c := *e
	c.Entities = append([]Entity(nil), e.Entities...)
	c.Metadata = make(map[string]string, len(e.Metadata))
	for k, v := range e.Metadata {
		c.Metadata[k] = v
	}
	c.updates, c.ops = nil, nil
	return c
}

func ptr[T any](v T) *T { return &v }

// ms is t in UTC at the wire's millisecond precision, so a time a client
// copies from a response into a filter matches the event it came from.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
