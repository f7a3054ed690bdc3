package application

import (
	"context"
	"database/sql"
	"slices"

	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/rules"
)

// Eligibility is an item a person (or the enterprise they act for)
// qualifies for now by its rules over their data, or nearly does.
type Eligibility struct {
	ItemCode string       `json:"item_code"`
	Name     catalog.Text `json:"name"`
	Summary  catalog.Text `json:"summary"`
	// Qualifies: every rule passes on their data; else one rule stands in
	// the way, and Reasons says which in words.
	Qualifies bool           `json:"qualifies"`
	Reasons   []catalog.Text `json:"reasons,omitempty"`
	// Granted: the platform grants it by itself when its day comes (免申即享).
	Granted bool `json:"granted_without_applying"`
}

// eligibilityPurpose is how the reads appear in the person's list of who
// read their data.
const eligibilityPurpose = "查看我能办、我能享的事项"

// Eligible works out "我能办 / 我能享" for p: every published item of p's
// kind (a person's own, or the enterprise's while acting for it — 惠企政策)
// that is decided by rules on data alone, judged by those rules on p's
// data. It reads every source the items need once, under the consent p
// gives by asking, and records the consent and the reads in one
// transaction. Items whose situations the person must answer first, or
// whose rules read what only the form asks, are left out: the data cannot
// tell.
func (s *Drafts) Eligible(ctx context.Context, p authz.Principal) ([]Eligibility, error) {
	w, err := s.applicant(ctx, p)
	if err != nil {
		return nil, err
	}
	// Whether the data qualifies them does not hang on how they signed in:
	// an item that needs a surer identity to apply online is judged too,
	// and its apply page says what sign-in it needs.
	w.judging = true
	vs, err := s.catalog.Published(ctx)
	if err != nil {
		return nil, err
	}
	target := "person"
	creditCode := ""
	if p.ActingFor != nil {
		target, creditCode = "enterprise", p.ActingFor.CreditCode
	}
	type candidate struct {
		d    draft
		prog *rules.Program
	}
	var cands []candidate
	var need reads
	for _, v := range vs {
		it := v.Item
		if it.Target != target || len(it.Situations) > 0 || len(it.Rules) == 0 || it.Approval.Mode == "manual" {
			continue
		}
		d, err := s.planDraft(ctx, w, StartRequest{ItemCode: it.Code, Channel: "web"}, "")
		if err != nil {
			continue // not for this person to apply for (real-name level, target)
		}
		prog, err := s.submissionRules(ctx, d.version, &d.need)
		if err != nil || prog == nil {
			continue
		}
		for _, src := range d.need.order {
			for _, f := range d.need.fields[src] {
				need.want(src, f)
			}
		}
		cands = append(cands, candidate{d: d, prog: prog})
	}
	if len(cands) == 0 {
		return []Eligibility{}, nil
	}
	records, statuses, fetched := s.fetchAll(ctx, w, creditCode, need, eligibilityPurpose)
	var consented []string
	for _, src := range need.order {
		if src != "applicant" {
			consented = append(consented, src)
		}
	}
	slices.Sort(consented)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		subjects := []hub.Subject{{Kind: hub.Person, Key: w.idNumber}}
		if creditCode != "" {
			subjects = append(subjects, hub.Subject{Kind: hub.Enterprise, Key: creditCode})
		}
		consents := map[hub.SubjectKind]int64{}
		for _, sub := range subjects {
			c, err := s.reader.Grant(ctx, tx, p.AccountID, sub, consented, eligibilityPurpose, 0, consentTTL)
			if err != nil {
				return err
			}
			consents[sub.Kind] = c.ID
		}
		for i := range fetched {
			fetched[i].Consent = consents[fetched[i].Subject.Kind]
		}
		return s.reader.LogReads(ctx, tx, fetched)
	})
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []Eligibility{}
	for _, c := range cands {
		d := c.d
		it := d.version.Item
		d.fill(records, statuses)
		d.compute(records, statuses, now)
		decision := s.decide(d.app, it, w, c.prog, records, statuses, now)
		e := Eligibility{ItemCode: it.Code, Name: it.Name, Summary: it.Summary, Granted: it.Proactive != nil && it.Proactive.Mode == "grant"}
		switch {
		case decision.Outcome == rules.Approve:
			e.Qualifies = true
		case decision.Outcome == rules.Reject && len(decision.Reasons) == 1:
			e.Reasons = []catalog.Text{decision.Reasons[0].Text}
		default:
			continue
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b Eligibility) int {
		if a.Qualifies != b.Qualifies {
			if a.Qualifies {
				return -1
			}
			return 1
		}
		return 0
	})
	return out, nil
}
