package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Event is the part of a Connect Cases event envelope the consumer reads.
type Event struct {
	ID     string `json:"id"`
	Detail struct {
		EventType             string    `json:"eventType"`
		ApproximateChangeTime time.Time `json:"approximateChangeTime"`
		Case                  *struct {
			CaseID string `json:"caseId"`
			Fields map[string]struct {
				Value map[string]any `json:"value"`
			} `json:"fields"`
		} `json:"case"`
		RelatedItem *struct {
			CaseID          string `json:"caseId"`
			RelatedItemID   string `json:"relatedItemId"`
			RelatedItemType string `json:"relatedItemType"`
		} `json:"relatedItem"`
	} `json:"detail"`
}

// Case is what the consumer knows of one case: the state of its latest
// change, and the related items added to it.
type Case struct {
	CaseID  string `json:"caseId"`
	Status  string `json:"status,omitempty"`
	Title   string `json:"title,omitempty"`
	Deleted bool   `json:"deleted,omitempty"`
	// Changed is the approximateChangeTime of the change this state is
	// from: an event about an earlier change does not overwrite it.
	Changed      time.Time `json:"changed"`
	RelatedItems []string  `json:"relatedItems,omitempty"`
}

// Consumer keeps a projection of cases from their events. It is
// idempotent by event id, and orders changes by approximateChangeTime,
// because delivery is at least once and in no guaranteed order, on AWS as
// under localcases' duplicate and reorder faults.
type Consumer struct {
	mu    sync.Mutex
	seen  map[string]bool
	cases map[string]*Case
	// Duplicates counts events received again; Stale counts events about
	// a change older than one already applied, which arrived late.
	Duplicates, Stale, Applied int
}

// NewConsumer returns an empty Consumer.
func NewConsumer() *Consumer {
	return &Consumer{seen: map[string]bool{}, cases: map[string]*Case{}}
}

// Apply applies one event and reports whether it changed anything.
func (c *Consumer) Apply(ev Event) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[ev.ID] {
		c.Duplicates++
		return false
	}
	c.seen[ev.ID] = true
	d := ev.Detail
	switch {
	case d.Case != nil:
		cs := c.caseLocked(d.Case.CaseID)
		// Equal times cannot be ordered (AWS gives milliseconds): the
		// first to arrive wins.
		if !cs.Changed.IsZero() && !d.ApproximateChangeTime.After(cs.Changed) {
			c.Stale++
			return false
		}
		cs.Changed = d.ApproximateChangeTime
		cs.Deleted = d.EventType == "CASE.DELETED"
		if f, ok := d.Case.Fields["status"]; ok {
			cs.Status, _ = f.Value["stringValue"].(string)
		}
		if f, ok := d.Case.Fields["title"]; ok {
			cs.Title, _ = f.Value["stringValue"].(string)
		}
	case d.RelatedItem != nil:
		// Adding an item commutes with every other change: order does not
		// matter, only that each is counted once.
		cs := c.caseLocked(d.RelatedItem.CaseID)
		cs.RelatedItems = append(cs.RelatedItems, d.RelatedItem.RelatedItemID)
		sort.Strings(cs.RelatedItems)
	default:
		return false
	}
	c.Applied++
	return true
}

func (c *Consumer) caseLocked(id string) *Case {
	cs := c.cases[id]
	if cs == nil {
		cs = &Case{CaseID: id}
		c.cases[id] = cs
	}
	return cs
}

// State is a copy of the projection and the counters.
type State struct {
	Cases      map[string]Case `json:"cases"`
	Applied    int             `json:"applied"`
	Duplicates int             `json:"duplicates"`
	Stale      int             `json:"stale"`
}

// State returns a copy of what the consumer knows.
func (c *Consumer) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := State{Cases: map[string]Case{}, Applied: c.Applied, Duplicates: c.Duplicates, Stale: c.Stale}
	for id, cs := range c.cases {
		cp := *cs
		cp.RelatedItems = append([]string(nil), cs.RelatedItems...)
		st.Cases[id] = cp
	}
	return st
}

// maxEvent bounds a posted event: EventBridge events are at most 256 KB.
const maxEvent = 256 << 10

// ServeHTTP takes events by POST /events and shows the state on GET
// /state. Anything else is refused with 404, and a malformed event with
// 400: localcases dead-letters an event refused with a 4xx at once rather
// than retrying it.
func (c *Consumer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/state" {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(c.State())
		return
	}
	if r.URL.Path != "/events" {
		http.Error(w, "POST events to /events; GET /state", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST an event", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEvent))
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" {
		if err == nil {
			err = errors.New("no id")
		}
		http.Error(w, "not a case event: "+err.Error(), http.StatusBadRequest)
		return
	}
	c.Apply(ev)
	w.WriteHeader(http.StatusNoContent)
}
