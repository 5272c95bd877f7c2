package resilience

import "time"

const windowBuckets = 10

// window counts two quantities over a trailing time window, in ten buckets
// that expire one at a time. The zero value is not usable: width must be
// set. It is not safe for concurrent use; its owner locks.
type window struct {
	width   time.Duration
	buckets [windowBuckets]windowBucket
}

type windowBucket struct {
	idx  int64 // absolute bucket number: unix nanos / width
	a, b int
}

func newWindow(span time.Duration) window {
	return window{width: max(span/windowBuckets, time.Nanosecond)}
}

func (w *window) add(now time.Time, a, b int) {
	idx := now.UnixNano() / int64(w.width)
	bk := &w.buckets[((idx%windowBuckets)+windowBuckets)%windowBuckets]
	if bk.idx != idx {
		*bk = windowBucket{idx: idx}
	}
	bk.a += a
	bk.b += b
}

func (w *window) sums(now time.Time) (a, b int) {
	cur := now.UnixNano() / int64(w.width)
	for i := range w.buckets {
		bk := &w.buckets[i]
		if age := cur - bk.idx; age >= 0 && age < windowBuckets {
			a += bk.a
			b += bk.b
		}
	}
	return a, b
}
