package eventsink

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// webhook POSTs each event alone to a URL.
type webhook struct {
	url    string
	shown  string
	client *http.Client
	ua     string
}

func newWebhook(spec Spec, opts Options) *webhook {
	return &webhook{
		url:   spec.Endpoint,
		shown: spec.String(),
		ua:    opts.UserAgent,
		client: &http.Client{
			Transport: opts.Transport,
			Timeout:   opts.Timeout,
			// A redirected POST would deliver the event somewhere the
			// configuration does not name.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

func (w *webhook) Deliver(ctx context.Context, events []Event) []error {
	errs := make([]error, len(events))
	for i, ev := range events {
		if err := ctx.Err(); err != nil {
			fill(errs, i, err)
			break
		}
		errs[i] = w.post(ctx, ev)
		if errs[i] != nil && !IsPermanent(errs[i]) {
			fill(errs, i+1, ErrNotAttempted)
			break
		}
	}
	return errs
}

// maxErrorBody is how much of a refusal's body an error quotes.
const maxErrorBody = 200

func (w *webhook) post(ctx context.Context, ev Event) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(ev.Data))
	if err != nil {
		return Permanent(fmt.Errorf("webhook %s: %w", w.shown, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", w.ua)
	req.Header.Set("X-Localcases-Event-Id", ev.ID)
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.shown, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	// Drain a little more so the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("webhook %s answered %s", w.shown, resp.Status)
	if s := strings.TrimSpace(string(body)); s != "" {
		err = fmt.Errorf("%w: %s", err, s)
	}
	if retryableStatus(resp.StatusCode) {
		return err
	}
	return Permanent(err)
}

// retryableStatus: answers that say "not now" rather than "not this".
func retryableStatus(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		return true
	case code >= 500:
		return true
	}
	return false
}

func (w *webhook) Close() error {
	w.client.CloseIdleConnections()
	return nil
}
