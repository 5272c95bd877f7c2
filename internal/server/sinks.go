package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/dispatch"
	"github.com/localcases/localcases/events"
	"github.com/localcases/localcases/eventsink"
)

// SinkEntry is an event sink of the configuration: `serve --event-sink`,
// or the events.sinks list of the config file.
type SinkEntry struct {
	// Name identifies the sink (admin API, dead letters, fault rules).
	// Default: derived from the URL and pattern.
	Name string `yaml:"name" json:"name,omitempty"`
	// URL is the sink URL (see package eventsink).
	URL string `yaml:"url" json:"url"`
	// Pattern is an EventBridge event pattern: an object, or a string
	// holding its JSON. Empty: every event.
	Pattern Pattern `yaml:"pattern" json:"pattern,omitempty"`
	// Origin is "flag" for --event-sink, "config" otherwise.
	Origin string `yaml:"-" json:"-"`
}

// Pattern is an event pattern's JSON text, which a config file may write
// as a string or as a YAML or JSON object.
type Pattern string

func (p *Pattern) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = Pattern(s)
		return nil
	}
	*p = Pattern(b)
	return nil
}

func (p *Pattern) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*p = Pattern(n.Value)
		return nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("pattern: %w", err)
	}
	*p = Pattern(b)
	return nil
}

func (e SinkEntry) config() dispatch.SinkConfig {
	origin := e.Origin
	if origin == "" {
		origin = "config"
	}
	return dispatch.SinkConfig{Name: e.Name, URL: e.URL, Pattern: string(e.Pattern), Origin: origin}
}

// DeliveryConfig tunes the delivery of events to sinks; zero values keep
// the defaults.
type DeliveryConfig struct {
	// Timeout bounds one request to a sink. Default 10s.
	Timeout events.Duration `yaml:"timeout" json:"timeout,omitempty"`
	// QueueSize bounds the events read ahead for one sink. Default 1000.
	QueueSize int `yaml:"queueSize" json:"queueSize,omitempty"`
	// Retry bounds the retries of a failing event before it is
	// dead-lettered: backoff from Initial (default 500ms) doubling to Max
	// (default 30s), with full jitter, until MaxAttempts (default 8)
	// attempts or MaxAge (default 10m) since the change committed.
	Retry RetryConfig `yaml:"retry" json:"retry,omitzero"`
}

// RetryConfig is DeliveryConfig.Retry.
type RetryConfig struct {
	Initial     events.Duration `yaml:"initial" json:"initial,omitempty"`
	Max         events.Duration `yaml:"max" json:"max,omitempty"`
	MaxAttempts int             `yaml:"maxAttempts" json:"maxAttempts,omitempty"`
	MaxAge      events.Duration `yaml:"maxAge" json:"maxAge,omitempty"`
}

// checkSinks reports the first configured sink that cannot start.
func (c *EventsConfig) checkSinks() error {
	for i, e := range c.Sinks {
		if _, _, _, err := e.config().Check(); err != nil {
			return fmt.Errorf("event sink %d (%s): %w", i+1, e.URL, err)
		}
	}
	if c.Delivery.QueueSize < 0 || c.Delivery.Retry.MaxAttempts < 0 {
		return fmt.Errorf("events.delivery: queueSize and retry.maxAttempts must not be negative")
	}
	return nil
}

// openSinks starts delivering the outbox to the sinks, adds those of the
// configuration (replacing a stored one of the same name), and serves
// /_localcases/sinks and /_localcases/dead-letters.
func (s *Server) openSinks(ctx context.Context) error {
	log := s.cfg.Logger.With("subsystem", "delivery")
	dc := s.cfg.Events.Delivery
	d := dispatch.New(dispatch.Options{
		Store: s.store,
		Sink:  eventsink.Options{Timeout: time.Duration(dc.Timeout), Region: s.cfg.Region, UserAgent: "localcases/" + s.cfg.Version, Logger: log},
		Retry: dispatch.RetryPolicy{
			Initial: time.Duration(dc.Retry.Initial), Max: time.Duration(dc.Retry.Max),
			MaxAttempts: dc.Retry.MaxAttempts, MaxAge: time.Duration(dc.Retry.MaxAge),
		},
		QueueSize: dc.QueueSize,
		// Only PostgreSQL is shared by several servers.
		Exclusive: s.store.Kind() != "postgres",
		Faults:    s.faults,
		Recorder:  s.records,
		Observe:   s.observeDelivery,
		Logger:    log,
	})
	for _, e := range s.cfg.Events.Sinks {
		c, err := d.AddSink(ctx, e.config(), true)
		if err != nil {
			return fmt.Errorf("event sink %s: %w", e.URL, err)
		}
		log.Info("event sink", "sink", c.Name, "origin", c.Origin, "pattern", c.Pattern)
	}
	s.dispatcher = d
	(&admin.Sinks{Dispatcher: d, Logger: log}).Register(s.admin)
	d.Start()
	go func() {
		for {
			wait := s.notifier.Wait()
			select {
			case <-wait:
				d.Wake()
			case <-s.eventsDone:
				return
			}
		}
	}()
	return nil
}

// observeDelivery counts deliveries by sink and result, and event faults,
// in the metrics.
func (s *Server) observeDelivery(o dispatch.Outcome) {
	if o.Result == dispatch.Faulted {
		s.metrics.FaultInjected("events", string(o.Fault))
		return
	}
	s.metrics.Delivery(o.Sink, string(o.Result))
}

// Dispatcher returns the event dispatcher.
func (s *Server) Dispatcher() *dispatch.Dispatcher { return s.dispatcher }
