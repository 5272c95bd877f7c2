package health

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/localcases/localcases/healthapi"
)

// Page sizes when maxResults is absent: the model's maximum, so a client
// that does not page still sees every event a test posts.
const defaultPage = 100

// begin checks the account may call the API and the locale, and brings the
// store up to date. It returns with s.mu held unless it fails.
func (s *Service) begin(ctx context.Context, locale *string) error {
	if s.subscriptionRequired.Load() {
		return healthapi.Errorf(healthapi.CodeSubscriptionRequiredException,
			"The AWS Support plan for account %s does not include the AWS Health API. A Business, Enterprise On-Ramp, or Enterprise Support plan is required.", s.cfg.Account)
	}
	// English is the only locale AWS Health supports.
	if locale != nil && !strings.EqualFold(*locale, "en") && !strings.HasPrefix(strings.ToLower(*locale), "en_") && !strings.HasPrefix(strings.ToLower(*locale), "en-") {
		return healthapi.Errorf(healthapi.CodeUnsupportedLocale, "The locale %s is not supported. The only supported locale is en.", *locale)
	}
	s.mu.Lock()
	s.syncLocked(ctx)
	return nil
}

// eventKey orders events most recently updated first, then by ARN.
func eventKey(e *Event) string {
	return fmt.Sprintf("%019d|%s", math.MaxInt64-e.LastUpdated.UnixNano(), e.ARN)
}

func (s *Service) DescribeEvents(ctx context.Context, in *healthapi.DescribeEventsRequest) (*healthapi.DescribeEventsResponse, error) {
	if err := s.begin(ctx, in.Locale); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var match []*Event
	for _, e := range s.sorted() {
		if matchEvent(in.Filter, e) {
			match = append(match, e)
		}
	}
	items, next, err := page(match, eventKey, in.NextToken, "DescribeEvents", in.MaxResults, defaultPage)
	if err != nil {
		return nil, err
	}
	out := &healthapi.DescribeEventsResponse{Events: []healthapi.Event{}, NextToken: next}
	for _, e := range items {
		out.Events = append(out.Events, e.wire())
	}
	return out, nil
}

func (s *Service) DescribeEventDetails(ctx context.Context, in *healthapi.DescribeEventDetailsRequest) (*healthapi.DescribeEventDetailsResponse, error) {
	if err := s.begin(ctx, in.Locale); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := &healthapi.DescribeEventDetailsResponse{
		SuccessfulSet: []healthapi.EventDetails{},
		FailedSet:     []healthapi.EventDetailsErrorItem{},
	}
	for _, arn := range in.EventArns {
		e := s.byARN(arn)
		if e == nil {
			out.FailedSet = append(out.FailedSet, healthapi.EventDetailsErrorItem{
				EventArn:     ptr(arn),
				ErrorName:    ptr("EventNotFoundException"),
				ErrorMessage: ptr(fmt.Sprintf("Event %s not found.", arn)),
			})
			continue
		}
		ev := e.wire()
		meta := map[string]string{}
		for k, v := range e.Metadata {
			meta[k] = v
		}
		out.SuccessfulSet = append(out.SuccessfulSet, healthapi.EventDetails{
			Event:            &ev,
			EventDescription: &healthapi.EventDescription{LatestDescription: ptr(e.Description)},
			EventMetadata:    meta,
		})
	}
	return out, nil
}

func (s *Service) byARN(arn string) *Event {
	for _, e := range s.events {
		if e.ARN == arn {
			return e
		}
	}
	return nil
}

type entityRow struct {
	e   *Event
	ent Entity
}

