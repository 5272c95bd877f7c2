// Package metrics keeps a server's Prometheus metrics: API requests, faults
// and throttling, store transactions and event deliveries, plus the Go
// runtime and process collectors.
//
// Each Metrics has a registry of its own rather than the global default, so
// several servers in one process (localcasestest, the project's tests) keep
// separate counts and never collide on registration.
//
// Every method is safe on a nil *Metrics and then does nothing, so a package
// can take an optional *Metrics without checking it at each call.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/localcases/localcases"
)

// Namespace prefixes every metric name this package defines.
const Namespace = "localcases"

// CodeOK is the code label of a request that succeeded.
const CodeOK = "OK"

// Throttling reasons, the reason label of localcases_throttled_total.
const (
	// ThrottleQuota: the operation's token bucket (serve --throttle) was
	// empty.
	ThrottleQuota = "quota"
	// ThrottleCapacity: the server had MaxInFlight calls running and shed
	// this one.
	ThrottleCapacity = "capacity"
)

// Transaction kinds, the kind label of localcases_store_transaction_duration_seconds.
const (
	TxView   = "view"
	TxUpdate = "update"
)

// Buckets. A local call takes well under a millisecond to a few
// milliseconds, and an injected fault can hold one for seconds, so the
// request buckets span 0.5 ms to 30 s; transactions start at 50 µs.
var (
	requestBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	txBuckets      = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}
)

// Metrics holds one server's collectors and the registry they are in.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	inFlight        prometheus.Gauge
	faults          *prometheus.CounterVec
	throttled       *prometheus.CounterVec
	txDuration      *prometheus.HistogramVec
	deliveries      *prometheus.CounterVec
}

// New returns Metrics in a fresh registry that also holds the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "requests_total",
			Help: "API requests answered (Connect Cases, and AWS Health on the same port), by operation and code: the AWS error code sent, OK on success, or a fault's HTTP status (e.g. 503) or Dropped for a response that was not a modelled error.",
		}, []string{"operation", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "request_duration_seconds",
			Help:    "Time from the start of an API request to its response, by operation, injected latency included.",
			Buckets: requestBuckets,
		}, []string{"operation"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "in_flight",
			Help: "API requests being served now.",
		}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "faults_injected_total",
			Help: "Faults injected by rules, scenarios and the x-localcases-fault header, by operation and action (error, http, latency, drop, hang, commit-then-fail; for operation events, the event delivery faults).",
		}, []string{"operation", "action"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "throttled_total",
			Help: "API requests refused with ThrottlingException by the token buckets (reason quota) or by load shedding (reason capacity), by operation.",
		}, []string{"operation", "reason"}),
		txDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "store_transaction_duration_seconds",
			Help:    "Store transaction latency, by engine (memory, sqlite, postgres) and kind (view, update), retries included.",
			Buckets: txBuckets,
		}, []string{"engine", "kind"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "event_deliveries_total",
			Help: "Case events on their way to a sink, by sink and result: delivered, failed (one failed attempt; an event given up on also counts as dead_lettered), dead_lettered, queue_full (the sink's queue was full while more events waited).",
		}, []string{"sink", "result"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestDuration, m.inFlight, m.faults, m.throttled,
		m.txDuration, m.deliveries,
	)
	return m
}

// Registry is the registry the metrics are in, for adding collectors and
// for tests that gather directly.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the registry in the Prometheus text (or OpenMetrics, when
// the scraper asks) exposition format. Protecting it is the caller's job.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// Request records one answered API request: its operation, its code (the
// AWS error code, or CodeOK) and how long it took.
func (m *Metrics) Request(operation, code string, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(operation, code).Inc()
	m.requestDuration.WithLabelValues(operation).Observe(d.Seconds())
}

// Begin counts an API request as in flight until End.
func (m *Metrics) Begin() {
	if m == nil {
		return
	}
	m.inFlight.Inc()
}

// End ends what Begin started.
func (m *Metrics) End() {
	if m == nil {
		return
	}
	m.inFlight.Dec()
}

// FaultInjected records a fault carried out on an operation; action is the
// fault's action (fault.Action).
func (m *Metrics) FaultInjected(operation, action string) {
	if m == nil {
		return
	}
	m.faults.WithLabelValues(operation, action).Inc()
}

// Throttled records a call refused with ThrottlingException, for reason
// ThrottleQuota or ThrottleCapacity.
func (m *Metrics) Throttled(operation, reason string) {
	if m == nil {
		return
	}
	m.throttled.WithLabelValues(operation, reason).Inc()
}

// Transaction records one store transaction of the given engine and kind
// (TxView, TxUpdate).
func (m *Metrics) Transaction(engine, kind string, d time.Duration) {
	if m == nil {
		return
	}
	m.txDuration.WithLabelValues(engine, kind).Observe(d.Seconds())
}

// Delivery records what happened to one event on its way to a sink: result
// is a dispatch.Result (delivered, failed, dead_lettered, queue_full). sink
// is the sink's configured name, a label of bounded cardinality.
func (m *Metrics) Delivery(sink, result string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(sink, result).Inc()
}

// Store returns s with every View and Update timed into
// localcases_store_transaction_duration_seconds, labelled with s.Kind().
// A nil Metrics returns s itself.
func (m *Metrics) Store(s localcases.Store) localcases.Store {
	if m == nil {
		return s
	}
	return &timedStore{Store: s, m: m, engine: s.Kind()}
}

type timedStore struct {
	localcases.Store
	m      *Metrics
	engine string
}

func (t *timedStore) View(ctx context.Context, fn func(localcases.Tx) error) error {
	start := time.Now()
	err := t.Store.View(ctx, fn)
	t.m.Transaction(t.engine, TxView, time.Since(start))
	return err
}

func (t *timedStore) Update(ctx context.Context, fn func(localcases.Tx) error) error {
	start := time.Now()
	err := t.Store.Update(ctx, fn)
	t.m.Transaction(t.engine, TxUpdate, time.Since(start))
	return err
}
