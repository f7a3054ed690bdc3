package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/pii"
	"yiwang/internal/store"
)

// Enterprise is an enterprise as the enterprise registry describes it.
type Enterprise struct {
	ID         int64  `json:"id"`
	CreditCode string `json:"credit_code"`
	Name       string `json:"name"`
	Status     string `json:"status"`
}

// PutEnterprise records an enterprise by credit code, checking the code, with
// its legal representative. It returns the enterprise's id.
func (s *Store) PutEnterprise(ctx context.Context, q execQuerier, creditCode, name string, legalRep int64) (int64, error) {
	creditCode = strings.ToUpper(strings.TrimSpace(creditCode))
	if err := ident.ValidateCreditCode(creditCode); err != nil {
		return 0, apperr.New(apperr.Invalid, apperr.BadCreditCode, "the unified social credit code is not valid: %v", err)
	}
	name, err := ident.CheckName(name, ident.MaxEnterpriseName)
	if err != nil {
		return 0, apperr.Wrap(err, apperr.Invalid, apperr.BadEnterpriseName, "give the enterprise's name as on its business licence: "+err.Error())
	}
	var rep any
	if legalRep != 0 {
		rep = legalRep
	}
	var id int64
	err = q.QueryRowContext(ctx, `INSERT INTO enterprises (credit_code, name, legal_rep_person, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name, legal_rep_person = excluded.legal_rep_person RETURNING id`,
		creditCode, name, rep, s.now()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("put enterprise: %w", err)
	}
	return id, nil
}

// EnterpriseByCode finds an enterprise.
func (s *Store) EnterpriseByCode(ctx context.Context, creditCode string) (Enterprise, error) {
	var e Enterprise
	err := s.db.QueryRowContext(ctx, `SELECT id, credit_code, name, status FROM enterprises WHERE credit_code = $1`, strings.ToUpper(strings.TrimSpace(creditCode))).
		Scan(&e.ID, &e.CreditCode, &e.Name, &e.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return e, apperr.New(apperr.NotFound, apperr.EnterpriseNotFound, "no enterprise with the credit code %s is in the registry", creditCode)
	}
	return e, err
}

// actingAs checks that p may act for enterprise id now — as its legal
// representative or under a live authorisation — and says how, and until
// when: the authorisation's expiry (zero for the legal representative).
func (s *Store) actingAs(ctx context.Context, p authz.Principal, enterpriseID int64) (authz.Enterprise, time.Time, error) {
	var e authz.Enterprise
	var rep sql.NullInt64
	var status string
	err := s.db.QueryRowContext(ctx, `SELECT id, credit_code, name, legal_rep_person, status FROM enterprises WHERE id = $1`, enterpriseID).
		Scan(&e.ID, &e.CreditCode, &e.Name, &rep, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return e, time.Time{}, authz.NotYours("enterprise")
	}
	if err != nil {
		return e, time.Time{}, err
	}
	if status != "active" {
		return e, time.Time{}, apperr.New(apperr.Forbidden, apperr.EnterpriseNotActive, "%s is %s in the enterprise registry and cannot apply", e.Name, status)
	}
	if p.PersonID != 0 && rep.Valid && rep.Int64 == p.PersonID {
		e.Via = "legal_representative"
		return e, time.Time{}, nil
	}
	var scope string
	var until time.Time
	now := s.now()
	err = s.db.QueryRowContext(ctx, `SELECT scope, expires_at FROM authorisations WHERE enterprise = $1 AND agent_person = $2 AND revoked_at IS NULL
		AND valid_from <= $3 AND expires_at > $3 ORDER BY expires_at DESC LIMIT 1`, enterpriseID, p.PersonID, now).Scan(&scope, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return e, time.Time{}, notAuthorised(e.Name)
	}
	if err != nil {
		return e, time.Time{}, err
	}
	e.Via = "authorisation"
	if scope != "*" {
		e.Scope = strings.Fields(scope)
	}
	return e, until, nil
}

