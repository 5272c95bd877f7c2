package sqlstore

import (
	"fmt"
	"time"
)

// TrimBound is the highest sequence number a trim deletes up to (0:
// none): the larger of the count bound (the seq keepLast places from the
// newest, which byCount(keepLast) returns, 0 if there are not that many)
// and the age bound (the newest seq appended before before, from byAge),
// capped at upTo.
func TrimBound(keepLast int, before, upTo int64, byCount func(offset int) (int64, error), byAge func(before int64) (int64, error)) (int64, error) {
	var bound int64
	if keepLast > 0 {
		seq, err := byCount(keepLast)
		if err != nil {
			return 0, err
		}
		bound = seq
	}
	if before != -1<<63 {
		seq, err := byAge(before)
		if err != nil {
			return 0, err
		}
		bound = max(bound, seq)
	}
	return min(bound, upTo), nil
}

// MillisTime scans Unix milliseconds into a time.Time.
type MillisTime struct{ T *time.Time }

func (m MillisTime) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*m.T = time.UnixMilli(v).UTC()
		return nil
	case nil:
		*m.T = time.Time{}
		return nil
	}
	return fmt.Errorf("event time: unexpected %T", src)
}
