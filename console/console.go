// Package console serves the localcases web console: a page, a script and a
// style sheet embedded in the binary, so it works offline and needs no
// build step. The page reads and changes nothing itself; in the browser it
// calls the Cases API on its real REST-JSON paths (as an SDK would) and the
// admin API under /_localcases/, over the same origin, so everything it
// shows is what those APIs answer and every change goes through their
// rules.
//
// The console is served at /_localcases/ui/ and, for a browser asking for
// HTML, at / (the API has no route there). It is protected as the admin API
// is (loopback, or the admin token); with a token, the login form trades it
// for an HttpOnly, SameSite=Strict session cookie (admin.SessionCookie), so
// the token never sits in a URL or in script-readable storage. Every answer
// carries a Content-Security-Policy that allows only the console's own
// files, and forbids framing.
package console

import (
	"crypto/subtle"
	"embed"
	"encoding/json"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/localcases/localcases/admin"
)

// Prefix is where the console lives, inside the admin namespace.
const Prefix = admin.Prefix + "ui/"

//go:embed ui
var files embed.FS

// Options configures the console.
type Options struct {
	// AdminToken is the server's admin token; empty when it has none.
	AdminToken string
	// AuthMode reports the API's authentication mode ("permissive" or
	// "strict"), so the page knows whether it must sign its calls.
	AuthMode func() string
}

// Handler serves the console.
type Handler struct {
	opts Options
	ui   fs.FS
}

// New returns the console handler.
func New(opts Options) *Handler {
	sub, err := fs.Sub(files, "ui")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return &Handler{opts: opts, ui: sub}
}

// IsRoot reports whether r is a browser asking for the console at /: a GET
// or HEAD of / that accepts HTML. Nothing else at / is the console (the
// AWS Health API takes POST /).
func IsRoot(r *http.Request) bool {
	if r.URL.Path != "/" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/html" {
			return true
		}
	}
	return false
}

// Handles reports whether r is for the console (at / or under Prefix).
func Handles(r *http.Request) bool {
	return IsRoot(r) || strings.HasPrefix(r.URL.Path, Prefix)
}

// Public reports whether r may be answered without the admin token: the
// page, its files, the session check and the login itself, which hold no
// data. Everything the page then shows comes from the admin API and the
// Cases API, which keep their own protection.
func Public(r *http.Request) bool {
	if IsRoot(r) {
		return true
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return true
	case http.MethodPost:
		return name == "login" || name == "logout"
	}
	return false
}

// SecurityHeaders sets the headers every console answer carries: scripts,
// styles and connections only from this origin (no inline script, so
// injected markup cannot run), no framing (clickjacking), no MIME sniffing,
// no Referer (the page's URL leaves with no request), and a window and
// resources no other origin can reach into.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	SecurityHeaders(w.Header())
	if IsRoot(r) {
		h.file(w, r, "index.html")
		return
	}
	name := strings.TrimPrefix(r.URL.Path, Prefix)
	switch {
	case r.Method == http.MethodPost && name == "login":
		h.login(w, r)
	case r.Method == http.MethodPost && name == "logout":
		h.logout(w, r)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", "GET, HEAD")
		admin.WriteError(w, http.StatusMethodNotAllowed, "the console's files are read with GET")
	case name == "session":
		h.session(w, r)
	case name == "":
		h.file(w, r, "index.html")
	default:
		h.file(w, r, name)
	}
}

// file serves one embedded file. Names are exact: no directory listings,
// no dot segments.
func (h *Handler) file(w http.ResponseWriter, r *http.Request, name string) {
	if name != path.Clean(name) || strings.HasPrefix(name, ".") || !fs.ValidPath(name) {
		admin.WriteError(w, http.StatusNotFound, "no console file "+r.URL.EscapedPath())
		return
	}
	data, err := fs.ReadFile(h.ui, name)
	if err != nil {
		admin.WriteError(w, http.StatusNotFound, "no console file "+r.URL.EscapedPath())
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	// The files change with the binary; a reload after an upgrade must
	// not mix old and new.
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

// Session is the body of GET /_localcases/ui/session.
type Session struct {
	// TokenRequired: the server has an admin token, so the console needs
	// a login.
	TokenRequired bool `json:"tokenRequired"`
	// Authenticated: this browser may use the admin API.
	Authenticated bool `json:"authenticated"`
	// AuthMode is the API's authentication mode, told only to an
	// authenticated browser: in "strict" the console signs its API calls.
	AuthMode string `json:"authMode,omitempty"`
}

func (h *Handler) session(w http.ResponseWriter, r *http.Request) {
	s := Session{TokenRequired: h.opts.AdminToken != ""}
	s.Authenticated = admin.Allow(r, h.opts.AdminToken) == nil
	if s.Authenticated && h.opts.AuthMode != nil {
		s.AuthMode = h.opts.AuthMode()
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, s)
}

// login trades the admin token, sent in a JSON body (never a URL), for the
// session cookie. The guard in front has already refused a cross-site or
// form-encoded request.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if h.opts.AdminToken == "" {
		writeJSON(w, http.StatusOK, Session{Authenticated: admin.Allow(r, "") == nil})
		return
	}
	var in struct {
		Token string `json:"token"`
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4096))
	if err == nil {
		err = json.Unmarshal(data, &in)
	}
	if err != nil {
		admin.WriteError(w, http.StatusBadRequest, `the login body is {"token": "<admin token>"}`)
		return
	}
	if subtle.ConstantTimeCompare([]byte(in.Token), []byte(h.opts.AdminToken)) != 1 {
		admin.WriteError(w, http.StatusForbidden, "that is not the server's admin token")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: admin.SessionCookie, Value: admin.SessionValue(h.opts.AdminToken), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	writeJSON(w, http.StatusOK, Session{TokenRequired: true, Authenticated: true})
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: admin.SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	writeJSON(w, http.StatusOK, Session{TokenRequired: h.opts.AdminToken != ""})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}
