package application

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/pii"
	"yiwang/internal/rules"
	"yiwang/internal/workday"
)

// Decision is a machine decision as the applicant sees it: the outcome and
// the standard reasons, never an expression.
type Decision struct {
	Outcome   string    `json:"outcome"` // approve, reject, manual
	Reasons   []string  `json:"reasons"`
	ReasonsEn []string  `json:"reasons_en"`
	DecidedAt time.Time `json:"decided_at"`
	TookMS    float64   `json:"took_ms"`
}

// suspendedReason is the standard reason when machine approval is switched off.
var suspendedReason = rules.Reason{Code: "machine_suspended", Text: catalog.Text{Zh: "该事项的自动审批已暂停，转人工审核", En: "Machine approval of this item is suspended; a person will review it"}}

// uncheckedReason is the standard reason when a source could not be read
// again at submission to check what it prefilled.
var uncheckedReason = rules.Reason{Code: "data_unchecked", Text: catalog.Text{Zh: "提交时部门数据暂时无法读取，未能核对预填信息，转人工审核", En: "Government data could not be read at submission to check the prefilled form; a person will review it"}}

// mismatchReason is the standard reason when data changed since prefill.
var mismatchReason = rules.Reason{Code: "data_changed", Text: catalog.Text{Zh: "提交时核对的部门数据与预填信息不一致，转人工审核", En: "Government data changed since the form was filled; a person will review it"}}

// decide runs an item's rules (prog; nil when machine approval of an auto
// item is suspended) on the data as read at submission, with the engine's
// credit checks, and returns the full record. It never approves on data it
// could not read, nor with a required material missing that is not
// deferred under a signed commitment. The outcome means the same for every
// mode (decidePath): reject rejects, manual goes to a person, approve takes
// the mode's own path. A commitment or filing item without rules is
// approved when the credit checks pass; for a manual item the rules only
// advise, so its outcome is always manual, the rules' reasons kept for the
// reviewer.
func (s *core) decide(a Application, it catalog.Item, w who, prog *rules.Program, records map[string]hub.Record, statuses map[string]string, at time.Time) rules.Decision {
	if prog == nil {
		d := rules.Decision{Outcome: rules.Manual, Item: it.Code, Version: a.VersionID, Actor: "machine", At: at, Reasons: []rules.Reason{suspendedReason}}
		// The computed fields are still the system's to fill, on the data
		// read at submission, for the person who decides.
		if hasComputed(it) {
			if cp, err := s.rules.Get(a.VersionID, it); err == nil {
				d.Computed = cp.Compute(ruleInput(a, w, cp.ComputedNeeds(), records, statuses, at), at)
			}
		}
		return d
	}
	d := prog.Decide(ruleInput(a, w, prog.Needs(), records, statuses, at), at)
	d.Version = a.VersionID
	if d.Outcome == rules.Manual && len(d.Reasons) == 1 && d.Reasons[0].Code == noRules && it.Approval.Mode != "auto" {
		// Rules are optional outside auto: none applying is no reason to
		// stop a commitment or a filing whose credit checks passed.
		d.Outcome, d.Reasons = rules.Approve, []rules.Reason{}
	}
	if d.Outcome == rules.Approve && len(a.Mismatches) > 0 {
		d.Outcome = rules.Manual
		reason := mismatchReason
		if slices.ContainsFunc(a.Mismatches, func(m Mismatch) bool { return m.Unavailable }) {
			reason = uncheckedReason
		}
		d.Reasons = append(d.Reasons, reason)
	}
	for _, m := range a.Materials {
		// A required material government data could not supply is for a
		// person to collect: the machine never approves without it.
		if m.Required && !m.Attached && !slices.Contains(a.deferred, m.ID) && d.Outcome == rules.Approve {
			d.Outcome = rules.Manual
			d.Reasons = append(d.Reasons, rules.Reason{Code: "material_missing", Text: catalog.Text{Zh: "缺少必要材料「" + m.Name + "」，转人工审核", En: "A required material is missing; a person will review it"}})
		}
	}
	if it.Approval.Mode == "manual" {
		reasons := []rules.Reason{peopleDecide}
		for _, r := range d.Reasons {
			if r.Code != noRules {
				reasons = append(reasons, r)
			}
		}
		d.Outcome, d.Reasons = rules.Manual, reasons
	}
	return d
}

