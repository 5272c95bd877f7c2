package admin

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/localcases/localcases/events"
)

// EventQuery selects case events from GET /_localcases/events.
type EventQuery struct {
	// After is the cursor of an earlier page; "" starts at the oldest event
	// the server keeps.
	After string
	// Wait is how long the server may hold the call for a first event (at
	// most events.MaxWait); 0 answers at once.
	Wait time.Duration
	// DomainID keeps only one domain's events; "" is every domain.
	DomainID string
	// Limit bounds the page (1 to events.MaxLimit); 0 is the server's
	// default, events.MaxLimit.
	Limit int
}

// Events reads one page of case events (EventBridge envelopes, oldest
// first) and the cursor to continue from.
func (c *Client) Events(ctx context.Context, q EventQuery) (events.Page, error) {
	v := url.Values{}
	if q.After != "" {
		v.Set("after", q.After)
	}
	if q.Wait > 0 {
		v.Set("wait", strconv.FormatFloat(q.Wait.Seconds(), 'f', -1, 64))
	}
	if q.DomainID != "" {
		v.Set("domainId", q.DomainID)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := "events"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	hc := c.HTTP
	if hc.Timeout > 0 && hc.Timeout < q.Wait+10*time.Second {
		// A long poll may take its whole wait; the client's own timeout
		// must not cut it short.
		copy := *hc
		copy.Timeout = q.Wait + 10*time.Second
		hc = &copy
	}
	var page events.Page
	err := c.doWith(ctx, hc, http.MethodGet, path, nil, &page)
	return page, err
}
