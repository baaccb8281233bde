// Package serve is `baton serve`: an HTTP server over what the pipeline
// stores in ClickHouse, for the people who look at orders rather than
// query them.
//
//   - a JSON API: one order's truth, systems, shipments, timeline, checks,
//     delay notices and WISMO tickets (GET /api/orders/{id}); a lookup by
//     order ID, tracking number, shipment ID or help-desk ticket ID
//     (GET /api/search?q=); the scorecard and the monthly WISMO review, the
//     same values `baton report --format json` prints (GET /api/scorecard,
//     GET /api/wismo);
//   - server-rendered pages for agents (/, /orders/{id}) and analysts
//     (/scorecard, with SVG charts drawn here), everything embedded in the
//     binary: no build step, no CDN, nothing fetched at run time;
//   - the Zendesk sidebar's target: pages may be framed by the configured
//     Zendesk subdomain only.
//
// ClickHouse is the source of truth: the server keeps no copy of the state
// and every answer is read when asked. Access: without a token only a
// loopback listener is allowed; with one every request needs it (a bearer
// token, or the login cookie for the pages).
package serve

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// DefaultListen is where `baton serve` listens unless told otherwise:
// loopback, so nothing is exposed without a token.
const DefaultListen = "127.0.0.1:8090"

// Config is what a Server needs.
type Config struct {
	// Store is the ClickHouse client the answers are read from.
	Store *clickhouse.Client
	// Listen is the address the server will listen on; only used to decide
	// whether a token is required (CheckAccess).
	Listen string
	// Token, when set, is required of every request: "Authorization:
	// Bearer <token>", or the login cookie POST /login sets for the pages.
	Token string
	// ZendeskSubdomain (e.g. "acme" for acme.zendesk.com) is the only
	// origin allowed to frame the pages; empty: no framing at all.
	ZendeskSubdomain string
	// Viewers gives each viewer's SLA and the statuses it must reflect;
	// nil: the embedded rules.
	Viewers *synccheck.Viewers
	// Metrics counts requests and latency by route; required.
	Metrics *Metrics
	// Logger logs failures; nil: slog.Default().
	Logger *slog.Logger
	// Now is the clock "behind" and "past its SLA" are measured with;
	// nil: time.Now.
	Now func() time.Time
}

// Server answers the API and the pages. It is safe for concurrent use.
type Server struct {
	cfg     Config
	handler http.Handler
	pages   *pages
}

var zendeskSubdomain = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// CheckAccess refuses a listener other than loopback without a token: a
// server reachable from the network must not answer anyone who asks.
func CheckAccess(listen, token string) error {
	if token != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", listen, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("listening on %s (not loopback) needs a token: set --token or BATON_SERVE_TOKEN", listen)
}

// New checks cfg and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Metrics == nil {
		return nil, errors.New("serve: Store and Metrics are required")
	}
	if err := CheckAccess(cfg.Listen, cfg.Token); err != nil {
		return nil, err
	}
	if cfg.ZendeskSubdomain != "" && !zendeskSubdomain.MatchString(cfg.ZendeskSubdomain) {
		return nil, fmt.Errorf("zendesk subdomain %q: want the name before .zendesk.com, e.g. acme", cfg.ZendeskSubdomain)
	}
	if cfg.Viewers == nil {
		v, err := synccheck.DefaultViewers()
		if err != nil {
			return nil, err
		}
		cfg.Viewers = v
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p, err := newPages()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, pages: p}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/orders/{id}", s.apiOrder)
	mux.HandleFunc("GET /api/search", s.apiSearch)
	mux.HandleFunc("GET /api/scorecard", s.apiScorecard)
	mux.HandleFunc("GET /api/wismo", s.apiWismo)
	mux.HandleFunc("GET /api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint", "see README: The order API")
	})
	mux.HandleFunc("GET /{$}", s.pageIndex)
	mux.HandleFunc("GET /orders/{id}", s.pageOrder)
	mux.HandleFunc("GET /scorecard", s.pageScorecard)
	mux.HandleFunc("GET /login", s.pageLogin)
	mux.HandleFunc("POST /login", s.postLogin)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(staticFS)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	return s.cfg.Metrics.instrument(s.secure(s.authorize(mux)))
}

// secure sets the security headers of every response: a strict content
// security policy (everything is served from here; no inline script),
// framing by the Zendesk subdomain only, no sniffing, no referrer, no
// caching (answers are about customers and change as events arrive).
func (s *Server) secure(next http.Handler) http.Handler {
	ancestors := "'none'"
	if s.cfg.ZendeskSubdomain != "" {
		ancestors = "https://" + s.cfg.ZendeskSubdomain + ".zendesk.com"
	}
	csp := "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; " +
		"form-action 'self'; base-uri 'none'; frame-ancestors " + ancestors
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		if s.cfg.ZendeskSubdomain == "" {
			h.Set("X-Frame-Options", "DENY") // for browsers without CSP frame-ancestors
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// sessionCookie is the login cookie's name; its value is sessionValue,
// derived from the token, so the cookie never holds the token itself and
// changing the token logs everyone out.
const sessionCookie = "baton_session"

func (s *Server) sessionValue() string {
	m := hmac.New(sha256.New, []byte(s.cfg.Token))
	m.Write([]byte("baton serve session v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// authorized says whether r carries the token or the login cookie; always
// true without a token (loopback only, see CheckAccess).
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.Token == "" {
		return true
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return hmac.Equal([]byte(bearer), []byte(s.cfg.Token))
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return hmac.Equal([]byte(c.Value), []byte(s.sessionValue()))
	}
	return false
}

// authorize lets through authorized requests, the login page and the
// static assets (the login page's style); the API answers 401, a page
// redirects to the login page, which comes back to it.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case s.authorized(r), r.URL.Path == "/login", strings.HasPrefix(r.URL.Path, "/static/"), r.URL.Path == "/healthz":
			next.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/api/"):
			w.Header().Set("WWW-Authenticate", `Bearer realm="baton"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong token", "send Authorization: Bearer <token>")
		default:
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		}
	})
}
