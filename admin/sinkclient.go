package admin

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/localcases/localcases/dispatch"
)

// Sinks lists the event sinks with their progress.
func (c *Client) Sinks(ctx context.Context) ([]dispatch.SinkStatus, error) {
	var out struct{ Sinks []dispatch.SinkStatus }
	err := c.do(ctx, "GET", "sinks", nil, &out)
	return out.Sinks, err
}

// AddSink adds an event sink; pattern is an EventBridge event pattern
// (JSON) or "" for every event. replace changes the URL or pattern of an
// existing sink of that name, keeping its cursor and dead letters;
// otherwise a name taken by another URL or pattern is an error.
func (c *Client) AddSink(ctx context.Context, name, sinkURL, pattern string, replace bool) (dispatch.SinkStatus, error) {
	req := SinkRequest{Name: name, URL: sinkURL}
	if pattern != "" {
		p, _ := json.Marshal(pattern)
		req.Pattern = p
	}
	path := "sinks"
	if replace {
		path += "?replace=true"
	}
	var out dispatch.SinkStatus
	err := c.do(ctx, "POST", path, req, &out)
	return out, err
}

// DeleteSink deletes an event sink, its cursor and its dead letters.
func (c *Client) DeleteSink(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "sinks/"+url.PathEscape(name), nil, nil)
}

// DeadLetters lists the dead letters of a sink ("" for every sink).
func (c *Client) DeadLetters(ctx context.Context, sink string) ([]dispatch.DeadLetter, error) {
	var out struct{ DeadLetters []dispatch.DeadLetter }
	err := c.do(ctx, "GET", "dead-letters"+query(sink, nil), nil, &out)
	return out.DeadLetters, err
}

// Replay sends dead letters again: those of sink ("" for every sink) with
// the given event IDs (every one when none).
func (c *Client) Replay(ctx context.Context, sink string, eventIDs []string) (ReplayResponse, error) {
	var out ReplayResponse
	err := c.do(ctx, "POST", "dead-letters/replay", ReplayRequest{Sink: sink, EventIDs: eventIDs}, &out)
	return out, err
}

// DeleteDeadLetters deletes dead letters, selected as Replay selects them,
// and returns how many.
func (c *Client) DeleteDeadLetters(ctx context.Context, sink string, eventIDs []string) (int, error) {
	var out struct{ Deleted int }
	err := c.do(ctx, "DELETE", "dead-letters"+query(sink, eventIDs), nil, &out)
	return out.Deleted, err
}

func query(sink string, eventIDs []string) string {
	q := url.Values{}
	if sink != "" {
		q.Set("sink", sink)
	}
	for _, id := range eventIDs {
		q.Add("eventId", id)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}
