package admin

import (
	"context"
	"net/http"
)

// Throttle reads the token-bucket throttling: whether it is on and each
// operation's limit.
func (c *Client) Throttle(ctx context.Context) (Throttle, error) {
	var out Throttle
	return out, c.do(ctx, http.MethodGet, "throttle", nil, &out)
}

// SetThrottle turns throttling on or off; limits named in t.Operations
// replace those operations' limits, the others stay.
func (c *Client) SetThrottle(ctx context.Context, t Throttle) (Throttle, error) {
	var out Throttle
	return out, c.do(ctx, http.MethodPut, "throttle", t, &out)
}
