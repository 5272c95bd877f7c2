package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// statsClient is separate from the workload's so a sample never waits
// behind, or takes a connection from, the measured requests.
var statsClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1, Proxy: nil}}

// statusError is an answer other than 200: the endpoint is not there.
type statusError struct{ url, status string }

func (e *statusError) Error() string { return e.url + ": " + e.status }

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := statsClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &statusError{url: url, status: resp.Status}
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// sampler reads the server's RSS from GET /_localcases/stats. A server that
// answers without it (not localcases, or an older one) is not asked again;
// a sample that times out on a saturated machine is just skipped.
type sampler struct {
	url      string
	mu       sync.Mutex
	max      int64
	n        int
	lastGood int64
	missing  bool
}

func newSampler(base string) *sampler {
	return &sampler{url: base + "/_localcases/stats", max: -1, lastGood: -1}
}

// last is the most recent sample that succeeded, or -1.
func (s *sampler) last() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastGood
}

func (s *sampler) sample() int64 {
	s.mu.Lock()
	missing := s.missing
	s.mu.Unlock()
	if missing {
		return -1
	}
	var st struct {
		RSSBytes int64 `json:"rssBytes"`
	}
	err := getJSON(context.Background(), s.url, &st)
	s.mu.Lock()
	defer s.mu.Unlock()
	var se *statusError
	if errors.As(err, &se) || (err == nil && st.RSSBytes <= 0) {
		s.missing = true
		return -1
	}
	if err != nil {
		return -1
	}
	s.n++
	s.max = max(s.max, st.RSSBytes)
	s.lastGood = st.RSSBytes
	return st.RSSBytes
}

func (s *sampler) peak() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}

func (s *sampler) samples() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func mib(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
