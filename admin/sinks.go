package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/dispatch"
)

// Sinks serves the event-delivery control plane: the sinks events are
// delivered to, and the dead letters of those that failed.
//
//	GET    /_localcases/sinks                 {"sinks": [status…]}
//	POST   /_localcases/sinks[?replace=true]  {"url", "name"?, "pattern"?}: add; 201 with the status;
//	                                          replace=true changes the URL or pattern of the sink of that
//	                                          name, keeping its cursor and dead letters
//	GET    /_localcases/sinks/{name}          one sink's status
//	DELETE /_localcases/sinks/{name}          stop delivering and forget it (cursor, dead letters)
//	GET    /_localcases/dead-letters?sink=N   {"deadLetters": […]}, oldest first; every sink's without sink=
//	POST   /_localcases/dead-letters/replay   {"sink"?, "eventIds"?}: send again now, once each
//	DELETE /_localcases/dead-letters?sink=N&eventId=ID…   delete; every one of the sink (or of all) without eventId
//
// A bad URL, name or pattern answers 400 with what is wrong; an unknown sink
// or dead letter 404; a name taken by another URL or pattern 409.
type Sinks struct {
	Dispatcher *dispatch.Dispatcher
	Logger     *slog.Logger
}

// Register adds the endpoints to h.
func (s *Sinks) Register(h *Handler) {
	p := Prefix
	h.Handle("GET "+p+"sinks", http.HandlerFunc(s.list))
	h.Handle("POST "+p+"sinks", http.HandlerFunc(s.add))
	h.Handle("GET "+p+"sinks/{name}", http.HandlerFunc(s.get))
	h.Handle("DELETE "+p+"sinks/{name}", http.HandlerFunc(s.delete))
	h.Handle("GET "+p+"dead-letters", http.HandlerFunc(s.deadLetters))
	h.Handle("POST "+p+"dead-letters/replay", http.HandlerFunc(s.replay))
	h.Handle("DELETE "+p+"dead-letters", http.HandlerFunc(s.deleteDeadLetters))
}

// SinkRequest is the body of POST /_localcases/sinks. Pattern is an
// EventBridge event pattern, as a JSON object or as a string holding one.
type SinkRequest struct {
	Name    string          `json:"name,omitempty"`
	URL     string          `json:"url"`
	Pattern json.RawMessage `json:"pattern,omitempty"`
}

// ReplayRequest is the body of POST /_localcases/dead-letters/replay; an
// empty one replays every dead letter.
type ReplayRequest struct {
	Sink     string   `json:"sink,omitempty"`
	EventIDs []string `json:"eventIds,omitempty"`
}

// ReplayResponse answers a replay.
type ReplayResponse struct {
	Delivered int                     `json:"delivered"`
	Failed    int                     `json:"failed"`
	Results   []dispatch.ReplayResult `json:"results"`
}

// sinkError answers a dispatcher error with its status.
func sinkError(w http.ResponseWriter, err error) {
	var ce *dispatch.ConfigError
	switch {
	case errors.As(err, &ce):
		badRequest(w, err)
	case errors.Is(err, localcases.ErrNotFound):
		WriteError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, localcases.ErrConflict):
		WriteError(w, http.StatusConflict, err.Error())
	default:
		WriteError(w, http.StatusInternalServerError, err.Error())
	}
}

func (s *Sinks) list(w http.ResponseWriter, r *http.Request) {
	sinks, err := s.Dispatcher.Sinks(r.Context())
	if err != nil {
		sinkError(w, err)
		return
	}
	if sinks == nil {
		sinks = []dispatch.SinkStatus{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sinks": sinks})
}

func (s *Sinks) status(w http.ResponseWriter, r *http.Request, name string, code int) {
	sinks, err := s.Dispatcher.Sinks(r.Context())
	if err != nil {
		sinkError(w, err)
		return
	}
	for _, st := range sinks {
		if st.Name == name {
			writeJSON(w, code, st)
			return
		}
	}
	WriteError(w, http.StatusNotFound, fmt.Sprintf("sink %q: not found", name))
}

func (s *Sinks) get(w http.ResponseWriter, r *http.Request) {
	s.status(w, r, r.PathValue("name"), http.StatusOK)
}

// DecodeSinkRequest reads a POST /_localcases/sinks body.
func DecodeSinkRequest(body []byte) (dispatch.SinkConfig, error) {
	var req SinkRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return dispatch.SinkConfig{}, fmt.Errorf("sink: the body must be {\"url\": …, \"name\": …, \"pattern\": …}: %w", err)
	}
	c := dispatch.SinkConfig{Name: req.Name, URL: req.URL, Origin: "admin"}
	if p := bytes.TrimSpace(req.Pattern); len(p) > 0 && !bytes.Equal(p, []byte("null")) {
		if p[0] == '"' {
			if err := json.Unmarshal(p, &c.Pattern); err != nil {
				return c, err
			}
		} else {
			c.Pattern = string(p)
		}
	}
	return c, nil
}

func (s *Sinks) add(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		badRequest(w, err)
		return
	}
	c, err := DecodeSinkRequest(body)
	if err != nil {
		badRequest(w, err)
		return
	}
	c, err = s.Dispatcher.AddSink(r.Context(), c, r.URL.Query().Get("replace") == "true")
	if err != nil {
		sinkError(w, err)
		return
	}
	if s.Logger != nil {
		s.Logger.Info("event sink added", "sink", c.Name, "pattern", c.Pattern, "remote", r.RemoteAddr)
	}
	s.status(w, r, c.Name, http.StatusCreated)
}

func (s *Sinks) delete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.Dispatcher.DeleteSink(r.Context(), name); err != nil {
		sinkError(w, err)
		return
	}
	if s.Logger != nil {
		s.Logger.Info("event sink deleted", "sink", name, "remote", r.RemoteAddr)
	}
	writeJSON(w, http.StatusOK, map[string]string{"deleted": name})
}

func (s *Sinks) deadLetters(w http.ResponseWriter, r *http.Request) {
	dls, err := s.Dispatcher.DeadLetters(r.Context(), r.URL.Query().Get("sink"))
	if err != nil {
		sinkError(w, err)
		return
	}
	if dls == nil {
		dls = []dispatch.DeadLetter{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deadLetters": dls})
}

func (s *Sinks) replay(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		badRequest(w, err)
		return
	}
	var req ReplayRequest
	if len(strings.TrimSpace(string(body))) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			badRequest(w, fmt.Errorf("replay: the body must be {\"sink\": …, \"eventIds\": […]}: %w", err))
			return
		}
	}
	res, err := s.Dispatcher.Replay(r.Context(), req.Sink, req.EventIDs)
	if err != nil && len(res) == 0 {
		sinkError(w, err)
		return
	}
	out := ReplayResponse{Results: res}
	if out.Results == nil {
		out.Results = []dispatch.ReplayResult{}
	}
	for _, x := range res {
		if x.Delivered {
			out.Delivered++
		} else {
			out.Failed++
		}
	}
	if s.Logger != nil {
		s.Logger.Info("dead letters replayed", "sink", req.Sink, "delivered", out.Delivered, "failed", out.Failed, "remote", r.RemoteAddr)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sinks) deleteDeadLetters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := s.Dispatcher.DeleteDeadLetters(r.Context(), q.Get("sink"), q["eventId"])
	if err != nil {
		sinkError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"deleted": n})
}
