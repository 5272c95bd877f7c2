package admin

import (
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Stats is the body of GET /_localcases/stats: the process's resource use,
// so a load tool driving a server by URL can report its memory.
type Stats struct {
	RSSBytes       int64  `json:"rssBytes"`
	HeapAllocBytes uint64 `json:"heapAllocBytes"`
	Goroutines     int    `json:"goroutines"`
	NumGC          uint32 `json:"numGC"`
}

func (h *Handler) stats(w http.ResponseWriter, r *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	writeJSON(w, http.StatusOK, Stats{
		RSSBytes:       RSS(),
		HeapAllocBytes: ms.HeapAlloc,
		Goroutines:     runtime.NumGoroutine(),
		NumGC:          ms.NumGC,
	})
}

// RSS returns the resident set size of this process in bytes, or -1 where
// /proc is not available.
func RSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return kb * 1024
		}
	}
	return -1
}
