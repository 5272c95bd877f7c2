package memory

import (
	"sort"
	"strconv"

	"github.com/localcases/localcases"
)

var _ localcases.IndexLogTx = (*tx)(nil)

// logKeep bounds the index log: past it, the older half is forgotten, and
// a mark from before it must read the index again.
const logKeep = 8192

// indexLog numbers every SetIndex (ver) and remembers the owner of the
// newest ones. Writers hold the store's lock, so a View's mark is exact.
// A rolled-back change keeps its entry: an owner logged with no change is
// allowed.
type indexLog struct {
	ver     int64
	floor   int64 // the changes up to floor are forgotten
	entries []logEntry
}

type logEntry struct {
	ver   int64
	owner string
}

func (l *indexLog) add(owner string) {
	l.ver++
	if len(l.entries) >= logKeep {
		drop := len(l.entries) / 2
		l.floor = l.entries[drop-1].ver
		l.entries = append(l.entries[:0], l.entries[drop:]...)
	}
	l.entries = append(l.entries, logEntry{l.ver, owner})
}

// forget makes every earlier mark unknown (Reset).
func (l *indexLog) forget() {
	l.ver++
	l.floor, l.entries = l.ver, nil
}

func (t *tx) IndexMark() (string, error) {
	return strconv.FormatInt(t.s.ilog.ver, 10), nil
}

func (t *tx) IndexChangedSince(mark string, limit int) ([]string, bool, error) {
	l := &t.s.ilog
	v, err := strconv.ParseInt(mark, 10, 64)
	if err != nil || v < l.floor || v > l.ver {
		return nil, false, nil
	}
	i := sort.Search(len(l.entries), func(i int) bool { return l.entries[i].ver > v })
	if len(l.entries)-i > limit {
		return nil, false, nil
	}
	owners := make([]string, 0, len(l.entries)-i)
	for _, e := range l.entries[i:] {
		owners = append(owners, e.owner)
	}
	return owners, true, nil
}
