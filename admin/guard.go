package admin

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
)

// Allow decides whether a request may use the admin namespace. With a token
// configured every request must carry it (Authorization: Bearer TOKEN), or
// the session cookie the console's login sets from it; without one, only
// loopback clients are served, because the namespace can wipe state and
// break the service on purpose.
func Allow(r *http.Request, token string) error {
	if token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
			return nil
		}
		if c, err := r.Cookie(SessionCookie); err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(SessionValue(token))) == 1 {
			return nil
		}
		return errors.New("the localcases admin API needs Authorization: Bearer <admin token>")
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

// SessionCookie names the cookie the console's login sets, so that a
// browser, which cannot add an Authorization header to every request it
// makes (an EventSource cannot at all), presents the admin token's
// authority. The console sets it HttpOnly (no script reads it) and
// SameSite=Strict (no other site's page or link sends it).
const SessionCookie = "localcases_session"

// SessionValue is the session cookie's value for token: a MAC of a fixed
// label under the token. It grants what the token grants, but a cookie
// that leaks (a proxy log, a browser profile) does not reveal the token
// the CLI and scripts use; changing the token ends every session.
func SessionValue(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("localcases console session v1"))
	return hex.EncodeToString(m.Sum(nil))
}
