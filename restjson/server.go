package restjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/localcases/localcases/api"
)

// DefaultMaxBodyBytes bounds a request body. The largest legitimate body is
// an UpdateCase with 220 fields of 4,100 characters (about 1 MiB as JSON
// with multi-byte text escaped); 6 MiB leaves room and still stops a client
// from filling memory.
const DefaultMaxBodyBytes = 6 << 20

// Options configures a Handler. The zero value is usable.
type Options struct {
	// Logger receives one line per request: debug for successes and 4xx,
	// error for 5xx with the cause. Default: discard.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; larger ones get 413. Default
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// RequestID makes the x-amzn-RequestId of each request. Default: UUIDv4.
	RequestID func() string
	// Middleware wraps every operation call, first element outermost. Fault
	// injection and throttling plug in here.
	Middleware []Middleware
	// Observe, if set, is called once per API request after the response is
	// written.
	Observe func(c *Call, o Outcome)
	// Now is the clock for latencies. Default time.Now.
	Now func() time.Time
}

// Call is one API request in flight, as middleware sees it.
type Call struct {
	Op        *api.Operation
	RequestID string
	Request   *http.Request
	Writer    http.ResponseWriter
	Start     time.Time
	// Input is set once the request has been decoded and validated.
	Input api.Input
	// Injected is set by middleware that made the outcome up (fault
	// injection), so records and logs can say so.
	Injected string
	// Rule names the fault rule behind Injected, if one did.
	Rule string

	limit    int64
	body     []byte
	bodyErr  error
	bodyRead bool
	query    url.Values
	// badMember and badRule record the first bound value that breaks the
	// text rules; asked is every query key the binder read.
	badMember, badRule string
	asked              []string
}

// Body reads the request body once, up to the handler's MaxBodyBytes, and
// returns the same bytes to every later caller: the signature check and the
// decoder see one body and one size rule.
func (c *Call) Body() ([]byte, error) {
	if c.bodyRead {
		return c.body, c.bodyErr
	}
	c.bodyRead = true
	if c.Request.Body == nil {
		return nil, nil
	}
	c.body, c.bodyErr = io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, c.limit))
	if c.bodyErr != nil {
		var tooBig *http.MaxBytesError
		if errors.As(c.bodyErr, &tooBig) {
			c.bodyErr = api.Errorf(api.CodeRequestEntityTooLarge, "The request body exceeds %d bytes.", tooBig.Limit)
		} else {
			c.bodyErr = api.Errorf(api.CodeSerializationException, "The request body could not be read.")
		}
	}
	return c.body, c.bodyErr
}

// Outcome is what the client was sent.
type Outcome struct {
	Status  int
	Code    api.ErrorCode // empty on success
	Latency time.Duration
	// RetryAfter is the Retry-After header sent, in seconds, or -1.
	RetryAfter int
	// Dropped: the connection was closed without a response.
	Dropped bool
}

// Invoker runs an operation call and returns its output or error.
type Invoker func(c *Call) (any, error)

// Middleware wraps an Invoker.
type Middleware func(next Invoker) Invoker

// ErrHandled is returned by middleware that wrote the response itself (a raw
// status from a "load balancer") or closed the connection; the handler then
// writes nothing more. Wrap it to say what happened.
var ErrHandled = errors.New("response already handled")

// ErrDropped, wrapped in ErrHandled's place, says the connection was closed
// without a response.
var ErrDropped = fmt.Errorf("connection dropped: %w", ErrHandled)

// Handler serves the API operations of one api.Service.
type Handler struct {
	svc    api.Service
	opts   Options
	mux    *http.ServeMux
	invoke Invoker
}

