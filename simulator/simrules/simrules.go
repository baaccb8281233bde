// Package simrules gives the simulator's ground truth the pipeline's own
// rules: the status maps (package statusmap) that turn each system's codes
// into canonical statuses, the authority rules (package unify) that decide
// the order's truth, and the viewer rules (package synccheck) that check
// every viewer against it. The simulator cannot import them itself (their
// tests import the simulator), so they are passed to it as
// simulator.ViewerFaults.Rules.
package simrules

import (
	"fmt"
	"time"

	"github.com/baton-pipeline/baton/canonical"
	"github.com/baton-pipeline/baton/processors/synccheck"
	"github.com/baton-pipeline/baton/processors/unify"
	"github.com/baton-pipeline/baton/schemas"
	"github.com/baton-pipeline/baton/simulator"
	"github.com/baton-pipeline/baton/statusmap"
)

// Rules implements simulator.Rules over the pipeline's rule sets.
type Rules struct {
	maps    *statusmap.Set
	auth    Authority
	viewers *synccheck.Viewers
}

// Authority is the part of the authority rules the ground truth reads;
// *unify.Authority has it.
type Authority interface {
	Of(status canonical.Status) (schemas.System, bool)
	HintSystem() schemas.System
}

// New combines rule sets, e.g. the files a pipeline run was given.
func New(maps *statusmap.Set, auth Authority, viewers *synccheck.Viewers) *Rules {
	return &Rules{maps: maps, auth: auth, viewers: viewers}
}

var _ simulator.Rules = (*Rules)(nil)

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
