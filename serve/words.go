package serve

import (
	"fmt"
	"strings"
	"time"

	"github.com/baton-pipeline/baton/schemas"
)

// The plain words of the order page and the API's "text" keys: what an
// agent reads out to a customer, in UTC.

// systemName is the system as agents know it (its definition's Title),
// or its name.
func systemName(s string) string {
	if spec, ok := schemas.SpecOf(schemas.System(s)); ok && spec.Title != "" {
		return spec.Title
	}
	return s
}

// when prints a time as "Nov 2 2026 14:02 UTC".
func when(t time.Time) string { return t.UTC().Format("Jan 2 2006 15:04 UTC") }

// words prints a duration the way people say it: "45 s", "12 min",
// "2 h 10 min", "3 d 4 h" (two units at most, rounded down).
func words(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	days, hours := int64(d/(24*time.Hour)), int64(d/time.Hour)%24
	mins, secs := int64(d/time.Minute)%60, int64(d/time.Second)%60
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%d d %d h", days, hours)
	case days > 0:
		return fmt.Sprintf("%d d", days)
	case hours > 0 && mins > 0:
		return fmt.Sprintf("%d h %d min", hours, mins)
	case hours > 0:
		return fmt.Sprintf("%d h", hours)
	case mins > 0:
		return fmt.Sprintf("%d min", mins)
	}
	return fmt.Sprintf("%d s", secs)
}

// slaWords prints an SLA as an adjective: "5-minute", "90-second", "2-hour".
func slaWords(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%d-hour", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d-minute", d/time.Minute)
	}
	return fmt.Sprintf("%d-second", d/time.Second)
}

func truthText(t TruthView) string {
	s := t.Status
	if t.Since != nil {
		s += " since " + when(*t.Since)
	}
	if t.Authority != "" {
		s += " (" + systemName(t.Authority) + ")"
	}
	return s
}

func shipmentText(s ShipmentView) string {
	var b strings.Builder
	if s.IsReturn {
		b.WriteString("Return ")
	}
	b.WriteString(s.ShipmentID)
	if s.Carrier != "" || s.TrackingNumber != "" {
		fmt.Fprintf(&b, " (%s)", strings.TrimSpace(s.Carrier+" "+s.TrackingNumber))
	}
	b.WriteString(": " + s.Status)
	if s.Since != nil {
		b.WriteString(" since " + when(*s.Since))
	}
	if s.EstimatedDelivery != nil && s.Status != "DELIVERED" {
		b.WriteString(", estimated delivery " + when(*s.EstimatedDelivery))
	}
	return b.String()
}

func transitionText(t TransitionView) string {
	var b strings.Builder
	from := t.From
	if from == "" {
		from = "(start)"
	}
	fmt.Fprintf(&b, "%s → %s", from, t.To)
	if t.ShipmentID != "" {
		b.WriteString(" for " + t.ShipmentID)
	}
	if t.Kind != "advance" {
		b.WriteString(" [" + t.Kind + "]")
	}
	b.WriteString(", by " + systemName(t.System))
	if t.SourceStatus != "" {
		fmt.Fprintf(&b, " %q", t.SourceStatus)
	}
	if len(t.Skipped) > 0 {
		b.WriteString("; skipped " + strings.Join(t.Skipped, ", "))
	}
	return b.String()
}

// checkText says what is wrong with a viewer, e.g. "Storefront shows
// SHIPPED, the truth is DELIVERED since Nov 2 14:02 UTC: 2 h 10 min past
// its 5-minute SLA."
func checkText(c CheckView) string {
	name := systemName(c.Viewer)
	if c.Reason == "delay_not_notified" {
		s := fmt.Sprintf("%s did not tell the customer of the delay known since %s", name, when(c.TruthAt))
		return s + slaTail(c)
	}
	shows, is := "shows", "is"
	if c.State == "closed" {
		shows, is = "showed", "was"
	}
	shown := c.Shown
	if shown == "" {
		shown = "nothing"
	}
	var s string
	if c.Reason == "conflict" {
		s = fmt.Sprintf("%s %s %s, which contradicts the truth %s since %s", name, shows, shown, c.Expected, when(c.TruthAt))
	} else {
		s = fmt.Sprintf("%s %s %s, the truth %s %s since %s", name, shows, shown, is, c.Expected, when(c.TruthAt))
	}
	return s + slaTail(c)
}

func slaTail(c CheckView) string {
	sla := slaWords(c.SLAMillis)
	var s string
	switch {
	case c.PastSLAMillis == nil:
		s = fmt.Sprintf(": within its %s SLA (until %s)", sla, when(c.Deadline))
	default:
		s = fmt.Sprintf(": %s past its %s SLA", words(time.Duration(*c.PastSLAMillis)*time.Millisecond), sla)
	}
	if c.State == "closed" {
		s += fmt.Sprintf("; closed %s", c.Outcome)
	}
	return s + "."
}

func noticeText(n NoticeView) string {
	var b strings.Builder
	b.WriteString("Delay (" + strings.ReplaceAll(n.Reason, "_", " ") + ")")
	if n.MissedPromise != nil {
		b.WriteString(": promised " + when(*n.MissedPromise))
	}
	if n.RevisedDate != nil {
		b.WriteString(", revised to " + when(*n.RevisedDate))
	} else if n.NoRevisedDateWhy != "" {
		b.WriteString(", no revised date (" + n.NoRevisedDateWhy + ")")
	}
	if n.MayCancel {
		b.WriteString("; the customer may cancel for a full refund")
	}
	if n.RefundDue {
		b.WriteString("; a refund is due")
	}
	switch n.Told {
	case "told":
		if n.NotifiedAt != nil {
			b.WriteString("; told " + when(*n.NotifiedAt))
		} else {
			b.WriteString("; told")
		}
	case "owed":
		b.WriteString("; NOT told, owed since " + when(n.NotifyBy))
	default:
		b.WriteString("; to tell by " + when(n.NotifyBy))
	}
	return b.String() + "."
}

func ticketText(t TicketView) string {
	s := fmt.Sprintf("Ticket %s (%s): %s", t.TicketID, when(t.At), strings.ReplaceAll(t.Cause, "_", " "))
	switch {
	case t.Link != "":
		s += " — fix " + t.Link
		if t.ShownStatus != "" {
			s += fmt.Sprintf(" (%s showed %s, the truth was %s)", systemName(t.Viewer), t.ShownStatus, t.TruthStatus)
		}
	case t.ProblemStatus != "":
		s += " (" + t.ProblemStatus + ")"
	}
	return s
}
