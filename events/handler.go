package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/localcases/localcases"
)

// Path is where Handler is served.
const Path = "/_localcases/events"

// Limits of a poll.
const (
	// MaxWait is the longest a poll waits for an event.
	MaxWait = 20 * time.Second
	// MaxLimit is the most events one answer holds, and the default.
	MaxLimit = 1000
	// DefaultRecheck is how often a waiting reader re-reads the outbox
	// without a notification.
	DefaultRecheck = time.Second
	// DefaultKeepalive is the interval of a stream's keepalive comments.
	DefaultKeepalive = 15 * time.Second
)

// Options configure a Handler.
type Options struct {
	Store localcases.Store
	// Notifier wakes waiting readers on commit; nil: they only recheck.
	Notifier *Notifier
	// Recheck is how often a waiting reader re-reads the outbox anyway,
	// which is how it sees events that another server committed to a
	// shared database. Default DefaultRecheck.
	Recheck time.Duration
	// Keepalive is the interval of a stream's keepalive comments. Default
	// DefaultKeepalive.
	Keepalive time.Duration
	// Done, when closed, ends every wait and stream: the server is stopping.
	Done   <-chan struct{}
	Logger *slog.Logger
}

// Handler serves GET /_localcases/events. It adds no protection of its
// own: mount it where the admin namespace's protection applies.
type Handler struct{ o Options }

// NewHandler returns a Handler.
func NewHandler(o Options) *Handler {
	if o.Recheck <= 0 {
		o.Recheck = DefaultRecheck
	}
	if o.Keepalive <= 0 {
		o.Keepalive = DefaultKeepalive
	}
	if o.Notifier == nil {
		o.Notifier = &Notifier{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{o: o}
}

// Page is the answer to a poll.
type Page struct {
	// Events are EventBridge envelopes, oldest first.
	Events []json.RawMessage `json:"events"`
	// Cursor is what the next poll passes as after to continue.
	Cursor string `json:"cursor"`
}

// query is a validated request.
type query struct {
	after  int64
	wait   time.Duration
	domain string
	limit  int
}

func parseQuery(r *http.Request) (query, error) {
	q := query{limit: MaxLimit}
	vals := r.URL.Query()
	for k := range vals {
		switch k {
		case "after", "wait", "domainId", "limit":
		default:
			return q, fmt.Errorf("unknown parameter %q: the events endpoint takes after, wait, domainId and limit", k)
		}
		if len(vals[k]) > 1 {
			return q, fmt.Errorf("parameter %s is given %d times; give it once", k, len(vals[k]))
		}
	}
	var err error
	if q.after, err = ParseCursor(vals.Get("after")); err != nil {
		return q, err
	}
	if s := vals.Get("wait"); s != "" {
		sec, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(sec) || sec < 0 || sec > MaxWait.Seconds() {
			return q, fmt.Errorf("wait=%q: wait is a number of seconds from 0 to %d", clip(s), int(MaxWait.Seconds()))
		}
		q.wait = time.Duration(sec * float64(time.Second))
	}
	q.domain = vals.Get("domainId")
	if len(q.domain) > 500 {
		return q, fmt.Errorf("domainId is longer than 500 characters")
	}
	if s := vals.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return q, fmt.Errorf("limit=%q: limit is a whole number from 1 to %d", clip(s), MaxLimit)
		}
		q.limit = n
	}
	return q, nil
}

// ParseCursor reads a cursor; "" is the start of the outbox (the oldest
// event kept).
func ParseCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("cursor %q is not one this server gave out: pass the cursor of an earlier answer, or nothing to start from the oldest event kept", clip(s))
	}
	return n, nil
}

// FormatCursor writes a cursor.
func FormatCursor(seq int64) string { return strconv.FormatInt(seq, 10) }

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "the events endpoint answers GET only")
		return
	}
	q, err := parseQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if wantsStream(r) {
		if id := r.Header.Get("Last-Event-ID"); id != "" {
			if q.after, err = ParseCursor(id); err != nil {
				writeError(w, http.StatusBadRequest, "Last-Event-ID: "+err.Error())
				return
			}
		}
		h.stream(w, r, q)
		return
	}
	page, err := h.poll(r.Context(), q)
	if err != nil {
		var ahead *CursorAheadError
		switch {
		case r.Context().Err() != nil:
			return // the client left
		case errors.As(err, &ahead):
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		h.o.Logger.Error("events: reading the outbox failed", "err", err)
		writeError(w, http.StatusInternalServerError, "reading the event outbox failed: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func wantsStream(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
			return true
		}
	}
	return false
}

