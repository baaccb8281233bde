package serve

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/baton-pipeline/baton/sinks/clickhouse"
)

// orderID is what an order ID (and a search term) may look like: what the
// storefronts and OMSs baton knows use (ORD-00000001, #1001, 5551234567,
// uuid), nothing that could be markup or a path. IDs arrive in URLs and are
// checked before anything is read.
var orderID = regexp.MustCompile(`^[A-Za-z0-9#][A-Za-z0-9._:#/-]{0,127}$`)

// validID reports whether id may be an order ID, tracking number,
// shipment ID or ticket ID.
func validID(id string) bool { return orderID.MatchString(id) }

// apiError is every error answer: what went wrong and what to do.
type apiError struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg, reason string) {
	writeJSON(w, code, apiError{Error: msg, Reason: reason})
}

// internalError logs err and answers 500 without its details (they may
// name tables and hosts).
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.Error("serve: request failed", "path", r.URL.Path, "err", err)
	if errors.Is(err, context.Canceled) {
		return
	}
	writeError(w, http.StatusInternalServerError, "reading ClickHouse failed", "see the server's log; retry later")
}

// order reads and judges one order; (zero, false) after answering the
// error when there is none to show.
func (s *Server) order(w http.ResponseWriter, r *http.Request, id string, fail func(int, string, string)) (OrderView, bool) {
	if !validID(id) {
		fail(http.StatusBadRequest, "malformed order ID", "an order ID is 1-128 letters, digits and . _ : # / -, starting with a letter, digit or #")
		return OrderView{}, false
	}
	rec, err := s.cfg.Store.Order(r.Context(), id)
	if errors.Is(err, clickhouse.ErrNoOrder) {
		fail(http.StatusNotFound, "no such order", "no system has reported order "+strconv.Quote(id)+" (yet)")
		return OrderView{}, false
	}
	if err == nil {
		var v OrderView
		if v, err = newOrderView(id, rec, s.cfg.Viewers, s.cfg.Now()); err == nil {
			return v, true
		}
	}
	s.internalError(w, r, err)
	return OrderView{}, false
}

// apiOrder is GET /api/orders/{id}.
func (s *Server) apiOrder(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, msg, reason string) { writeError(w, code, msg, reason) }
	if v, ok := s.order(w, r, r.PathValue("id"), fail); ok {
		writeJSON(w, http.StatusOK, v)
	}
}

// SearchAnswer is GET /api/search: the orders q names.
type SearchAnswer struct {
	Query  string                 `json:"q"`
	Orders []clickhouse.SearchHit `json:"orders"`
}

// search validates q and looks it up; ok false after answering an error.
func (s *Server) search(w http.ResponseWriter, r *http.Request, q string, fail func(int, string, string)) ([]clickhouse.SearchHit, bool) {
	if !validID(q) {
		fail(http.StatusBadRequest, "malformed search", "search for one order ID, tracking number, shipment ID or help-desk ticket ID")
		return nil, false
	}
	hits, err := s.cfg.Store.Search(r.Context(), q)
	if err != nil {
		s.internalError(w, r, err)
		return nil, false
	}
	return hits, true
}

// apiSearch is GET /api/search?q=: 200 with the orders found, [] if none.
func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	fail := func(code int, msg, reason string) { writeError(w, code, msg, reason) }
	if hits, ok := s.search(w, r, q, fail); ok {
		writeJSON(w, http.StatusOK, SearchAnswer{q, hits})
	}
}

// scorecard reads the scorecard of the window the query names (since,
// until: as `baton report --since/--until`); bad is a malformed window.
func (s *Server) scorecard(r *http.Request) (sc clickhouse.Scorecard, bad, err error) {
	q := r.URL.Query()
	since, until, bad := clickhouse.ParseWindow(q.Get("since"), q.Get("until"), s.cfg.Now(), "")
	if bad != nil {
		return sc, bad, nil
	}
	sc, err = s.cfg.Store.Scorecard(r.Context(), since, until)
	return sc, nil, err
}

// apiScorecard is GET /api/scorecard?since=&until=: the value `baton
// report --format json` prints under "scorecard".
func (s *Server) apiScorecard(w http.ResponseWriter, r *http.Request) {
	sc, bad, err := s.scorecard(r)
	switch {
	case bad != nil:
		writeError(w, http.StatusBadRequest, "malformed window", bad.Error())
	case err != nil:
		s.internalError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, sc)
	}
}

// apiWismo is GET /api/wismo?month=YYYY-MM[&months=N]: the value `baton
// report wismo --format json` prints.
func (s *Server) apiWismo(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	months := clickhouse.DefaultReviewMonths
	if m := q.Get("months"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil {
			writeError(w, http.StatusBadRequest, "malformed months", "months is a whole number of previous months, 0 to "+strconv.Itoa(clickhouse.MaxReviewMonths))
			return
		}
		months = n
	}
	if err := clickhouse.CheckReviewArgs(q.Get("month"), months, ""); err != nil {
		writeError(w, http.StatusBadRequest, "malformed review", err.Error())
		return
	}
	review, err := s.cfg.Store.WISMOReview(r.Context(), q.Get("month"), months)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, review)
}
