package eventsink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Event is one event to deliver.
type Event struct {
	// ID is the envelope's id, which consumers de-duplicate by.
	ID string
	// Data is the EventBridge envelope as published (JSON).
	Data []byte
}

// Sink delivers events to one destination.
type Sink interface {
	// Deliver sends events, in order, and returns one error per event: nil
	// when that event was delivered. An error for which IsPermanent holds
	// will not go away by retrying; the others may. Deliver returns when
	// every event has its outcome or ctx ends (the events left then fail
	// with ctx's error). After a retryable failure a sink may leave the
	// later events unsent, with ErrNotAttempted, to keep their order; a
	// webhook does.
	Deliver(ctx context.Context, events []Event) []error
	// Close releases idle connections.
	Close() error
}

// Defaults.
const (
	// DefaultTimeout bounds one HTTP exchange with a sink.
	DefaultTimeout = 10 * time.Second
	// DefaultRegion signs PutEvents when neither the URL nor Options name one.
	DefaultRegion = "us-east-1"
)

// Options tune the sinks New builds. The zero value is the documented default.
type Options struct {
	// Timeout bounds one HTTP request (a webhook POST, a PutEvents call).
	// Default DefaultTimeout.
	Timeout time.Duration
	// Region signs PutEvents when the URL has no region=. Default
	// DefaultRegion.
	Region string
	// Transport carries the HTTP requests. Default: a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
	// UserAgent is sent on webhook POSTs. Default "localcases".
	UserAgent string
	// Getenv reads the credentials of PutEvents. Default os.Getenv.
	Getenv func(string) string
	// Logger is for operational messages. Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if o.UserAgent == "" {
		o.UserAgent = "localcases"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// New builds the sink spec names.
func New(spec Spec, opts Options) (Sink, error) {
	opts = opts.withDefaults()
	switch spec.Kind {
	case KindWebhook:
		return newWebhook(spec, opts), nil
	case KindEventBridge:
		return newEventBridge(spec, opts)
	}
	return nil, fmt.Errorf("eventsink: unknown sink kind %q", spec.Kind)
}

// ErrNotAttempted is the outcome of an event a Deliver call did not try to
// send because an earlier event of the call failed and may be retried:
// sending it anyway would put it ahead of the failed one. It is not a
// delivery attempt.
var ErrNotAttempted = errors.New("not attempted: an earlier event of the batch failed")

// PermanentError marks a failure that retrying will not mend: the sink
// refused the event itself (a 4xx, an entry EventBridge rejects for good, an
// event too large to send).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError.
func Permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err, or an error it wraps, is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// fill sets every nil entry of errs from i on to err.
func fill(errs []error, i int, err error) {
	for ; i < len(errs); i++ {
		if errs[i] == nil {
			errs[i] = err
		}
	}
}

var osGetenv = os.Getenv
