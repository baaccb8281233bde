// Package simrules gives the simulator's ground truth the pipeline's own
// rules: the status maps (package statusmap) that turn each system's codes
// into canonical statuses, the authority rules (package unify) that decide
// the order's truth, the viewer rules (package synccheck) that check
// every viewer against it, and the WISMO rules (package wismo) that
// classify tickets and name the viewers a ticket may be attributed to. The simulator cannot import them itself (their
// tests import the simulator), so they are passed to it as
// simulator.ViewerFaults.Rules.
package simrules

import (
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/processors/unify"
	"github.com/baton-pipeline/baton/processors/wismo"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/simulator"
	"github.com/baton-pipeline/baton/statusmap"
)

// Rules implements simulator.Rules over the pipeline's rule sets.
type Rules struct {
	maps    *statusmap.Set
	auth    Authority
	viewers *synccheck.Viewers
	wismo   *wismo.Rules
}

// Authority is the part of the authority rules the ground truth reads;
// *unify.Authority has it.
type Authority interface {
	Of(status canonical.Status) (schemas.System, bool)
	HintSystem() schemas.System
}

// New combines rule sets, e.g. the files a pipeline run was given, with
// the embedded WISMO rules (WithWismo sets others).
func New(maps *statusmap.Set, auth Authority, viewers *synccheck.Viewers) *Rules {
	w, err := wismo.DefaultRules()
	if err != nil {
		panic(fmt.Sprintf("simrules: the embedded WISMO rules: %v", err)) // embedded: a build error
	}
	return &Rules{maps: maps, auth: auth, viewers: viewers, wismo: w}
}

// WithWismo returns the rules with the WISMO rules w.
func (r *Rules) WithWismo(w *wismo.Rules) *Rules {
	c := *r
	c.wismo = w
	return &c
}

var (
	_ simulator.Rules      = (*Rules)(nil)
	_ simulator.WismoRules = (*Rules)(nil)
)

// Default returns the pipeline's embedded defaults: what `baton run` uses
// unless it is given other files.
func Default() (*Rules, error) {
	maps, err := statusmap.Default()
	if err != nil {
		return nil, fmt.Errorf("simrules: %w", err)
	}
	auth, err := unify.DefaultAuthority()
	if err != nil {
		return nil, fmt.Errorf("simrules: %w", err)
	}
	viewers, err := synccheck.DefaultViewers()
	if err != nil {
		return nil, fmt.Errorf("simrules: %w", err)
	}
	return New(maps, auth, viewers), nil
}

// Status resolves the event through the status maps.
func (r *Rules) Status(system schemas.System, value map[string]any) (canonical.Status, bool, error) {
	res, err := r.maps.Resolve(system, value)
	if err != nil {
		return "", false, err
	}
	return res.Status, res.HasStatus, nil
}

// Authority is the authority file's system for status.
func (r *Rules) Authority(status canonical.Status) (schemas.System, bool) {
	return r.auth.Of(status)
}

// HintSystem is the authority file's PARTIALLY_SHIPPED hint system.
func (r *Rules) HintSystem() schemas.System { return r.auth.HintSystem() }

// Viewers lists the viewers file's rows.
func (r *Rules) Viewers() []simulator.ViewerRule {
	var out []simulator.ViewerRule
	for _, v := range r.viewers.List() {
		out = append(out, simulator.ViewerRule{System: v.System, SLA: v.SLA, Expects: v.Statuses})
	}
	return out
}

// MissingAfter is the viewers file's missing_after.
func (r *Rules) MissingAfter() time.Duration { return r.viewers.MissingAfter() }

// Reflects is synccheck.Reflects.
func (r *Rules) Reflects(shown, truth canonical.Status) bool { return synccheck.Reflects(shown, truth) }

// Covers is synccheck.Covers.
func (r *Rules) Covers(truth, shown canonical.Status) bool { return synccheck.Covers(truth, shown) }

// AttributeViewers is the WISMO rules' attribute_viewers.
func (r *Rules) AttributeViewers() []schemas.System { return r.wismo.Viewers() }

// IsWismo is the WISMO rules' classification of a ticket event (no
// description: help-desk events carry none).
func (r *Rules) IsWismo(tags []string, subject string) bool {
	_, ok := r.wismo.Classify(tags, subject, "")
	return ok
}
