package server

import (
	"errors"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/auth"
)

// A browser on the developer's machine can reach a server that listens on
// loopback, so every surface whose only protection is where the request
// comes from (the API in permissive mode, the control plane without an admin
// token) is guarded against web pages:
//
//   - DNS rebinding: the Host header must name this machine (localhost,
//     *.localhost, an IP address, the machine's host name) or one of
//     Config.AllowedHosts. A rebound name is the attacker's own domain, so it
//     fails; an IP address cannot be rebound.
//   - Cross-site requests: a state change that a browser marks cross-site
//     (Sec-Fetch-Site) or whose Origin is another host is refused, by Go's
//     http.CrossOriginProtection.
//   - Simple requests: a state change whose body a browser could send
//     without a CORS preflight (text/plain, a form, or a body with no
//     Content-Type) is refused. Any other type makes the browser ask first,
//     and no preflight is ever granted: no response carries
//     Access-Control-Allow-Origin.
//
// The SDKs and the CLI send no Origin or Sec-Fetch-Site header, name the
// endpoint they were given as the Host, and send JSON, so none of this
// touches them.
type guard struct {
	hosts     []string // lower case; "*.name" matches subdomains; "*" matches all
	crossSite *http.CrossOriginProtection
}

func newGuard(allowed []string, listen string) *guard {
	g := &guard{crossSite: http.NewCrossOriginProtection()}
	for _, h := range allowed {
		g.hosts = append(g.hosts, strings.ToLower(strings.TrimSuffix(h, ".")))
	}
	if name, err := os.Hostname(); err == nil && name != "" {
		g.hosts = append(g.hosts, strings.ToLower(name))
	}
	if host, _, err := net.SplitHostPort(listen); err == nil && host != "" {
		g.hosts = append(g.hosts, strings.ToLower(host))
	}
	return g
}

var (
	errHost        = errors.New("the Host header does not name this server")
	errContentType = errors.New("a state-changing request must have a JSON body type (Content-Type: application/json), not one a web page can send without a preflight")
)

// check returns why r must be refused, or nil. checkHost is false where a
// credential, not the network, protects the surface: a rebound page cannot
// present it.
func (g *guard) check(r *http.Request, checkHost bool) error {
	if checkHost && !g.hostAllowed(r.Host) {
		return errHost
	}
	if err := g.crossSite.Check(r); err != nil {
		return err
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		if r.ContentLength != 0 {
			return errContentType
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return errContentType
	}
	switch mt {
	case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return errContentType
	}
	return nil
}

func (g *guard) hostAllowed(hostport string) bool {
	if hostport == "" {
		return true // HTTP/1.0 without Host: no browser sends that
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, a := range g.hosts {
		switch {
		case a == "*", a == host:
			return true
		case strings.HasPrefix(a, "*.") && strings.HasSuffix(host, a[1:]):
			return true
		}
	}
	return false
}

// controlPlane reports whether path belongs to the server's own surfaces
// (the admin namespace, the console and metrics under it, /metrics) rather
// than to an emulated AWS API.
func controlPlane(path string) bool {
	return strings.HasPrefix(path, admin.Prefix) || path == "/metrics"
}

// guarded wraps the whole HTTP surface with the guard: the control plane
// always (the Host check only without an admin token), and the APIs unless
// strict SigV4 protects them, since a browser cannot sign.
func (s *Server) guarded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if controlPlane(r.URL.Path) {
			if err := s.guard.check(r, s.cfg.AdminToken == ""); err != nil {
				if r.ContentLength != 0 {
					w.Header().Set("Connection", "close") // answer without reading the body
				}
				admin.WriteError(w, http.StatusForbidden, "localcases refused this request: "+err.Error()+". See docs/SECURITY.md.")
				return
			}
		} else if s.verifier.p.Load().Mode() == auth.Permissive {
			if err := s.guard.check(r, true); err != nil {
				s.api.WriteError(w, r, api.Errorf(api.CodeAccessDeniedException, "localcases refused this request: %s. See docs/SECURITY.md.", err.Error()))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
