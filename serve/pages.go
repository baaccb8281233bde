package serve

import (
	"bytes"
	"crypto/hmac"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/internal/textfmt"
	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticRoot embed.FS

// staticFS is served at /static/: the style sheet and the search box's
// script, embedded so the binary needs nothing beside it.
var staticFS, _ = fs.Sub(staticRoot, "static")

// pages are the parsed templates, one set per page so each defines its
// own "content" inside the shared layout.
type pages struct{ byName map[string]*template.Template }

func newPages() (*pages, error) {
	funcs := template.FuncMap{
		"when":    when,
		"percent": textfmt.Percent,
		"verdict": textfmt.Verdict,
		"ms":      func(ms int64) string { return words(time.Duration(ms) * time.Millisecond) },
		"lower":   strings.ToLower,
		"system":  systemName,
		"carrier": carrierLabel,
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range []string{"index", "order", "scorecard", "login", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		p.byName[name] = t
	}
	return p, nil
}

// render executes a page into a buffer first, so a template error is a
// clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.byName[name].Execute(&buf, data); err != nil {
		s.cfg.Logger.Error("serve: rendering failed", "page", name, "err", err)
		http.Error(w, "rendering failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// pageFail renders the error page for a page request.
func (s *Server) pageFail(w http.ResponseWriter, r *http.Request) func(int, string, string) {
	return func(code int, msg, reason string) {
		s.render(w, r, code, "error", map[string]any{"Title": msg, "Message": msg, "Reason": reason})
	}
}

// pageIndex is the search page; ?q= searches, and a search that finds
// one order goes straight to it.
func (s *Server) pageIndex(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	data := map[string]any{"Title": "Find an order", "Query": q}
	if q != "" {
		hits, ok := s.search(w, r, q, s.pageFail(w, r))
		if !ok {
			return
		}
		if len(hits) == 1 {
			http.Redirect(w, r, "/orders/"+url.PathEscape(hits[0].OrderID), http.StatusSeeOther)
			return
		}
		data["Hits"], data["Searched"] = hits, true
	}
	s.render(w, r, http.StatusOK, "index", data)
}

// pageOrder is /orders/{id}, the deep link a help-desk macro or the
// Zendesk sidebar opens.
func (s *Server) pageOrder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if v, ok := s.order(w, r, id, s.pageFail(w, r)); ok {
		s.render(w, r, http.StatusOK, "order", map[string]any{"Title": "Order " + id, "Query": id, "O": v})
	}
}

// pageScorecard is /scorecard?since=&until=: the scorecard and its charts.
func (s *Server) pageScorecard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sc, bad, err := s.scorecard(r)
	if bad != nil {
		s.pageFail(w, r)(http.StatusBadRequest, "malformed window", bad.Error())
		return
	}
	var charts []template.HTML
	if err == nil {
		charts, err = s.charts(r, sc)
	}
	if err != nil {
		s.cfg.Logger.Error("serve: scorecard failed", "err", err)
		s.pageFail(w, r)(http.StatusInternalServerError, "reading ClickHouse failed", "see the server's log; retry later")
		return
	}
	s.render(w, r, http.StatusOK, "scorecard", map[string]any{"Title": "Scorecard", "S": sc, "Charts": charts,
		"Since": q.Get("since"), "Until": q.Get("until")})
}

// charts draws the scorecard page's four charts for sc's window.
func (s *Server) charts(r *http.Request, sc clickhouse.Scorecard) ([]template.HTML, error) {
	var since, until time.Time
	if sc.Since != nil {
		since = *sc.Since
	}
	if sc.Until != nil {
		until = *sc.Until
	}
	days, err := s.cfg.Store.AccuracyByDay(r.Context(), since, until)
	if err != nil {
		return nil, err
	}
	hours, err := s.cfg.Store.FailedSyncsByHour(r.Context(), since, until)
	if err != nil {
		return nil, err
	}
	months, err := s.cfg.Store.WISMOByMonth(r.Context(), since, until)
	if err != nil {
		return nil, err
	}
	return []template.HTML{
		accuracyChart(days).svg(), latencyChart(sc.Latency).svg(), failuresChart(hours).svg(), wismoChart(months).svg(),
	}, nil
}

// pageLogin asks for the token (only useful when one is configured).
func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", map[string]any{"Title": "Sign in", "Next": safeNext(r.URL.Query().Get("next")),
		"NoToken": s.cfg.Token == ""})
}

// postLogin checks the token and sets the session cookie: HttpOnly, and
// SameSite=None; Secure over HTTPS, which the Zendesk sidebar's iframe
// needs (a third-party context), Lax otherwise.
func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.FormValue("next"))
	if s.cfg.Token == "" || !hmac.Equal([]byte(r.FormValue("token")), []byte(s.cfg.Token)) {
		s.render(w, r, http.StatusUnauthorized, "login", map[string]any{"Title": "Sign in", "Next": next, "Wrong": true, "NoToken": s.cfg.Token == ""})
		return
	}
	c := &http.Cookie{Name: sessionCookie, Value: s.sessionValue(), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		MaxAge: int((12 * time.Hour).Seconds())}
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	http.SetCookie(w, c)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this server: a path, never a
// URL elsewhere ("//evil.example" included).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