// CursorAheadError is a cursor past the newest event the outbox ever
// held: it came from another server or from before a memory store
// restarted, and waiting on it would wait for nothing it can name.
type CursorAheadError struct{ Cursor, Last int64 }

func (e *CursorAheadError) Error() string {
	return fmt.Sprintf("cursor %d is past the newest event this server has published (%d): it is from another server, or from before this one restarted with an empty store; start again with no cursor", e.Cursor, e.Last)
}

func (h *Handler) list(ctx context.Context, after int64, domain string, limit int) ([]localcases.OutboxEvent, error) {
	var evs []localcases.OutboxEvent
	err := h.o.Store.View(ctx, func(tx localcases.Tx) (err error) {
		evs, err = tx.ListEvents(after, domain, limit)
		if err != nil || len(evs) > 0 || after == 0 {
			return err
		}
		last, err := tx.LastEventSeq()
		if err == nil && after > last {
			return &CursorAheadError{Cursor: after, Last: last}
		}
		return err
	})
	return evs, err
}

// next returns the events past after, waiting up to wait for the first.
func (h *Handler) next(ctx context.Context, after int64, domain string, limit int, wait time.Duration) ([]localcases.OutboxEvent, error) {
	deadline := time.Now().Add(wait)
	for {
		woken := h.o.Notifier.Wait()
		evs, err := h.list(ctx, after, domain, limit)
		if err != nil || len(evs) > 0 {
			return evs, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		t := time.NewTimer(min(left, h.o.Recheck))
		select {
		case <-woken:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-h.o.Done:
			t.Stop()
			return nil, nil
		}
		t.Stop()
	}
}

func (h *Handler) poll(ctx context.Context, q query) (*Page, error) {
	evs, err := h.next(ctx, q.after, q.domain, q.limit, q.wait)
	if err != nil {
		return nil, err
	}
	page := &Page{Events: make([]json.RawMessage, len(evs)), Cursor: FormatCursor(q.after)}
	for i, e := range evs {
		page.Events[i] = e.Data
		page.Cursor = FormatCursor(e.Seq)
	}
	return page, nil
}

// stream serves Server-Sent Events: each event's id is its cursor, so a
// client that reconnects with Last-Event-ID resumes after the last event
// it received.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, q query) {
	rc := http.NewResponseController(w)
	// The stream outlives the server's read timeout, which would otherwise
	// end it by cancelling the request.
	rc.SetReadDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprintf(w, ": localcases case events after %q\nretry: 1000\n\n", FormatCursor(q.after))
	if rc.Flush() != nil {
		return
	}
	ctx := r.Context()
	after := q.after
	lastWrite := time.Now()
	for {
		wait := h.o.Keepalive - time.Since(lastWrite)
		evs, err := h.next(ctx, after, q.domain, q.limit, max(wait, 0))
		if err != nil {
			var ahead *CursorAheadError
			switch {
			case ctx.Err() != nil:
			case errors.As(err, &ahead):
				fmt.Fprintf(w, "event: error\ndata: %s\n\n", jsonString(err.Error()))
				rc.Flush()
			default:
				h.o.Logger.Error("events: reading the outbox failed", "err", err)
				fmt.Fprintf(w, "event: error\ndata: %s\n\n", jsonString("reading the event outbox failed: "+err.Error()))
				rc.Flush()
			}
			return
		}
		select {
		case <-h.o.Done:
			return
		default:
		}
		if len(evs) == 0 {
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return
			}
		}
		for _, e := range evs {
			if _, err := fmt.Fprintf(w, "id: %d\ndata: %s\n\n", e.Seq, e.Data); err != nil {
				return
			}
			after = e.Seq
		}
		if rc.Flush() != nil {
			return
		}
		lastWrite = time.Now()
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	data = append(data, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	w.Write(data)
}