func (s *Service) DescribeAffectedEntities(ctx context.Context, in *healthapi.DescribeAffectedEntitiesRequest) (*healthapi.DescribeAffectedEntitiesResponse, error) {
	if err := s.begin(ctx, in.Locale); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	f := in.Filter
	var rows []entityRow
	for _, arn := range f.EventArns {
		e := s.byARN(arn)
		if e == nil {
			continue
		}
		for _, ent := range e.Entities {
			if anyOf(f.EntityArns, ent.ARN) && anyOf(f.EntityValues, ent.Value) &&
				inRanges(f.LastUpdatedTimes, ent.LastUpdated) && anyOf(f.StatusCodes, healthapi.EntityStatusCode(ent.Status)) &&
				tagsMatch(f.Tags, []Entity{ent}) {
				rows = append(rows, entityRow{e, ent})
			}
		}
	}
	key := func(r entityRow) string { return r.e.ARN + "|" + r.ent.ARN }
	sort.Slice(rows, func(i, j int) bool { return key(rows[i]) < key(rows[j]) })
	// Duplicate event ARNs in the filter must not list an entity twice.
	rows = dedupe(rows, key)
	items, next, err := page(rows, key, in.NextToken, "DescribeAffectedEntities", in.MaxResults, defaultPage)
	if err != nil {
		return nil, err
	}
	out := &healthapi.DescribeAffectedEntitiesResponse{Entities: []healthapi.AffectedEntity{}, NextToken: next}
	for _, r := range items {
		ae := healthapi.AffectedEntity{
			EntityArn:       ptr(r.ent.ARN),
			EventArn:        ptr(r.e.ARN),
			EntityValue:     ptr(r.ent.Value),
			AwsAccountId:    ptr(s.cfg.Account),
			LastUpdatedTime: healthapi.NewTime(r.ent.LastUpdated),
			StatusCode:      ptr(healthapi.EntityStatusCode(r.ent.Status)),
		}
		if len(r.ent.Tags) > 0 {
			ae.Tags = r.ent.Tags
		}
		out.Entities = append(out.Entities, ae)
	}
	return out, nil
}

func dedupe[T any](items []T, key func(T) string) []T {
	out := items[:0]
	for i, it := range items {
		if i == 0 || key(it) != key(items[i-1]) {
			out = append(out, it)
		}
	}
	return out
}

// eventType is one row of DescribeEventTypes.
type eventType struct {
	code, category, actionability string
}

// builtinTypes are the event types localcases posts; posted notices may add
// their own codes.
var builtinTypes = []eventType{
	{TypeMaintenance, string(healthapi.EventTypeCategoryScheduledChange), string(healthapi.EventTypeActionabilityActionMayBeRequired)},
	{TypeOperationalIssue, string(healthapi.EventTypeCategoryIssue), string(healthapi.EventTypeActionabilityInformational)},
	{TypeNotification, string(healthapi.EventTypeCategoryAccountNotification), string(healthapi.EventTypeActionabilityInformational)},
}

