// Package eventbridgetest is a local stand-in for Amazon EventBridge's
// PutEvents, for tests: it speaks the real wire protocol (awsJson1.1, POST /
// with X-Amz-Target: AWSEvents.PutEvents and Content-Type
// application/x-amz-json-1.1, Time as epoch seconds), so the aws-sdk-go-v2
// eventbridge client, the AWS CLI and localcases' forwarding sink talk to it
// unchanged. It keeps the entries it accepted, and fails chosen entries with
// the entry error codes the events model documents, as a partial failure
// (FailedEntryCount) in a 200 answer.
//
// It checks what the real service documents: 1 to 10 entries, their sizes
// (as AWS computes them) under 256 KB in all, Source, DetailType and Detail
// present in each entry, and Detail a JSON object. It does not check
// signatures; it records the SigV4 signing name each request used.
package eventbridgetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Target is the X-Amz-Target of PutEvents.
const Target = "AWSEvents.PutEvents"

// ContentType is awsJson1.1's media type.
const ContentType = "application/x-amz-json-1.1"

// MaxRequestBytes is the documented cap on a request's entries, as AWS
// counts their sizes.
const MaxRequestBytes = 256 * 1024

// Entry is one entry the stand-in accepted.
type Entry struct {
	EventID      string
	Source       string
	DetailType   string
	Detail       string
	Resources    []string
	Time         time.Time // zero when the entry had none
	EventBusName string
}

// Request is one PutEvents call as the stand-in saw it.
type Request struct {
	Entries int
	Failed  int
	// SigningName is the service name in the request's SigV4 credential
	// scope ("events" from an AWS SDK), "" when unsigned.
	SigningName string
}

// Server is a running stand-in.
type Server struct {
	srv *httptest.Server

	mu        sync.Mutex
	entries   []Entry
	requests  []Request
	failures  []failure
	refuseAWS bool
}

type failure struct {
	left  int
	code  string
	match func(Entry) bool
}

// NewServer starts a stand-in on a loopback port. Close stops it.
func NewServer() *Server {
	s := &Server{}
	s.srv = httptest.NewServer(s)
	return s
}

// URL is the endpoint, http://127.0.0.1:port.
func (s *Server) URL() string { return s.srv.URL }

// SinkURL is the localcases sink URL forwarding to the stand-in, with
// query (such as "source=localcases.cases") appended when not "".
func (s *Server) SinkURL(query string) string {
	u := "eventbridge+" + s.srv.URL
	if query != "" {
		u += "?" + query
	}
	return u
}

// Close stops the stand-in.
func (s *Server) Close() { s.srv.Close() }

// FailEntries makes the next n entries for which match holds (every entry
// if match is nil) fail with code, a PutEvents entry error code such as
// "InternalFailure" or "MalformedDetail"; the entries after them are
// accepted again.
func (s *Server) FailEntries(n int, code string, match func(Entry) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{left: n, code: code, match: match})
}

// RefuseAWSSources makes entries whose Source starts with "aws." fail with
// NotAuthorizedForSourceException, as real EventBridge does.
func (s *Server) RefuseAWSSources(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseAWS = on
}

// Entries returns the entries accepted so far, in order.
func (s *Server) Entries() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Entry(nil), s.entries...)
}

// Requests returns the PutEvents calls so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// wireEntry is PutEventsRequestEntry on the wire.
type wireEntry struct {
	Source       *string  `json:"Source"`
	DetailType   *string  `json:"DetailType"`
	Detail       *string  `json:"Detail"`
	Resources    []string `json:"Resources"`
	Time         *float64 `json:"Time"`
	EventBusName *string  `json:"EventBusName"`
	TraceHeader  *string  `json:"TraceHeader"`
}

type resultEntry struct {
	EventID      string `json:"EventId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/[0-9]{8}/[^/]+/([^/]+)/aws4_request`)

// ServeHTTP answers PutEvents.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		writeError(w, http.StatusNotFound, "UnknownOperationException", "only POST / is served")
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != Target {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("operation %q is not served; only %s", target, Target))
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, ContentType) {
		writeError(w, http.StatusBadRequest, "SerializationException", fmt.Sprintf("Content-Type %q: want %s", ct, ContentType))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	var in struct {
		Entries []wireEntry `json:"Entries"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "the request body is not a PutEvents input: "+err.Error())
		return
	}
	if n := len(in.Entries); n < 1 || n > 10 {
		writeError(w, http.StatusBadRequest, "ValidationException",
			fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10 (got %d)", n))
		return
	}
	total := 0
	for _, e := range in.Entries {
		total += size(e)
	}
	if total > MaxRequestBytes {
		writeError(w, http.StatusBadRequest, "ValidationException", "Total size of the entries in the request is over the limit.")
		return
	}
	var req Request
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		req.SigningName = m[1]
	}
	req.Entries = len(in.Entries)
	out := make([]resultEntry, len(in.Entries))
	s.mu.Lock()
	for i, we := range in.Entries {
		e := Entry{
			Source: deref(we.Source), DetailType: deref(we.DetailType), Detail: deref(we.Detail),
			Resources: we.Resources, EventBusName: deref(we.EventBusName),
		}
		if e.EventBusName == "" {
			e.EventBusName = "default"
		}
		if we.Time != nil {
			sec, frac := math.Modf(*we.Time)
			e.Time = time.Unix(int64(sec), int64(frac*1e9)).UTC()
		}
		if code, msg := s.check(we, e); code != "" {
			out[i] = resultEntry{ErrorCode: code, ErrorMessage: msg}
			req.Failed++
			continue
		}
		e.EventID = uuid.NewString()
		s.entries = append(s.entries, e)
		out[i] = resultEntry{EventID: e.EventID}
	}
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	json.NewEncoder(w).Encode(struct {
		FailedEntryCount int           `json:"FailedEntryCount"`
		Entries          []resultEntry `json:"Entries"`
	}{req.Failed, out})
}

// check returns the error code and message an entry fails with, "" if none.
// s.mu is held.
func (s *Server) check(we wireEntry, e Entry) (string, string) {
	if we.Source == nil || we.DetailType == nil || we.Detail == nil {
		return "InvalidArgument", "Parameters Source, DetailType and Detail are required."
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(e.Detail), &obj); err != nil || obj == nil {
		return "MalformedDetail", "Detail is malformed."
	}
	if s.refuseAWS && strings.HasPrefix(e.Source, "aws.") {
		return "NotAuthorizedForSourceException", "Not authorized for the source."
	}
	for k := range s.failures {
		f := &s.failures[k]
		if f.left > 0 && (f.match == nil || f.match(e)) {
			f.left--
			return f.code, "failed on request by the test"
		}
	}
	return "", ""
}

// size is the entry's size as AWS computes it:
// https://docs.aws.amazon.com/eventbridge/latest/userguide/calculate-putevents-entry-size.html
func size(e wireEntry) int {
	n := 0
	if e.Time != nil {
		n += 14
	}
	n += len(deref(e.Source)) + len(deref(e.DetailType)) + len(deref(e.Detail))
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("x-amzn-ErrorType", code)
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
