package application

import (
	"context"
	"errors"
	"slices"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/hub"
)

// consentTTL is how long an application's consent to read sources lasts.
const consentTTL = 30 * 24 * time.Hour

// who is the applicant of an application and p the principal acting: the
// applicant themselves, or a window clerk for a walk-in (intake).
type who struct {
	p        authz.Principal
	personID int64
	idNumber string
	name     string
	phone    string
	intake   bool
	// initiative: the platform applies for the person on its own
	// initiative (免申即享), under its proactive-service account.
	initiative bool
	// judging: the applicant's data is judged against items' rules (我能办),
	// not applied with; the real-name level an item needs does not matter.
	judging bool
}

// readerName is how a read appears in the person's "who read my data" list.
func (w who) readerName() string {
	if w.intake {
		return w.p.Name + "（窗口受理）"
	}
	if w.initiative {
		return "主动服务（免申即享）"
	}
	return w.name + "（本人申请）"
}

func (s *core) applicant(ctx context.Context, p authz.Principal) (who, error) {
	if err := authz.Require(p, authz.ActForOwn); err != nil {
		return who{}, err
	}
	if p.PersonID == 0 {
		return who{}, apperr.New(apperr.Forbidden, apperr.PersonsOnly, "applications are made by people, for themselves or an enterprise they act for")
	}
	d, err := s.ids.PersonDetails(ctx, s.db, p.PersonID)
	if err != nil {
		return who{}, err
	}
	return who{p: p, personID: p.PersonID, idNumber: d.IDNumber, name: d.Name, phone: d.Phone}, nil
}

// subject is whose record a source keeps for this application. The
// credit registry holds both: an application for an enterprise reads the
// enterprise's credit, which its records count towards (internal/credit).
func (w who) subject(src hub.Source, creditCode string) (hub.Subject, bool) {
	if src.Subject == hub.Enterprise || (src.Keeps(hub.Enterprise) && creditCode != "") ||
		(hub.IsLicence(src.Name) && creditCode != "" && enterpriseLicence(hub.StoredLicence(src.Name))) {
		if creditCode == "" {
			return hub.Subject{}, false
		}
		return hub.Subject{Kind: hub.Enterprise, Key: creditCode}, true
	}
	return hub.Subject{Kind: hub.Person, Key: w.idNumber}, true
}

// enterpriseLicence: licences held by enterprises rather than people, by
// their licence.TYPE source.
func enterpriseLicence(source string) bool {
	return slices.Contains([]string{"licence.business_licence", "licence.food_business_licence", "licence.construction_qualification", "licence.land_use_planning_permit",
		"licence.seal_filing", "licence.tax_registration", "licence.social_insurance_registration", "licence.medical_insurance_registration",
		"licence.housing_fund_registration", "licence.bank_account_notice"}, source)
}

// readAll reads every needed source once, logging each read under the
// applicant's stored consent. A source that has no record or does not
// answer leaves its fields for the applicant.
func (s *core) readAll(ctx context.Context, w who, creditCode string, need reads, purpose string, application int64) (map[string]hub.Record, map[string]string) {
	return s.readSources(ctx, w, creditCode, need, purpose, application, func(rd hub.Read) (hub.Record, error) {
		rd.Consent = s.consentFor(ctx, w, rd.Subject, application)
		return s.reader.Read(ctx, rd)
	})
}

// fetchAll reads like readAll but logs nothing and checks no stored
// consent: the one-call application grants the consent and logs the reads
// it returns in the transaction that saves the application.
func (s *core) fetchAll(ctx context.Context, w who, creditCode string, need reads, purpose string) (map[string]hub.Record, map[string]string, []hub.Fetched) {
	var fetched []hub.Fetched
	records, statuses := s.readSources(ctx, w, creditCode, need, purpose, 0, func(rd hub.Read) (hub.Record, error) {
		rec, f, err := s.reader.Fetch(ctx, rd)
		fetched = append(fetched, f)
		return rec, err
	})
	return records, statuses, fetched
}

// readSources reads each source in order with read, once.
func (s *core) readSources(ctx context.Context, w who, creditCode string, need reads, purpose string, application int64,
	read func(hub.Read) (hub.Record, error)) (map[string]hub.Record, map[string]string) {
	records := map[string]hub.Record{}
	statuses := map[string]string{}
	for _, src := range need.order {
		if src == "applicant" {
			records[src] = hub.Record{"name": w.name, "id_number": w.idNumber, "phone": w.phone}
			statuses[src] = "filled"
			continue
		}
		source, ok := hub.Lookup(src)
		if !ok {
			statuses[src] = "unavailable"
			continue
		}
		subject, ok := w.subject(source, creditCode)
		if !ok {
			statuses[src] = "not_found"
			continue
		}
		rec, err := read(hub.Read{Subject: subject, Source: src, Fields: need.fields[src],
			Reader: w.p.AccountID, ReaderName: w.readerName(), Purpose: purpose, Application: application})
		switch {
		case err == nil:
			records[src], statuses[src] = rec, "filled"
		case errors.Is(err, hub.ErrNotFound):
			statuses[src] = "not_found"
		default:
			statuses[src] = "unavailable"
		}
	}
	return records, statuses
}

// consentFor finds the newest live consent to read subject's data for this
// read: one the reading account gave, or one given for the application
// (0: none yet). A walk-in signs the consent at the window under the
// clerk's account; when they submit the draft themselves, their signature
// on the application still covers the reads.
func (s *core) consentFor(ctx context.Context, w who, subject hub.Subject, application int64) int64 {
	var id int64
	s.db.QueryRowContext(ctx, `SELECT id FROM consents WHERE (account_id = $1 OR application = $4) AND subject_idx = $2 AND revoked_at IS NULL AND expires_at > $3
		ORDER BY id DESC LIMIT 1`, w.p.AccountID, s.reader.Index(subject), s.now(), application).Scan(&id)
	return id
}
