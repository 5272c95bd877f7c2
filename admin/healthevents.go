package admin

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/localcases/localcases/health"
)

// RegisterHealthEvents adds the control of the emulated AWS Health API:
//
//	GET  /_localcases/health/events          every event, most recently updated first
//	POST /_localcases/health/events          post a scheduled change or account notification (health.Notice)
//	POST /_localcases/health/events/close    close an event now: {"arn": "..."}
//	GET  /_localcases/health/subscription    {"required": false}
//	PUT  /_localcases/health/subscription    {"required": true} answers SubscriptionRequiredException
func RegisterHealthEvents(h *Handler, svc *health.Service) {
	p := Prefix + "health/"
	h.Handle("GET "+p+"events", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, svc.Events(r.Context()))
	}))
	h.Handle("POST "+p+"events", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n health.Notice
		if !decodeStrictBody(w, r, &n) {
			return
		}
		ev, err := svc.Post(r.Context(), n)
		if err != nil {
			badRequest(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, ev)
	}))
	h.Handle("POST "+p+"events/close", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			ARN string `json:"arn"`
		}
		if !decodeStrictBody(w, r, &in) {
			return
		}
		if !svc.Close(r.Context(), in.ARN) {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no health event " + in.ARN})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"closed": in.ARN})
	}))
	h.Handle("GET "+p+"subscription", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, HealthSubscription{Required: svc.SubscriptionRequired()})
	}))
	h.Handle("PUT "+p+"subscription", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in HealthSubscription
		if !decodeStrictBody(w, r, &in) {
			return
		}
		svc.SetSubscriptionRequired(in.Required)
		writeJSON(w, http.StatusOK, in)
	}))
}

// HealthSubscription is whether the emulated account lacks the support
// plan the AWS Health API requires.
type HealthSubscription struct {
	Required bool `json:"required"`
}

// decodeStrictBody reads a small JSON body, rejecting unknown members so a
// typo does not post a different event than meant; on error it answers 400.
func decodeStrictBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		badRequest(w, err)
		return false
	}
	return true
}

// HealthEvents lists the emulated AWS Health events.
func (c *Client) HealthEvents(ctx context.Context) ([]health.Event, error) {
	var out []health.Event
	return out, c.do(ctx, http.MethodGet, "health/events", nil, &out)
}

// PostHealthEvent posts a scheduled change, account notification or issue.
func (c *Client) PostHealthEvent(ctx context.Context, n health.Notice) (health.Event, error) {
	var out health.Event
	return out, c.do(ctx, http.MethodPost, "health/events", n, &out)
}

// CloseHealthEvent closes an event now.
func (c *Client) CloseHealthEvent(ctx context.Context, arn string) error {
	return c.do(ctx, http.MethodPost, "health/events/close", map[string]string{"arn": arn}, nil)
}

// SetHealthSubscriptionRequired switches SubscriptionRequiredException on
// or off.
func (c *Client) SetHealthSubscriptionRequired(ctx context.Context, required bool) error {
	return c.do(ctx, http.MethodPut, "health/subscription", HealthSubscription{Required: required}, nil)
}