// NewHandler routes every operation of the model's table to svc.
func NewHandler(svc api.Service, opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.RequestID == nil {
		opts.RequestID = uuid.NewString
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{svc: svc, opts: opts, mux: http.NewServeMux()}
	h.invoke = h.call
	for i := len(opts.Middleware) - 1; i >= 0; i-- {
		h.invoke = opts.Middleware[i](h.invoke)
	}
	paths := map[string][]string{}
	var bare []string
	for _, op := range api.Operations {
		p := muxPath(op.URI)
		h.mux.Handle(op.Method+" "+p, h.operation(op))
		paths[p] = append(paths[p], op.Method)
		if b, ok := strings.CutSuffix(op.URI, "/"); ok {
			bare = append(bare, b)
		}
	}
	// Without a route of its own, the path minus its trailing slash would get
	// ServeMux's 307 redirect to the slashed path instead of an AWS error.
	for _, b := range bare {
		if _, ok := paths[b]; !ok {
			h.mux.HandleFunc(b, h.unknownOperation)
		}
	}
	// A known path with another method is a 405 that names the methods the
	// path accepts; anything else is an unknown operation.
	for p, methods := range paths {
		allow := strings.Join(methods, ", ")
		h.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			h.fail(w, r, nil, api.Errorf(api.CodeMethodNotAllowedException, "%s is not allowed on %s; allowed: %s.", r.Method, r.URL.EscapedPath(), allow))
		})
	}
	h.mux.HandleFunc("/", h.unknownOperation)
	return h
}

func (h *Handler) unknownOperation(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, nil, api.Errorf(api.CodeUnknownOperationException, "No operation matches %s %s.", r.Method, clip(r.URL.EscapedPath())))
}

// muxPath turns a model URI template into a ServeMux pattern path. A
// template ending in "/" must match only that path, not the subtree.
func muxPath(uri string) string {
	if strings.HasSuffix(uri, "/") {
		return uri + "{$}"
	}
	return uri
}

// ServeHTTP keeps ServeMux from cleaning the path. The mux answers a path
// with "." or ".." segments with a 307 to the cleaned path, and clients follow
// it with the same method: DeleteCase with caseId ".." (the SDKs do not escape
// dots) would become DELETE /domains/{domainId}, which is DeleteDomain. A path
// label is an ID, not a directory, so dot segments are escaped to stay
// labels, and an empty segment, which no ID can fill, is no operation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") {
		h.unknownOperation(w, r)
		return
	}
	if lit, ok := literalDots(p); ok {
		u := *r.URL
		u.RawPath = lit
		r = r.WithContext(r.Context())
		r.URL = &u
	}
	h.mux.ServeHTTP(w, r)
}

// literalDots percent-encodes the "." and ".." segments of the escaped path
// p, and reports whether there were any.
func literalDots(p string) (string, bool) {
	segs := strings.Split(p, "/")
	changed := false
	for i, s := range segs {
		if s == "." || s == ".." {
			segs[i] = strings.Repeat("%2E", len(s))
			changed = true
		}
	}
	return strings.Join(segs, "/"), changed
}

func (h *Handler) operation(op *api.Operation) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &Call{Op: op, RequestID: h.opts.RequestID(), Request: r, Writer: w, Start: h.opts.Now(), limit: h.opts.MaxBodyBytes}
		w.Header().Set("x-amzn-RequestId", c.RequestID)
		out, err := h.safeInvoke(c)
		o := Outcome{Status: http.StatusOK, RetryAfter: -1}
		switch {
		case errors.Is(err, ErrHandled):
			o.Dropped = errors.Is(err, ErrDropped)
			o.Status = handledStatus(err)
		case err != nil:
			o.Status, o.Code, o.RetryAfter = h.writeError(w, c.Request, c, err)
		default:
			if err := h.writeOutput(w, out); err != nil {
				o.Status, o.Code, o.RetryAfter = h.writeError(w, c.Request, c, err)
			}
		}
		o.Latency = h.opts.Now().Sub(c.Start)
		h.log(c, o, err)
		if h.opts.Observe != nil {
			h.opts.Observe(c, o)
		}
	})
}

// StatusError lets middleware that wrote a raw response report its status.
type StatusError struct {
	Status int
}

func (e *StatusError) Error() string { return "raw HTTP " + strconv.Itoa(e.Status) }
func (e *StatusError) Unwrap() error { return ErrHandled }

func handledStatus(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
}

// safeInvoke turns a panic anywhere below into an InternalServerException, so
// one bad request cannot take the server down.
func (h *Handler) safeInvoke(c *Call) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			out, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return h.invoke(c)
}

// call decodes, binds and validates the input, then runs the operation.
func (h *Handler) call(c *Call) (any, error) {
	in, err := h.decode(c)
	if err != nil {
		return nil, err
	}
	c.Input = in
	return c.Op.Call(c.Request.Context(), h.svc, in)
}

