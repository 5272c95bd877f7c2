// Package health is the emulated AWS Health API: an event store and the
// healthapi.Service that answers DescribeEvents, DescribeEventDetails,
// DescribeAffectedEntities, DescribeEventTypes, DescribeEventAggregates and
// DescribeEntityAggregates from it, with the model's filters and
// pagination.
//
// Events come from three places:
//
//   - a fault scenario (outage, brownout, flapping, throttle-storm, any
//     scenario file) opens an operational issue when it starts, updates it
//     at each phase, and closes it when it ends or is stopped;
//   - a fault rule with "announced": true opens one while it is active;
//   - the admin API posts scheduled changes and account notifications.
//
// The store holds events in memory only: like the fault state they
// describe, they do not outlive the server.
//
// Faults are never injected into the Health API itself, since an
// application reads it to learn about the faults. An account without a
// Business or Enterprise support plan is emulated with
// SetSubscriptionRequired: every operation then answers
// SubscriptionRequiredException, as AWS does.
package health
