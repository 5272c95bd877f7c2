package events

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/store/memory"
)

func appendEvent(t *testing.T, s localcases.Store, domain, data string) {
	t.Helper()
	err := s.Update(context.Background(), func(tx localcases.Tx) error {
		_, err := tx.AppendEvent(domain, time.Now(), []byte(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNotifierWakesAWaitingPoll: with rechecks an hour apart, only the
// notifier can end the wait before the test's own deadline.
func TestNotifierWakesAWaitingPoll(t *testing.T) {
	s := memory.New()
	n := &Notifier{}
	read := make(chan struct{}, 10)
	h := NewHandler(Options{Store: viewSignal{s, read}, Notifier: n, Recheck: time.Hour})
	srv := httptest.NewServer(h)
	defer srv.Close()
	got := make(chan Page, 1)
	go func() {
		resp, err := http.Get(srv.URL + "?wait=20")
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		defer resp.Body.Close()
		var p Page
		json.NewDecoder(resp.Body).Decode(&p)
		got <- p
	}()
	// Once the poll has found the outbox empty, it holds the channel of
	// the next notification (taken before its read).
	<-read
	appendEvent(t, s, "d", `{"n":1}`)
	n.Notify()
	p := <-got
	if len(p.Events) != 1 || string(p.Events[0]) != `{"n":1}` || p.Cursor != "1" {
		t.Fatalf("page = %+v", p)
	}
}

// viewSignal reports each finished View on read.
type viewSignal struct {
	localcases.Store
	read chan struct{}
}

func (v viewSignal) View(ctx context.Context, fn func(localcases.Tx) error) error {
	err := v.Store.View(ctx, fn)
	v.read <- struct{}{}
	return err
}

func TestNotifierWithoutWaitersIsFree(t *testing.T) {
	var n Notifier
	n.Notify() // nobody waits: no channel to close
	w := n.Wait()
	n.Notify()
	select {
	case <-w:
	default:
		t.Fatal("Notify did not close the channel a waiter held")
	}
	if n.Wait() == w {
		t.Fatal("a new wait got the closed channel")
	}
}

func TestPollPagesThroughTheOutbox(t *testing.T) {
	s := memory.New()
	for i := range 5 {
		appendEvent(t, s, []string{"a", "b"}[i%2], strconv.Itoa(i))
	}
	srv := httptest.NewServer(NewHandler(Options{Store: s}))
	defer srv.Close()
	get := func(q url.Values) Page {
		t.Helper()
		resp, err := http.Get(srv.URL + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p Page
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := get(url.Values{"limit": {"2"}})
	if len(p.Events) != 2 || string(p.Events[1]) != "1" || p.Cursor != "2" {
		t.Fatalf("first page = %+v", p)
	}
	p = get(url.Values{"after": {p.Cursor}, "domainId": {"a"}})
	if len(p.Events) != 2 || string(p.Events[0]) != "2" || string(p.Events[1]) != "4" || p.Cursor != "5" {
		t.Fatalf("domain a after 2 = %+v", p)
	}
	p = get(url.Values{"after": {p.Cursor}})
	if len(p.Events) != 0 || p.Cursor != "5" {
		t.Fatalf("past the end = %+v", p)
	}
	// A cursor this outbox never reached is refused, not waited on.
	resp, err := http.Get(srv.URL + "?after=9&wait=20")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "past the newest event") {
		t.Errorf("a cursor ahead of the outbox: %d %s", resp.StatusCode, body)
	}
}

func TestRetainerTrimsByCountAndAge(t *testing.T) {
	s := memory.New()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range 6 {
		err := s.Update(context.Background(), func(tx localcases.Tx) error {
			_, err := tx.AppendEvent("d", now.Add(time.Duration(i-6)*time.Hour), []byte(strconv.Itoa(i)))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	clock := fixedClock(now)
	rt := &Retainer{store: s, r: Retention{Count: 4, Age: 150 * time.Minute, Clock: clock}}
	n, err := rt.Trim(context.Background())
	if err != nil || n != 4 {
		t.Fatalf("Trim = %d, %v; want 4 (two past the count, two more past the age)", n, err)
	}
	rt.r.Pin = func(localcases.Tx) (int64, bool, error) { return 0, true, nil }
	rt.r.Count = 1
	if n, _ := rt.Trim(context.Background()); n != 0 {
		t.Errorf("a pinned trim dropped %d", n)
	}
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"", "0", "12", "-1", "007", "9223372036854775807", "9223372036854775808", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseCursor(s)
		if err != nil {
			return
		}
		if n < 0 || (s != "" && FormatCursor(n) != s) {
			t.Fatalf("ParseCursor(%q) = %d, which does not round-trip", s, n)
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "wait=1.5", "after=3&domainId=d&limit=10", "wait=1e9", "wait=-0", "limit=1000", "x=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest(http.MethodGet, "/_localcases/events", nil)
		r.URL.RawQuery = raw
		q, err := parseQuery(r)
		if err != nil {
			return
		}
		if q.wait < 0 || q.wait > MaxWait || q.limit < 1 || q.limit > MaxLimit || q.after < 0 {
			t.Fatalf("parseQuery(%q) accepted %+v", raw, q)
		}
	})
}