// decode builds the validated input of c's operation from the request,
// unless middleware already set it.
func (h *Handler) decode(c *Call) (api.Input, error) {
	if c.Input != nil {
		return c.Input, nil
	}
	in := c.Op.NewInput()
	body, err := c.Body()
	if err != nil {
		return nil, err
	}
	if c.Op.HasBody {
		if err := decodeJSON(body, in); err != nil {
			return nil, err
		}
	}
	if c.query, err = url.ParseQuery(c.Request.URL.RawQuery); err != nil {
		return nil, api.Errorf(api.CodeSerializationException, "The query string is malformed: %s.", err.Error())
	}
	if err := in.BindHTTP(binding{c}); err != nil {
		return nil, err
	}
	if c.badRule != "" {
		return nil, textError(c.badMember, c.badRule)
	}
	if err := c.checkQuery(in); err != nil {
		return nil, err
	}
	if m, r := badText(reflect.ValueOf(in), ""); r != "" {
		return nil, textError(m, r)
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return in, nil
}

// checkQuery applies the text rules to the query values the binder read,
// naming list members by index as validation does, and refuses a key given
// more than once for a member that is not a list: the binder would keep one
// value and drop the rest unseen. Query members' Go names are their wire
// names with the first letter upper.
func (c *Call) checkQuery(in api.Input) error {
	v := reflect.ValueOf(in)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	for _, name := range c.asked {
		vals := c.query[name]
		f := v.FieldByName(strings.ToUpper(name[:1]) + name[1:])
		list := f.IsValid() && f.Kind() == reflect.Slice
		if len(vals) > 1 && !list {
			return api.Errorf(api.CodeSerializationException, "The query parameter %s is given %d times; it takes one value.", name, len(vals))
		}
		for i, val := range vals {
			if r := textRule(val); r != "" {
				member := name
				if list {
					member += "[" + strconv.Itoa(i) + "]"
				}
				return textError(member, r)
			}
		}
	}
	return nil
}

// decodeJSON fills in from a JSON object body. An empty body is an empty
// object: the SDKs send none when every body member is absent.
func decodeJSON(body []byte, in any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := checkBodyText(body); err != nil {
		return err
	}
	if d := jsonDepth(body); d > MaxJSONDepth {
		return api.Errorf(api.CodeSerializationException, "The request body nests JSON %d levels deep; at most %d are accepted.", d, MaxJSONDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return api.Errorf(api.CodeSerializationException, "The request body has data after the JSON object.")
	}
	return checkKeys(body, reflect.TypeOf(in))
}

// MaxJSONDepth bounds how deeply a request body may nest. The deepest
// legitimate input, a SearchCases filter nested to the service's depth cap,
// stays well under it; a hostile body of a million brackets is refused
// before the decoder recurses into it.
const MaxJSONDepth = 64

// jsonDepth returns the deepest nesting of objects and arrays in body,
// ignoring brackets inside strings. It stops counting once past
// MaxJSONDepth.
func jsonDepth(body []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > deepest {
				deepest = depth
				if deepest > MaxJSONDepth {
					return deepest
				}
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return api.Errorf(api.CodeSerializationException, "The request body is not valid JSON: %s at offset %d.", syn.Error(), syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return api.Errorf(api.CodeSerializationException, "The request body must be a JSON object, not %s.", typ.Value)
		}
		return api.Errorf(api.CodeSerializationException, "Value at '%s' must be of type %s, not %s.", typ.Field, jsonKind(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return api.Errorf(api.CodeSerializationException, "The request body ends before the JSON object does.")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return api.Errorf(api.CodeSerializationException, "Unknown member %s in the request body.", f)
	}
	return api.Errorf(api.CodeSerializationException, "The request body could not be parsed: %s.", strings.TrimPrefix(msg, "json: "))
}

// jsonKind names a Go type the way a JSON user thinks of it.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

type binding struct{ c *Call }

func (b binding) PathValue(name string) string {
	v := b.c.Request.PathValue(name)
	b.check(name, v)
	return v
}

func (b binding) Query(name string) []string {
	b.c.asked = append(b.c.asked, name)
	return b.c.query[name]
}

func (b binding) Header(name string) []string {
	vs := b.c.Request.Header.Values(name)
	for _, v := range vs {
		b.check(name, v)
	}
	return vs
}

// check records the first bound value that breaks the text rules; the
// generated binders have no way to return it themselves.
func (b binding) check(name, v string) {
	if b.c.badRule != "" {
		return
	}
	if r := textRule(v); r != "" {
		b.c.badMember, b.c.badRule = name, r
	}
}

func (h *Handler) writeOutput(w http.ResponseWriter, out any) error {
	body := []byte("{}")
	if out != nil {
		var err error
		if body, err = json.Marshal(out); err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	// A failed write means the client went away; nothing more can be sent.
	w.Write(body)
	return nil
}

// errorBody is the JSON body of an error response: the members of the
// model's error shapes, plus __type for clients that read it from the body.
type errorBody struct {
	Type         string `json:"__type"`
	Message      string `json:"message"`
	ResourceID   string `json:"resourceId,omitempty"`
	ResourceType string `json:"resourceType,omitempty"`
}

// writeError sends err the way the service sends errors. Anything that is not
// an *api.Error is a bug or a failure below the service: the client gets a
// generic InternalServerException and the cause goes to the log.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, c *Call, err error) (status int, code api.ErrorCode, retryAfter int) {
	var ae *api.Error
	if !errors.As(err, &ae) {
		if errors.Is(err, context.Canceled) && c != nil && c.Request.Context().Err() != nil {
			// The client hung up; nobody reads this response.
			ae = api.Errorf(api.CodeInternalServerException, "The request was cancelled.")
		} else {
			ae = &api.Error{Code: api.CodeInternalServerException, Message: api.CodeInternalServerException.DefaultMessage()}
		}
	}
	if ae.Message == "" {
		cp := *ae
		cp.Message = ae.Code.DefaultMessage()
		ae = &cp
	}
	if c != nil && ae.Code.Modelled() && !c.Op.Declares(ae.Code) {
		h.opts.Logger.Warn("error not declared by the operation", "request_id", c.RequestID, "op", c.Op.Name, "code", ae.Code)
	}
	body := errorBody{Type: string(ae.Code), Message: ae.Message}
	if ae.Code == api.CodeResourceNotFoundException {
		body.ResourceID, body.ResourceType = ae.ResourceID, ae.ResourceType
	}
	data, _ := json.Marshal(body)
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-Amzn-ErrorType", string(ae.Code))
	hdr.Set("Content-Length", strconv.Itoa(len(data)))
	retryAfter = -1
	if ae.RetryAfterSeconds != nil && *ae.RetryAfterSeconds >= 0 {
		retryAfter = *ae.RetryAfterSeconds
		hdr.Set("Retry-After", strconv.Itoa(retryAfter))
	}
	if (c == nil || !c.bodyRead) && r.ContentLength != 0 {
		// Refused before the body was read: without this, net/http would
		// read up to 256 KiB of it before sending the answer, at the
		// client's pace, to keep the connection.
		hdr.Set("Connection", "close")
	}
	status = ae.Status()
	w.WriteHeader(status)
	w.Write(data)
	return status, ae.Code, retryAfter
}

// WriteError answers r with err in the service's error shape, for a request
// refused before it reached an operation (by a guard in front of the
// handler).
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	h.fail(w, r, nil, err)
}

// fail writes an error for a request that matched no operation.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, c *Call, err error) {
	id := h.opts.RequestID()
	w.Header().Set("x-amzn-RequestId", id)
	status, code, _ := h.writeError(w, r, c, err)
	h.opts.Logger.Debug("request", "request_id", id, "method", r.Method, "path", clip(r.URL.EscapedPath()), "status", status, "code", code)
}

func (h *Handler) log(c *Call, o Outcome, err error) {
	attrs := []any{"request_id", c.RequestID, "op", c.Op.Name, "status", o.Status, "latency_ms", float64(o.Latency.Microseconds()) / 1000}
	if o.Code != "" {
		attrs = append(attrs, "code", o.Code)
	}
	if c.Injected != "" {
		attrs = append(attrs, "injected", c.Injected)
	}
	if c.Injected != "" {
		// Injected faults are what the user asked for: worth a line each,
		// but not an error of the emulator.
		h.opts.Logger.Info("injected fault", attrs...)
		return
	}
	if o.Status >= 500 || o.Dropped {
		if err != nil {
			attrs = append(attrs, "err", err.Error())
		}
		h.opts.Logger.Error("request", attrs...)
		return
	}
	h.opts.Logger.Debug("request", attrs...)
}

func clip(s string) string { return api.ClipTo(s, 200) }