// ruleInput is what the rules and computed fields of a's item see: the
// applicant w, a's answers, form and materials, and of the records read
// those needs names, on the day of at.
func ruleInput(a Application, w who, needs map[string][]string, records map[string]hub.Record, statuses map[string]string, at time.Time) rules.Input {
	var order []string
	for src := range needs {
		order = append(order, src)
	}
	in := rules.Input{Answers: a.Answers, Form: a.Form, Sources: map[string]hub.Record{}, Licences: map[string]hub.Record{}, Materials: map[string]rules.Material{}}
	in.Applicant = rules.Applicant{Name: w.name, IDNumber: w.idNumber, Kind: "person", RealNameLevel: w.p.RealNameLevel}
	if w.p.ActingFor != nil {
		in.Applicant.Kind = "enterprise"
	}
	if info, err := ident.ParseIDNumber(w.idNumber); err == nil {
		age := info.AgeOn(at.In(workday.CST))
		in.Applicant.BirthDate, in.Applicant.Age, in.Applicant.Sex = info.BirthDate.Format("2006-01-02"), &age, info.Sex
	}
	for _, src := range order {
		typ, last, isLicence := hub.LicenceSource(src)
		lics := in.Licences
		if last {
			// Asked for by a rule: known from here on, each type filled,
			// absent (never held) or unknown below.
			if in.LicencesLast == nil {
				in.LicencesLast = map[string]hub.Record{}
			}
			lics = in.LicencesLast
		}
		switch statuses[src] {
		case "filled":
			// Only what the rules read goes into the record, though the
			// submission read more of the source for its own check.
			rec := hub.Record{}
			for _, f := range needs[src] {
				if v, ok := records[src][f]; ok {
					rec[f] = v
				}
			}
			if isLicence {
				lics[typ] = rec
			} else {
				in.Sources[src] = rec
			}
		case "not_found": // the source answered: no record
			if !isLicence {
				in.Sources[src] = hub.Record{}
			}
		default:
			in.Unknown = append(in.Unknown, "sources."+src)
		}
	}
	if rec, ok := in.Sources["credit"]; ok {
		level, _ := rec["level"].(string)
		black, _ := rec["blacklisted"].(bool)
		if level != "" {
			in.Credit = &rules.Credit{Level: level, Blacklisted: black}
		}
	}
	for _, m := range a.Materials {
		if m.Attached {
			in.Materials[m.ID] = rules.Material{Present: true, Trust: m.Trust}
		}
	}
	return in
}

// noRules is the engine's reason code when no rule applies.
const noRules = "rules.none"

// peopleDecide is the first reason of every decision on a manual item:
// people decide it, the rules' results are advice for them.
var peopleDecide = rules.Reason{Code: "mode.manual", Text: catalog.Text{Zh: "本事项由工作人员审批，审查规则的核验结果供审核参考", En: "Staff decide this item; the review rules' results are advice for them"}}

// saveDecision stores the record with the submission and, for a machine
// approval, samples it into a spot check at the item's rate (spotchecks.go).
func (s *core) saveDecision(ctx context.Context, tx *sql.Tx, a Application, it catalog.Item, d rules.Decision) error {
	record, err := json.Marshal(d)
	if err != nil {
		return err
	}
	sealed, err := s.sealColumn("decisions.record", string(record))
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO decisions (application_id, outcome, version_id, rules_digest, inputs_digest, record, took_ns, actor, decided_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, a.ID, string(d.Outcome), a.VersionID, d.RulesDigest, d.InputsDigest, sealed, d.TookNS, "machine", d.At); err != nil {
		return fmt.Errorf("save decision: %w", err)
	}
	if d.Outcome == rules.Approve && it.Approval.Mode == "auto" {
		// A commitment's approval is sampled where it is made (approveOnCommitment).
		return s.sampleSpotCheck(ctx, tx, a.ID, a.Number, it, "auto", spotDeciderNone, d.At)
	}
	return nil
}

func applicantView(d rules.Decision) *Decision {
	return &Decision{Outcome: string(d.Outcome), Reasons: d.ApplicantReasons("zh"), ReasonsEn: d.ApplicantReasons("en"), DecidedAt: d.At,
		TookMS: float64(d.TookNS) / 1e6}
}