func (s *Service) DescribeEventTypes(ctx context.Context, in *healthapi.DescribeEventTypesRequest) (*healthapi.DescribeEventTypesResponse, error) {
	if err := s.begin(ctx, in.Locale); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	types := map[string]eventType{}
	services := map[string]string{}
	for _, t := range builtinTypes {
		types[ServiceConnect+"|"+t.code] = t
		services[ServiceConnect+"|"+t.code] = ServiceConnect
	}
	for _, e := range s.events {
		k := e.Service + "|" + e.TypeCode
		if _, ok := types[k]; !ok {
			types[k] = eventType{e.TypeCode, e.Category, e.Actionability}
			services[k] = e.Service
		}
	}
	f := in.Filter
	if f == nil {
		f = &healthapi.EventTypeFilter{}
	}
	var keys []string
	for k, t := range types {
		if anyOf(f.EventTypeCodes, t.code) && anyOf(f.Services, services[k]) &&
			anyOf(f.EventTypeCategories, healthapi.EventTypeCategory(t.category)) &&
			anyOf(f.Actionabilities, healthapi.EventTypeActionability(t.actionability)) &&
			anyOf(f.Personas, healthapi.EventTypePersonaOperations) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	items, next, err := page(keys, func(k string) string { return k }, in.NextToken, "DescribeEventTypes", in.MaxResults, defaultPage)
	if err != nil {
		return nil, err
	}
	out := &healthapi.DescribeEventTypesResponse{EventTypes: []healthapi.EventType{}, NextToken: next}
	for _, k := range items {
		t := types[k]
		out.EventTypes = append(out.EventTypes, healthapi.EventType{
			Service:       ptr(services[k]),
			Code:          ptr(t.code),
			Category:      ptr(healthapi.EventTypeCategory(t.category)),
			Actionability: ptr(healthapi.EventTypeActionability(t.actionability)),
			Personas:      []healthapi.EventTypePersona{healthapi.EventTypePersonaOperations},
		})
	}
	return out, nil
}

func (s *Service) DescribeEventAggregates(ctx context.Context, in *healthapi.DescribeEventAggregatesRequest) (*healthapi.DescribeEventAggregatesResponse, error) {
	if err := s.begin(ctx, nil); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	counts := map[string]int32{}
	for _, e := range s.events {
		if matchEvent(in.Filter, e) {
			counts[e.Category]++
		}
	}
	var cats []string
	for c := range counts {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	items, next, err := page(cats, func(c string) string { return c }, in.NextToken, "DescribeEventAggregates", in.MaxResults, defaultPage)
	if err != nil {
		return nil, err
	}
	out := &healthapi.DescribeEventAggregatesResponse{EventAggregates: []healthapi.EventAggregate{}, NextToken: next}
	for _, c := range items {
		out.EventAggregates = append(out.EventAggregates, healthapi.EventAggregate{AggregateValue: ptr(c), Count: ptr(counts[c])})
	}
	return out, nil
}

func (s *Service) DescribeEntityAggregates(ctx context.Context, in *healthapi.DescribeEntityAggregatesRequest) (*healthapi.DescribeEntityAggregatesResponse, error) {
	if err := s.begin(ctx, nil); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := &healthapi.DescribeEntityAggregatesResponse{EntityAggregates: []healthapi.EntityAggregate{}}
	arns := in.EventArns
	if arns == nil {
		for _, e := range s.sorted() {
			arns = append(arns, e.ARN)
		}
	}
	for _, arn := range arns {
		e := s.byARN(arn)
		if e == nil {
			continue
		}
		st := map[string]int32{}
		for _, ent := range e.Entities {
			st[ent.Status]++
		}
		out.EntityAggregates = append(out.EntityAggregates, healthapi.EntityAggregate{
			EventArn: ptr(arn), Count: ptr(int32(len(e.Entities))), Statuses: st,
		})
	}
	return out, nil
}

// DescribeHealthServiceStatusForOrganization answers as for an account
// that has not enabled the organizational view, which localcases does not
// emulate.
func (s *Service) DescribeHealthServiceStatusForOrganization(ctx context.Context, in *healthapi.DescribeHealthServiceStatusForOrganizationRequest) (*healthapi.DescribeHealthServiceStatusForOrganizationResponse, error) {
	if err := s.begin(ctx, nil); err != nil {
		return nil, err
	}
	s.mu.Unlock()
	return &healthapi.DescribeHealthServiceStatusForOrganizationResponse{HealthServiceAccessStatusForOrganization: ptr("DISABLED")}, nil
}

// matchEvent applies an EventFilter: every member given must match, and a
// list member matches when any of its values does.
func matchEvent(f *healthapi.EventFilter, e *Event) bool {
	if f == nil {
		return true
	}
	return anyOf(f.EventArns, e.ARN) && anyOf(f.EventTypeCodes, e.TypeCode) &&
		anyOf(f.Services, e.Service) && anyOf(f.Regions, e.Region) &&
		len(f.AvailabilityZones) == 0 &&
		inRanges(f.StartTimes, e.StartTime) && inRanges(f.EndTimes, e.EndTime) &&
		inRanges(f.LastUpdatedTimes, e.LastUpdated) &&
		anyOf(f.EventTypeCategories, healthapi.EventTypeCategory(e.Category)) &&
		anyOf(f.EventStatusCodes, healthapi.EventStatusCode(e.Status)) &&
		anyOf(f.Actionabilities, healthapi.EventActionability(e.Actionability)) &&
		anyOf(f.Personas, healthapi.EventPersonaOperations) &&
		entitiesMatch(f.EntityArns, e.Entities, func(x Entity) string { return x.ARN }) &&
		entitiesMatch(f.EntityValues, e.Entities, func(x Entity) string { return x.Value }) &&
		tagsMatch(f.Tags, e.Entities)
}

// anyOf reports whether v is in want, or want is empty (no filter).
func anyOf[T comparable](want []T, v T) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		if w == v {
			return true
		}
	}
	return false
}

func entitiesMatch(want []string, ents []Entity, field func(Entity) string) bool {
	if len(want) == 0 {
		return true
	}
	for _, x := range ents {
		if anyOf(want, field(x)) {
			return true
		}
	}
	return false
}

// tagsMatch: some entity carries every tag of some tag set.
func tagsMatch(sets []map[string]string, ents []Entity) bool {
	if len(sets) == 0 {
		return true
	}
	for _, set := range sets {
		for _, x := range ents {
			ok := true
			for k, v := range set {
				if x.Tags[k] != v {
					ok = false
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// inRanges: t falls in one of the ranges, each bound inclusive and
// optional. A zero t (an open event's end) is in none.
func inRanges(ranges []healthapi.DateTimeRange, t time.Time) bool {
	if len(ranges) == 0 {
		return true
	}
	if t.IsZero() {
		return false
	}
	for _, r := range ranges {
		if (r.From == nil || !t.Before(r.From.Time)) && (r.To == nil || !t.After(r.To.Time)) {
			return true
		}
	}
	return false
}
