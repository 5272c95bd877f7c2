package server

import (
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/auth"
	"github.com/localcases/localcases/console"
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
//   - Cross-site reads of the control plane: a request a browser marks
//     cross-site or same-site (Sec-Fetch-Site), or whose Origin is another
//     host, is refused unless it is the user following a link (a top-level
//     navigation), so another site's script or <script src> cannot even
//     make the request, whatever CORS would let it read.
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
	errCrossRead   = errors.New("a page on another site may not read the localcases control plane or console")
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

// checkRead refuses a read of the control plane that a page on another
// site sent. Browsers mark every request with Sec-Fetch-Site; older ones
// send Origin on a cross-origin fetch. A navigation (the user following a
// link or typing the URL) is let through: its answer goes to the user's
// own tab, not to the page that linked it. Loading into a frame is not
// (the console's headers forbid framing as well).
func checkRead(r *http.Request) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		if r.Header.Get("Sec-Fetch-Mode") == "navigate" {
			switch r.Header.Get("Sec-Fetch-Dest") {
			case "iframe", "frame", "embed", "object", "fencedframe":
				return errCrossRead
			}
			return nil
		}
		return errCrossRead
	case "":
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || u.Host != r.Host {
				return errCrossRead
			}
		}
	}
	return nil
}

// controlPlane reports whether r is for the server's own surfaces (the
// admin namespace, the console under it or at / for a browser, /metrics)
// rather than for an emulated AWS API.
func controlPlane(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, admin.Prefix) || r.URL.Path == "/metrics" || console.IsRoot(r)
}

// guarded wraps the whole HTTP surface with the guard: the control plane
// always (the Host check only without an admin token), and the APIs unless
// strict SigV4 protects them, since a browser cannot sign.
func (s *Server) guarded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if controlPlane(r) {
			err := s.guard.check(r, s.cfg.AdminToken == "")
			if err == nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
				err = checkRead(r)
			}
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.Header().Set("Cross-Origin-Resource-Policy", "same-origin")
			if err != nil {
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
