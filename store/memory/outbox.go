package memory

import (
	"errors"
	"sort"
	"time"

	"github.com/localcases/localcases"
)

// outbox is the store's event log: appended in sequence order, trimmed
// from the front.
type outbox struct {
	events []localcases.OutboxEvent
	seq    int64 // the last sequence number handed out
}

// outboxUndo restores the outbox to its state before the transaction.
type outboxUndo struct {
	events []localcases.OutboxEvent
	seq    int64
	saved  bool
}

var errReadOnlyOutbox = errors.New("memory: outbox write in a read-only transaction")

func (t *tx) saveOutbox() {
	if t.oundo.saved {
		return
	}
	// The slice is only ever appended to or re-sliced from the front, so
	// keeping the header is enough to restore it: appends land past its
	// length, and a trim allocates a new slice.
	t.oundo = outboxUndo{events: t.s.outbox.events, seq: t.s.outbox.seq, saved: true}
}

func (t *tx) rollbackOutbox() {
	if t.oundo.saved {
		t.s.outbox.events = t.oundo.events
		t.s.outbox.seq = t.oundo.seq
	}
}

func (t *tx) AppendEvent(domainID string, at time.Time, data []byte) (int64, error) {
	if t.readOnly {
		return 0, errReadOnlyOutbox
	}
	t.saveOutbox()
	o := &t.s.outbox
	o.seq++
	// In place: the saved header of a rollback keeps its own length, so
	// what this transaction appends past it is simply forgotten, and
	// nothing outside the store's lock holds the array (ListEvents copies).
	// Copying the slice on every append made each one cost the whole
	// outbox.
	o.events = append(o.events, localcases.OutboxEvent{
		Seq: o.seq, DomainID: domainID, Time: at, Data: append([]byte(nil), data...),
	})
	return o.seq, nil
}

func (t *tx) ListEvents(after int64, domainID string, limit int) ([]localcases.OutboxEvent, error) {
	evs := t.s.outbox.events
	i := sort.Search(len(evs), func(i int) bool { return evs[i].Seq > after })
	var out []localcases.OutboxEvent
	for _, e := range evs[i:] {
		if len(out) >= limit {
			break
		}
		if domainID != "" && e.DomainID != domainID {
			continue
		}
		e.Data = append([]byte(nil), e.Data...)
		out = append(out, e)
	}
	return out, nil
}

func (t *tx) TrimEvents(p localcases.TrimPolicy) (int, error) {
	if t.readOnly {
		return 0, errReadOnlyOutbox
	}
	evs := t.s.outbox.events
	drop := 0
	if p.KeepLast > 0 && len(evs) > p.KeepLast {
		drop = len(evs) - p.KeepLast
	}
	if !p.Before.IsZero() {
		for i := len(evs) - 1; i >= drop; i-- {
			if evs[i].Time.Before(p.Before) {
				drop = i + 1
				break
			}
		}
	}
	for drop > 0 && evs[drop-1].Seq > p.UpTo {
		drop--
	}
	if drop == 0 {
		return 0, nil
	}
	t.saveOutbox()
	t.s.outbox.events = append([]localcases.OutboxEvent(nil), evs[drop:]...)
	return drop, nil
}

func (t *tx) LastEventSeq() (int64, error) { return t.s.outbox.seq, nil }