// loadDecision returns the applicant's view of an application's decision, if any.
func (s *core) loadDecision(ctx context.Context, applicationID int64) (*Decision, error) {
	d, err := s.decisionRecord(ctx, applicationID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return applicantView(d), nil
}

// decisionRecord returns the full record of an application's machine
// decision: for staff, never for applicants.
func (s *core) decisionRecord(ctx context.Context, applicationID int64) (rules.Decision, error) {
	var record string
	err := s.db.QueryRowContext(ctx, `SELECT record FROM decisions WHERE application_id = $1`, applicationID).Scan(&record)
	if errors.Is(err, sql.ErrNoRows) {
		return rules.Decision{}, apperr.New(apperr.NotFound, apperr.DecisionNotFound, "application %d has no machine decision", applicationID)
	}
	if err != nil {
		return rules.Decision{}, err
	}
	if record, err = s.openColumn("decisions.record", record); err != nil {
		return rules.Decision{}, fmt.Errorf("decision of application %d is unreadable: %w", applicationID, err)
	}
	var d rules.Decision
	if err := json.Unmarshal([]byte(record), &d); err != nil {
		return d, fmt.Errorf("decision of application %d is unreadable: %w", applicationID, err)
	}
	return d, nil
}

// staffDecisionRecord is DecisionRecord: the deciding department or a
// supervisor, inputs masked.
func (s *core) staffDecisionRecord(ctx context.Context, p authz.Principal, applicationID int64) (rules.Decision, error) {
	if err := authz.Require(p, authz.DecisionTrace); err != nil {
		return rules.Decision{}, err
	}
	if !p.Can(authz.Supervise) {
		dept, err := departmentOf(ctx, s.db, applicationID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return rules.Decision{}, err
		}
		if dept != p.Department {
			return rules.Decision{}, apperr.New(apperr.NotFound, apperr.DecisionNotFound, "application %d is not your department's", applicationID)
		}
	}
	d, err := s.decisionRecord(ctx, applicationID)
	if err != nil {
		return d, err
	}
	d.Inputs, err = maskInputs(d.Inputs)
	return d, err
}

// maskInputs masks the personal data in a decision's inputs as staff pages
// do: resident ID numbers wherever they appear, and the values of phone and
// name fields. InputsDigest stays the digest of the unmasked inputs.
func maskInputs(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 {
		return raw, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("decision inputs are unreadable: %w", err)
	}
	return json.Marshal(maskValue("", v))
}

// maskValue masks v, found under key, and everything inside it.
func maskValue(key string, v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = maskValue(k, x)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = maskValue(key, x)
		}
		return v
	case string:
		k := strings.ToLower(key)
		switch {
		case isIDNumber(v):
			return pii.MaskIDNumber(v)
		case strings.Contains(k, "phone") || strings.Contains(k, "mobile"):
			return pii.MaskPhone(v)
		case k == "name" || k == "holder" || k == "legal_rep" || strings.HasSuffix(k, "_name"):
			return pii.MaskName(v)
		}
	}
	return v
}

// isIDNumber reports whether s is a resident ID number (GB 11643).
func isIDNumber(s string) bool {
	_, err := ident.ParseIDNumber(s)
	return err == nil
}

// machineSuspended reports whether machine approval of an item is switched
// off, for the item alone or for its whole department (spotchecks.go).
func (s *core) machineSuspended(ctx context.Context, code string) (bool, error) {
	var suspended bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM item_controls WHERE item_code = $1 AND machine_suspended)
		OR EXISTS (SELECT 1 FROM department_controls d JOIN catalog_items i ON i.department_code = d.department_code WHERE i.code = $1 AND d.machine_suspended)`, code).Scan(&suspended)
	return suspended, err
}

// setItemSwitch writes an item's machine switch inside tx; by is the staff
// account, 0 for the platform (spotchecks.go).
func setItemSwitch(ctx context.Context, tx *sql.Tx, code string, suspended bool, reason string, by int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO item_controls (item_code, machine_suspended, reason, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (item_code) DO UPDATE SET machine_suspended = excluded.machine_suspended, reason = excluded.reason, changed_by = excluded.changed_by, changed_at = excluded.changed_at`,
		code, suspended, reason, by, at)
	return err
}

// SetMachineSuspended switches an item's machine approval off or on, at once
// for every process: each decision reads the switch.
func (s *Decisions) SetMachineSuspended(ctx context.Context, p authz.Principal, code string, suspended bool, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return apperr.New(apperr.Invalid, apperr.SwitchReasonRequired, "say why machine approval is switched")
	}
	if _, err := s.catalog.Versions(ctx, code); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := setItemSwitch(ctx, tx, code, suspended, reason, p.AccountID, s.now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: audit.Person("staff", p.AccountID, p.Name), Action: "config.machine_approval",
			ObjectKind: "catalog_item", ObjectID: code, Detail: map[string]any{"suspended": suspended}})
	})
}

// defaultSample draws from [0,1) for spot-check sampling.
func defaultSample() float64 { return rand.Float64() }
