package admin

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
)

// Allow decides whether a request may use the admin namespace. With a token
// configured every request must carry it (Authorization: Bearer TOKEN);
// without one, only loopback clients are served, because the namespace can
// wipe state and break the service on purpose.
func Allow(r *http.Request, token string) error {
	if token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			return errors.New("the localcases admin API needs Authorization: Bearer <admin token>")
		}
		return nil
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return errors.New("the localcases admin API answers only loopback clients; set an admin token to use it remotely")
}

// RegisterProfiling serves Go's pprof under /_localcases/debug/pprof/, inside
// the protected admin namespace rather than on the API's port in the open.
func RegisterProfiling(h *Handler) {
	p := Prefix + "debug/pprof/"
	h.Handle(p, http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.HandlerFunc(pprofIndex)))
	h.Handle(p+"cmdline", http.HandlerFunc(pprof.Cmdline))
	h.Handle(p+"profile", http.HandlerFunc(pprof.Profile))
	h.Handle(p+"symbol", http.HandlerFunc(pprof.Symbol))
	h.Handle(p+"trace", http.HandlerFunc(pprof.Trace))
}

// pprofIndex serves the index and the named profiles (heap, goroutine, ...),
// which pprof.Index finds by the path after /debug/pprof/.
func pprofIndex(w http.ResponseWriter, r *http.Request) { pprof.Index(w, r) }
