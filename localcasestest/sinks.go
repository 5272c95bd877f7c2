package localcasestest

import "github.com/localcases/localcases/internal/server"

// WithEventSink delivers the server's case events to a sink from the start,
// as `serve --event-sink` does: url is a webhook (http://…) or an
// EventBridge-compatible endpoint (eventbridge+http://host:port?…), pattern
// an EventBridge event pattern (JSON) or "" for every event, and name what
// fault rules (fault.Rule.Sink), dead letters and Admin().Sinks call it.
// A bad URL or pattern makes New fail the test. Admin() adds and removes
// sinks while the server runs.
func WithEventSink(name, url, pattern string) Option {
	return func(s *settings) {
		s.sinks = append(s.sinks, server.SinkEntry{Name: name, URL: url, Pattern: server.Pattern(pattern)})
	}
}
