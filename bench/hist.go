package bench

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram is a log-linear latency histogram in nanoseconds, the layout HDR
// histograms use: values below 2^(subBits+1) are counted exactly, larger ones
// keep their top subBits+1 significant bits, so every bucket is at most
// 1/2^subBits (0.8%) wide relative to its values. Written here rather than
// imported because it is forty lines, needs lock-free concurrent recording
// (atomic counters, so workers can share a few shards instead of each owning
// 35 KiB per operation), and keeps the module free of a dependency for it.
//
// Memory is fixed (maxBucket counters) whatever the run length, which is the
// point: a sorted-samples approach would grow with every request.
type histogram struct {
	counts [maxBucket]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64 // nanoseconds; overflows only after ~584 years of latency
	min    atomic.Uint64 // stored as ^value so the zero value means "none yet"
	max    atomic.Uint64
}

const (
	subBits = 7
	// maxValue caps recorded latencies at about 18 minutes; a request that
	// takes longer is recorded as maxValue (no request timeout is that long).
	maxValue  = 1<<40 - 1
	maxBucket = (40-subBits-1)<<subBits + 1<<(subBits+1)
)

func bucketOf(v uint64) int {
	shift := bits.Len64(v) - (subBits + 1)
	if shift <= 0 {
		return int(v)
	}
	return shift<<subBits + int(v>>uint(shift))
}

// bucketHigh is the largest value that falls in bucket i; percentiles report
// it so they never understate a latency.
func bucketHigh(i int) uint64 {
	if i < 1<<(subBits+1) {
		return uint64(i)
	}
	shift := i>>subBits - 1
	mant := uint64(i - shift<<subBits)
	return (mant+1)<<uint(shift) - 1
}

func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	v = min(v, maxValue)
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		old := h.max.Load()
		if v <= old || h.max.CompareAndSwap(old, v) {
			break
		}
	}
	for {
		old := h.min.Load()
		if (old != 0 && v >= ^old) || h.min.CompareAndSwap(old, ^v) {
			break
		}
	}
}

// merge adds o into h. Only called once recording has stopped.
func (h *histogram) merge(o *histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	h.sum.Add(o.sum.Load())
	if m := o.max.Load(); m > h.max.Load() {
		h.max.Store(m)
	}
	if m := o.min.Load(); m != 0 && (h.min.Load() == 0 || ^m < ^h.min.Load()) {
		h.min.Store(m)
	}
}

// quantile returns the value at quantile q in [0,1], clipped to the exact
// maximum so that p99 <= max always holds despite bucket rounding.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	MinMs  float64 `json:"minMs"`
	MeanMs float64 `json:"meanMs"`
	P50Ms  float64 `json:"p50Ms"`
	P90Ms  float64 `json:"p90Ms"`
	P99Ms  float64 `json:"p99Ms"`
	MaxMs  float64 `json:"maxMs"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (h *histogram) latency() Latency {
	n := h.n.Load()
	if n == 0 {
		return Latency{}
	}
	return Latency{
		MinMs:  ms(time.Duration(^h.min.Load())),
		MeanMs: ms(time.Duration(h.sum.Load() / n)),
		P50Ms:  ms(h.quantile(0.50)),
		P90Ms:  ms(h.quantile(0.90)),
		P99Ms:  ms(h.quantile(0.99)),
		MaxMs:  ms(time.Duration(h.max.Load())),
	}
}
