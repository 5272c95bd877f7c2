package eventsink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
)

// The retryable PutEvents entry error codes, from the events model's
// PutEventsResultEntry.ErrorCode documentation; every other code is
// permanent (AccessDeniedException, InvalidAccountIdException,
// InvalidArgument, MalformedDetail, RedactionFailure,
// NotAuthorizedForSourceException, NotAuthorizedForDetailTypeException).
var retryableEntryCodes = map[string]bool{"InternalFailure": true, "ThrottlingException": true}

// entryRetries is how many times one Deliver sends again the entries a
// PutEvents answer reports failed with a retryable code.
const entryRetries = 3

// entryRetryBase is the first pause before such a resend; it doubles, with
// full jitter.
var entryRetryBase = 100 * time.Millisecond

// maxBatchEntries is PutEvents's cap on entries per request.
const maxBatchEntries = 10

// timeEntryBytes is what a set Time counts towards an entry's size.
const timeEntryBytes = 14

type eventBridgeSink struct {
	client   *eventbridge.Client
	bus      string
	source   string
	maxBytes int
	shown    string
}

func newEventBridge(spec Spec, opts Options) (*eventBridgeSink, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = osGetenv
	}
	region := spec.Region
	if region == "" {
		region = opts.Region
	}
	key, secret, token := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN")
	if key == "" || secret == "" {
		if spec.Endpoint == "" {
			return nil, fmt.Errorf("eventsink %s: PutEvents to AWS needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", spec)
		}
		key, secret, token = "test", "test", ""
	}
	o := eventbridge.Options{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, token),
		HTTPClient:  &http.Client{Transport: opts.Transport, Timeout: opts.Timeout},
	}
	if spec.Endpoint != "" {
		o.BaseEndpoint = aws.String(spec.Endpoint)
	}
	return &eventBridgeSink{
		client:   eventbridge.New(o),
		bus:      spec.Bus,
		source:   spec.Source,
		maxBytes: spec.MaxBytes,
		shown:    spec.String(),
	}, nil
}

// envelope is the part of an EventBridge envelope PutEvents carries.
type envelope struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       string          `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// Entry maps an envelope to a PutEvents entry (see the package
// documentation); source, when not "", replaces the envelope's.
func Entry(data []byte, bus, source string) (types.PutEventsRequestEntry, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return types.PutEventsRequestEntry{}, fmt.Errorf("event is not an envelope: %w", err)
	}
	if source == "" {
		source = env.Source
	}
	e := types.PutEventsRequestEntry{
		Source:       aws.String(source),
		DetailType:   aws.String(env.DetailType),
		Detail:       aws.String(string(env.Detail)),
		Resources:    env.Resources,
		EventBusName: aws.String(bus),
	}
	if env.Time != "" {
		t, err := time.Parse(time.RFC3339, env.Time)
		if err != nil {
			return types.PutEventsRequestEntry{}, fmt.Errorf("event time %q: %w", env.Time, err)
		}
		e.Time = aws.Time(t)
	}
	return e, nil
}

// EntrySize is an entry's size as AWS counts it against the PutEvents cap:
// https://docs.aws.amazon.com/eventbridge/latest/userguide/calculate-putevents-entry-size.html
func EntrySize(e types.PutEventsRequestEntry) int {
	n := 0
	if e.Time != nil {
		n += timeEntryBytes
	}
	n += len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// pending is one event on its way: its index in Deliver's slice and entry.
type pending struct {
	i     int
	entry types.PutEventsRequestEntry
	size  int
}

func (s *eventBridgeSink) Deliver(ctx context.Context, events []Event) []error {
	errs := make([]error, len(events))
	var todo []pending
	for i, ev := range events {
		e, err := Entry(ev.Data, s.bus, s.source)
		if err != nil {
			errs[i] = Permanent(fmt.Errorf("eventbridge %s: %w", s.shown, err))
			continue
		}
		size := EntrySize(e)
		if size > s.maxBytes {
			errs[i] = Permanent(fmt.Errorf("eventbridge %s: the entry is %d bytes, over the %d-byte PutEvents cap", s.shown, size, s.maxBytes))
			continue
		}
		todo = append(todo, pending{i: i, entry: e, size: size})
	}
	for len(todo) > 0 {
		batch := nextBatch(todo, s.maxBytes)
		todo = todo[len(batch):]
		s.send(ctx, batch, errs)
	}
	return errs
}

// nextBatch takes from the front of todo as many entries as one request
// holds: at most 10, with sizes adding up to at most maxBytes.
func nextBatch(todo []pending, maxBytes int) []pending {
	total := 0
	for n, p := range todo {
		if n == maxBatchEntries || total+p.size > maxBytes {
			return todo[:n]
		}
		total += p.size
	}
	return todo
}

// send puts one batch, sending again the entries that fail with a
// retryable code, and records each entry's outcome in errs.
func (s *eventBridgeSink) send(ctx context.Context, batch []pending, errs []error) {
	for attempt := 0; ; attempt++ {
		entries := make([]types.PutEventsRequestEntry, len(batch))
		for k, p := range batch {
			entries[k] = p.entry
		}
		out, err := s.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil {
			err = fmt.Errorf("eventbridge %s: PutEvents: %w", s.shown, err)
			if permanentCallError(err) {
				err = Permanent(err)
			}
			for _, p := range batch {
				errs[p.i] = err
			}
			return
		}
		if len(out.Entries) != len(batch) {
			err := fmt.Errorf("eventbridge %s: PutEvents answered %d entries for %d", s.shown, len(out.Entries), len(batch))
			for _, p := range batch {
				errs[p.i] = err
			}
			return
		}
		var again []pending
		for k, r := range out.Entries {
			p := batch[k]
			code := aws.ToString(r.ErrorCode)
			if code == "" {
				errs[p.i] = nil
				continue
			}
			err := fmt.Errorf("eventbridge %s: entry failed: %s: %s", s.shown, code, aws.ToString(r.ErrorMessage))
			if !retryableEntryCodes[code] {
				errs[p.i] = Permanent(err)
				continue
			}
			errs[p.i] = err
			again = append(again, p)
		}
		if len(again) == 0 || attempt == entryRetries {
			return
		}
		pause := time.Duration(rand.Int64N(int64(entryRetryBase) << attempt))
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		batch = again
	}
}

// permanentCallError: a whole PutEvents call refused for a reason that a
// resend cannot change (a 4xx other than throttling or a timeout).
func permanentCallError(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "ThrottlingException" || ae.ErrorFault() == smithy.FaultServer) {
		return false
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		return false
	}
	code := re.HTTPStatusCode()
	return code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests
}

func (s *eventBridgeSink) Close() error { return nil }
