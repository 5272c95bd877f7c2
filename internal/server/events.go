package server

import (
	"log/slog"
	"time"

	"github.com/localcases/localcases/dispatch"
	"github.com/localcases/localcases/events"
)

// postgresRecheck is how often an event reader on a PostgreSQL store
// re-reads the outbox while it waits: other servers on the database commit
// events this one's notifier never hears of.
const postgresRecheck = 200 * time.Millisecond

// openEvents serves GET /_localcases/events inside the admin namespace, so
// it has the namespace's protection (loopback or the admin token, and the
// browser guard), and starts trimming the outbox.
func (s *Server) openEvents() {
	log := s.cfg.Logger.With("subsystem", "events")
	opts := events.Options{Store: s.store, Notifier: s.notifier, Done: s.eventsDone, Logger: log,
		Keepalive: time.Duration(s.cfg.Events.StreamKeepalive)}
	if s.store.Kind() == "postgres" {
		opts.Recheck = postgresRecheck
	}
	s.admin.Handle("GET "+events.Path, events.NewHandler(opts))
	s.retainer = events.StartRetainer(s.store, s.cfg.Events.retention(s.cfg, log))
}

func (c EventsConfig) retention(cfg Config, log *slog.Logger) events.Retention {
	// Retention never trims an event a sink's delivery cursor has not passed.
	r := events.Retention{Count: c.RetainCount, Age: time.Duration(c.RetainAge), Interval: time.Duration(c.TrimInterval),
		Clock: cfg.Clock, Logger: log, Pin: dispatch.TrimBound}
	if r.Count == 0 {
		r.Count = events.DefaultRetainCount
	}
	if r.Age == 0 {
		r.Age = events.DefaultRetainAge
	}
	return r
}

// EventNotifier is told whenever a transaction that appended case events
// commits in this server; delivery components wait on it.
func (s *Server) EventNotifier() *events.Notifier { return s.notifier }