// notAuthorised refuses a person acting for the enterprise named name.
func notAuthorised(name string) error {
	return apperr.New(apperr.Forbidden, apperr.NotAuthorised, "you are neither the legal representative of %s nor hold a current authorisation from it: ask its legal representative to authorise you", name)
}

// ActFor switches a session to acting for the enterprise with creditCode,
// after checking the person may. An empty code goes back to acting for oneself.
func (s *Store) ActFor(ctx context.Context, p authz.Principal, sessionToken, creditCode string) (*authz.Enterprise, error) {
	if p.Via != "session" || p.PersonID == 0 {
		return nil, apperr.New(apperr.Forbidden, apperr.PersonsOnly, "only a person signed in with a session can act for an enterprise")
	}
	hash := hashSecret(sessionToken)
	if creditCode == "" {
		_, err := s.db.ExecContext(ctx, `UPDATE sessions SET acting_for = NULL WHERE token_hash = $1`, hash)
		s.principals.forget(hash)
		return nil, err
	}
	ent, err := s.EnterpriseByCode(ctx, creditCode)
	if err == nil {
		_, _, err = s.actingAs(ctx, p, ent.ID)
	}
	if err != nil {
		// The platform's own table knows only the enterprises that used it
		// before; the enterprise registry knows them all, and who
		// represents them.
		if e := apperr.As(err); s.registry == nil || e == nil || (e.Code != apperr.EnterpriseNotFound && e.Code != apperr.NotAuthorised) {
			return nil, err
		}
		if ent.ID, err = s.actForRegistered(ctx, p, hash, creditCode, err); err != nil {
			return nil, err
		}
	} else {
		_, err = s.db.ExecContext(ctx, `UPDATE sessions SET acting_for = $1 WHERE token_hash = $2`, ent.ID, hash)
	}
	s.principals.forget(hash)
	if err != nil {
		return nil, err
	}
	e, _, err := s.actingAs(ctx, p, ent.ID)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// registeredAgentTTL is how long the registry's word that a person is an
// enterprise's agent (经办人) lets them act for it before the registry is
// asked again, at their next switch to the enterprise.
const registeredAgentTTL = 24 * time.Hour

// actForRegistered switches the session hash to the enterprise with
// creditCode as the enterprise registry describes it: p acts for it when
// the registry names them its legal representative or one of its agents.
// refused is the platform's own answer, returned when the registry has no
// record of the enterprise either. The read is logged, and the enterprise (with its legal
// representative, or the agent's authorisation) recorded with the switch
// in one transaction, so that the session's later checks need no registry.
func (s *Store) actForRegistered(ctx context.Context, p authz.Principal, hash, creditCode string, refused error) (int64, error) {
	creditCode = strings.ToUpper(strings.TrimSpace(creditCode))
	if ident.ValidateCreditCode(creditCode) != nil {
		return 0, refused
	}
	me, err := s.PersonDetails(ctx, s.db, p.PersonID)
	if err != nil {
		return 0, err
	}
	rec, read, ferr := s.registry.Fetch(ctx, hub.Read{Subject: hub.Subject{Kind: hub.Enterprise, Key: creditCode}, Source: "enterprise",
		Fields: []string{"name", "status", "legal_rep_id_number", "agent_id_numbers"}, Reader: p.AccountID, ReaderName: me.Name + "（核验代办身份）",
		Purpose: "核验是否为企业法定代表人或经办人"})
	name, _ := rec["name"].(string)
	status, _ := rec["status"].(string)
	repID, _ := rec["legal_rep_id_number"].(string)
	agents, _ := rec["agent_id_numbers"].([]string)
	isRep := ferr == nil && ident.NormalizeIDNumber(repID) == me.IDNumber
	isAgent := ferr == nil && slices.ContainsFunc(agents, func(id string) bool { return ident.NormalizeIDNumber(id) == me.IDNumber })
	// Access is decided before anything is written; a refusal writes
	// only the read's log line.
	switch {
	case ferr != nil && !errors.Is(ferr, hub.ErrNotFound):
		err = apperr.Wrap(ferr, apperr.Unavailable, apperr.TemporarilyUnavailable, "the enterprise registry cannot be read just now, so who may act for the enterprise is unknown: try again later")
	case ferr != nil:
		err = refused
	case !isRep && !isAgent:
		err = notAuthorised(name)
	case status != "active":
		err = apperr.New(apperr.Forbidden, apperr.EnterpriseNotActive, "%s is %s in the enterprise registry and cannot apply", name, status)
	}
	if err != nil {
		if lerr := s.registry.LogReads(ctx, s.db, []hub.Fetched{read}); lerr != nil {
			return 0, lerr
		}
		return 0, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.registry.LogReads(ctx, tx, []hub.Fetched{read}); err != nil {
			return err
		}
		var rep int64
		if isRep {
			rep = p.PersonID
		}
		var err error
		if id, err = s.registerEnterprise(ctx, tx, creditCode, name, rep); err != nil {
			return err
		}
		if !isRep {
			now := s.now()
			if _, err := tx.ExecContext(ctx, `INSERT INTO authorisations (enterprise, agent_person, scope, valid_from, expires_at, created_by, created_at)
				VALUES ($1, $2, '*', $3, $4, $5, $3)`, id, p.PersonID, now, now.Add(registeredAgentTTL), p.AccountID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE sessions SET acting_for = $1 WHERE token_hash = $2`, id, hash)
		return err
	})
	return id, err
}

// registerEnterprise records an enterprise the registry knows, with its
// legal representative when rep is not 0; without one it leaves the
// representative already recorded alone.
func (s *Store) registerEnterprise(ctx context.Context, q execQuerier, creditCode, name string, rep int64) (int64, error) {
	if rep != 0 {
		return s.PutEnterprise(ctx, q, creditCode, name, rep)
	}
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM enterprises WHERE credit_code = $1`, creditCode).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return s.PutEnterprise(ctx, q, creditCode, name, 0)
	}
	return id, err
}

// Authorisation lets an agent act for an enterprise (授权委托).
type Authorisation struct {
	ID          int64      `json:"id"`
	Enterprise  string     `json:"enterprise_credit_code"`
	AgentName   string     `json:"agent_name"`
	AgentMasked string     `json:"agent_id_number"`
	Scope       []string   `json:"scope"` // item codes; ["*"] for all
	ValidFrom   time.Time  `json:"valid_from"`
	ExpiresAt   time.Time  `json:"expires_at"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// NewAuthorisation is what a legal representative fills in.
type NewAuthorisation struct {
	AgentIDNumber string    `json:"agent_id_number"`
	AgentName     string    `json:"agent_name"`
	Scope         []string  `json:"scope"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// maxAuthorisationYears bounds how long an authorisation may run, in
// calendar years (so leap days do not shorten it).
const maxAuthorisationYears = 3

// Authorise records an authorisation; only the enterprise's legal
// representative, acting for it, may give one.
func (s *Store) Authorise(ctx context.Context, p authz.Principal, n NewAuthorisation) (Authorisation, error) {
	if p.ActingFor == nil || p.ActingFor.Via != "legal_representative" {
		return Authorisation{}, apperr.New(apperr.Forbidden, apperr.LegalRepresentativeOnly, "only the legal representative, acting for the enterprise, may authorise agents")
	}
	now := s.now()
	if !n.ExpiresAt.After(now) || n.ExpiresAt.After(now.AddDate(maxAuthorisationYears, 0, 0)) {
		return Authorisation{}, apperr.New(apperr.Invalid, apperr.BadExpiry, "an authorisation must expire in the future and within three years")
	}
	scope := "*"
	if len(n.Scope) > 0 && !slices.Contains(n.Scope, "*") {
		scope = strings.Join(n.Scope, " ")
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		agent, err := s.claimPerson(ctx, tx, n.AgentIDNumber, n.AgentName, "")
		if err != nil {
			return err
		}
		if agent == p.PersonID {
			return apperr.New(apperr.Invalid, apperr.SelfAuthorisation, "the legal representative needs no authorisation")
		}
		return tx.QueryRowContext(ctx, `INSERT INTO authorisations (enterprise, agent_person, scope, valid_from, expires_at, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $4) RETURNING id`, p.ActingFor.ID, agent, scope, now, n.ExpiresAt.UTC(), p.AccountID).Scan(&id)
	})
	s.principals.forgetWhere(nil) // the agent's sessions may act for the enterprise again
	if err != nil {
		return Authorisation{}, err
	}
	list, err := s.Authorisations(ctx, p)
	if err != nil {
		return Authorisation{}, err
	}
	for _, a := range list {
		if a.ID == id {
			return a, nil
		}
	}
	return Authorisation{}, fmt.Errorf("authorisation %d vanished", id)
}

// Authorisations lists the authorisations of the enterprise p acts for as
// its legal representative.
func (s *Store) Authorisations(ctx context.Context, p authz.Principal) ([]Authorisation, error) {
	if p.ActingFor == nil || p.ActingFor.Via != "legal_representative" {
		return nil, apperr.New(apperr.Forbidden, apperr.LegalRepresentativeOnly, "only the legal representative, acting for the enterprise, may see its authorisations")
	}
	out, err := store.All(ctx, s.db, func(row store.Scanner) (Authorisation, error) {
		var a Authorisation
		var enc, scope string
		var revoked sql.NullTime
		if err := row.Scan(&a.ID, &a.Enterprise, &a.AgentName, &enc, &scope, &a.ValidFrom, &a.ExpiresAt, &revoked); err != nil {
			return a, err
		}
		idn, err := s.pii.OpenFor(enc, ctxIDNumber)
		if err != nil {
			return a, err
		}
		a.AgentMasked = pii.MaskIDNumber(idn)
		a.Scope = strings.Fields(scope)
		a.RevokedAt = nullTime(revoked)
		return a, nil
	}, `SELECT a.id, e.credit_code, p.name, p.id_number_enc, a.scope, a.valid_from, a.expires_at, a.revoked_at
		FROM authorisations a JOIN enterprises e ON e.id = a.enterprise JOIN persons p ON p.id = a.agent_person
		WHERE a.enterprise = $1 ORDER BY a.id DESC`, p.ActingFor.ID)
	if out == nil {
		out = []Authorisation{}
	}
	return out, err
}

// RevokeAuthorisation ends an authorisation of the enterprise p represents.
func (s *Store) RevokeAuthorisation(ctx context.Context, p authz.Principal, id int64) error {
	if p.ActingFor == nil || p.ActingFor.Via != "legal_representative" {
		return apperr.New(apperr.Forbidden, apperr.LegalRepresentativeOnly, "only the legal representative, acting for the enterprise, may revoke authorisations")
	}
	res, err := s.db.ExecContext(ctx, `UPDATE authorisations SET revoked_at = $1 WHERE id = $2 AND enterprise = $3 AND revoked_at IS NULL`, s.now(), id, p.ActingFor.ID)
	s.principals.forgetWhere(nil) // the agent's sessions acting for the enterprise
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return authz.NotYours("authorisation")
	}
	return nil
}

// ApplicantPrincipal is the principal a person's account applies as, acting
// for the enterprise with enterpriseID (0: for themselves), checked now: for
// work done later on the person's behalf, such as a bundle member submitted
// once the member it needs is approved. A disabled account, or a person no
// longer the enterprise's representative or agent, is refused.
func (s *Store) ApplicantPrincipal(ctx context.Context, accountID, enterpriseID int64) (authz.Principal, error) {
	a, err := s.Account(ctx, accountID)
	if err == nil && (a.Kind != "person" || a.Disabled) {
		err = apperr.New(apperr.Forbidden, apperr.PersonsOnly, "account %d is not an active person's account", accountID)
	}
	if err != nil {
		return authz.Principal{}, err
	}
	p := a.principal("")
	if enterpriseID != 0 {
		e, _, err := s.actingAs(ctx, p, enterpriseID)
		if err != nil {
			return authz.Principal{}, err
		}
		p.ActingFor = &e
	}
	return p, nil
}
