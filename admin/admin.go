// Package admin serves the localcases control plane under /_localcases/:
// readiness and health today, fault rules and state tools as they land. It
// is a separate handler from the API so that it never shares routing, error
// shapes or fault injection with the emulated service.
package admin

import (
	"encoding/json"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/localcases/localcases/fault"
)

// Prefix is the admin namespace; no Connect Cases path starts with it.
const Prefix = "/_localcases/"

// Options configures the admin handler.
type Options struct {
	Version   string
	StoreKind string
	Region    string
	Account   string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ServiceHealth reports the emulated service's health (faults in force,
	// observed errors); nil reports it operational.
	ServiceHealth func(now time.Time) fault.HealthReport
}

// Handler serves the admin namespace.
type Handler struct {
	opts    Options
	started time.Time
	ready   atomic.Bool
	mux     *http.ServeMux
}

// NewHandler returns the admin handler. It answers 503 on health until
// SetReady(true), so a harness polling it knows when the API will answer.
func NewHandler(opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{opts: opts, started: opts.Now(), mux: http.NewServeMux()}
	h.mux.HandleFunc("GET "+Prefix+"health", h.health)
	h.mux.HandleFunc("GET "+Prefix+"ready", h.readiness)
	h.mux.HandleFunc("GET "+Prefix+"stats", h.stats)
	h.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no admin endpoint " + r.Method + " " + r.URL.Path})
	})
	return h
}

// Handle adds an endpoint under the admin namespace; pattern is a ServeMux
// pattern whose path starts with Prefix. Subsystems (fault injection, state
// tools, profiling) register here so the admin surface stays one handler.
func (h *Handler) Handle(pattern string, handler http.Handler) { h.mux.Handle(pattern, handler) }

// SetReady marks the server ready (or not) to serve API calls.
func (h *Handler) SetReady(v bool) { h.ready.Store(v) }

// ServeHTTP answers a path that is not clean ("." or ".." segments, "//")
// with the namespace's 404 rather than ServeMux's redirect to the cleaned
// path: an admin call names its endpoint exactly, and every answer is JSON.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	if clean != p {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no admin endpoint " + r.Method + " " + r.URL.EscapedPath()})
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Health is the body of GET /_localcases/health: a service-health page for
// the emulated service (per operation operational, degraded or outage, with
// the active scenario and its events), plus the server's own facts.
// Readiness is separate: Ready says whether the server answers API calls at
// all, and /_localcases/ready answers 200 or 503 on it alone, so a harness
// can wait for start-up while the service itself is in a simulated outage.
type Health struct {
	Status        fault.HealthStatus      `json:"status"`
	Ready         bool                    `json:"ready"`
	Version       string                  `json:"version"`
	UptimeSeconds float64                 `json:"uptimeSeconds"`
	Store         string                  `json:"store"`
	Region        string                  `json:"region"`
	Account       string                  `json:"account"`
	Time          time.Time               `json:"time"`
	Operations    []fault.OperationHealth `json:"operations,omitempty"`
	Scenario      *fault.ScenarioStatus   `json:"scenario,omitempty"`
}

func (h *Handler) health(w http.ResponseWriter, r *http.Request) {
	now := h.opts.Now()
	body := Health{
		Status:        fault.StatusOperational,
		Ready:         h.ready.Load(),
		Version:       h.opts.Version,
		UptimeSeconds: now.Sub(h.started).Seconds(),
		Store:         h.opts.StoreKind,
		Region:        h.opts.Region,
		Account:       h.opts.Account,
		Time:          now.UTC(),
	}
	if h.opts.ServiceHealth != nil {
		rep := h.opts.ServiceHealth(now)
		body.Status, body.Operations, body.Scenario = rep.Status, rep.Operations, rep.Scenario
	}
	status := http.StatusOK
	if !body.Ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}

func (h *Handler) readiness(w http.ResponseWriter, r *http.Request) {
	if !h.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]bool{"ready": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

// WriteError sends the admin namespace's error shape, {"error": msg}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.MarshalIndent(v, "", "  ")
	data = append(data, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	w.Write(data)
}
