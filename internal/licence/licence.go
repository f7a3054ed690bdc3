// Package licence issues, seals, verifies, revokes and renders electronic
// licences (电子证照): the result of an approved application.
//
// A licence is issued inside the approving transaction (IssueTx) or by a
// durable job enqueued in it (IssueArgs), at most once per application. Its
// content is serialised canonically (Canonical), digested with SM3 and sealed
// with the issuing department's SM2 key (package seal); the same
// transaction writes it into the data hub as a level-A licence.TYPE record,
// so the next application attaches it by itself. docs/LICENCES.md describes
// the identifier, the canonical form and how another system verifies.
package licence

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"yiwang/internal/workday"

	"yiwang/internal/apperr"
	"yiwang/internal/catalog"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/pii"
	"yiwang/internal/seal"
	"yiwang/internal/store"
)

// Format names the canonical content's version; it is part of the content.
const Format = "yiwang-licence/1"

// Party is the holder or the issuer as a licence names them.
type Party struct {
	Kind string `json:"kind,omitempty"` // holder: person or enterprise
	Code string `json:"code,omitempty"` // issuer: the department's code
	// ID is the holder's resident ID number or credit code, or the issuer's credit code.
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Content is what a licence says and what its seal covers. Every value is
// text, so its canonical form has no number formats to agree on.
type Content struct {
	Format            string            `json:"format"`
	Number            string            `json:"number"`
	Type              string            `json:"type"`
	TypeName          string            `json:"type_name"`
	Issuer            Party             `json:"issuer"`
	Holder            Party             `json:"holder"`
	Fields            map[string]string `json:"fields"`
	IssueDate         string            `json:"issue_date"`  // YYYY-MM-DD, China time
	ValidUntil        string            `json:"valid_until"` // YYYY-MM-DD, or "" for long-term
	ApplicationNumber string            `json:"application_number"`
	ItemCode          string            `json:"item_code"`
}

// Seal is a licence's electronic seal.
type Seal struct {
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"key_id"`
	Digest    string `json:"digest"`    // SM3 of the canonical content, hex
	Signature string `json:"signature"` // SM2, DER, base64
}

// Licence is an issued licence.
type Licence struct {
	ID      int64   `json:"id"`
	Content Content `json:"licence"`
	Seal    Seal    `json:"seal"`
	// Status is valid, revoked (by an authority), cancelled (on the
	// holder's request) or superseded (by the licence that replaced it);
	// expiry is judged on reading.
	Status        string    `json:"status"`
	ApplicationID int64     `json:"application_id,omitempty"`
	IssuedBy      string    `json:"issued_by"`
	IssuedAt      time.Time `json:"issued_at"`
	// EndedAt and EndReason say when and why a licence left force;
	// EndApplication is the number of the application that cancelled or
	// superseded it, SupersededBy the number of the licence that replaced it.
	EndedAt        *time.Time `json:"ended_at,omitempty"`
	EndReason      string     `json:"end_reason,omitempty"`
	EndApplication string     `json:"end_application,omitempty"`
	SupersededBy   string     `json:"superseded_by,omitempty"`
	holderIdx      string
}

// Canonical is the byte string a licence's seal covers: the content as JSON
// with object keys sorted by their UTF-8 bytes, no insignificant space, and
// strings escaped as encoding/json does with HTML escaping off.
func Canonical(c Content) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		return nil, err
	}
	return canonicalJSON(generic)
}

// canonicalJSON writes v canonically. Only objects and strings are allowed:
// a licence file with a number or list in its content is not a licence.
func canonicalJSON(v map[string]any) ([]byte, error) {
	if err := onlyText(v, ""); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // maps are written with sorted keys
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func onlyText(v map[string]any, at string) error {
	for k, x := range v {
		switch x := x.(type) {
		case string:
		case map[string]any:
			if err := onlyText(x, at+k+"."); err != nil {
				return err
			}
		default:
			return apperr.New(apperr.Invalid, apperr.LicenceNotText, "licence content %s%s is not text: every value of a licence's content is a string", at, k)
		}
	}
	return nil
}

// Holder names whom a licence is issued to.
type Holder struct {
	Kind hub.SubjectKind `json:"kind"` // person or enterprise
	ID   string          `json:"id"`   // resident ID number or unified social credit code
	Name string          `json:"name"`
}

// Request asks for a licence for an approved application.
type Request struct {
	ApplicationID     int64             `json:"application_id"` // 0: not from an application (imports, tests)
	ApplicationNumber string            `json:"application_number"`
	ItemCode          string            `json:"item_code"`
	Type              string            `json:"type"`
	Holder            Holder            `json:"holder"`
	Fields            map[string]string `json:"fields"`
	IssuedBy          string            `json:"issued_by"`      // "machine" or "staff:ACCOUNT_ID"
	ValidityYears     int               `json:"validity_years"` // 0: the type's default
	// Supersedes names the licence the new one replaces, taken out of
	// force in the same transaction; nil: none.
	Supersedes *Held `json:"supersedes,omitempty"`
}

// Held names the licence of a type a holder has in force, as the data hub
// keeps it: the newest of that type.
type Held struct {
	Type   string `json:"type"`
	Holder Holder `json:"holder"`
}

// End says why a licence leaves force and through which application.
type End struct {
	Reason            string
	By                string // "machine" or "staff:ACCOUNT_ID"
	ApplicationID     int64
	ApplicationNumber string
}

// Type is a licence type as issuance needs it.
type Type struct {
	Code, NameZh, NameEn, Issuer, Holder string
	catalog.LicenceSpec
}

// Service issues and serves licences.
type Service struct {
	db   *store.DB
	keys *seal.Keyring
	pii  *pii.Protector
	hub  *hub.Builtin
	site string // public site address, for the verification links in QR codes
	now  func() time.Time
}

// NewService returns the licence service; site is the public address the
// QR codes point to (e.g. https://zwfw.example.gov.cn).
func NewService(db *store.DB, keys *seal.Keyring, protector *pii.Protector, registries *hub.Builtin, site string) *Service {
	return &Service{db: db, keys: keys, pii: protector, hub: registries, site: strings.TrimSuffix(site, "/"),
		now: func() time.Time { return time.Now().UTC() }}
}

// VerifyURL is the public verification page of a licence number.
func (s *Service) VerifyURL(number string) string { return s.site + "/verify/" + number }

// TypeTx reads a licence type as the catalogue declared it.
func TypeTx(ctx context.Context, q seal.Querier, code string) (Type, error) {
	t := Type{Code: code}
	var spec string
	err := q.QueryRowContext(ctx, `SELECT name_zh, name_en, issuer, holder, spec FROM licence_types WHERE code = $1`, code).
		Scan(&t.NameZh, &t.NameEn, &t.Issuer, &t.Holder, &spec)
	if errors.Is(err, sql.ErrNoRows) {
		return t, apperr.New(apperr.Invalid, apperr.UnknownLicenceType, "licence type %q is not in the catalogue's licences.yaml", code)
	}
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal([]byte(spec), &t.LicenceSpec); err != nil {
		return t, fmt.Errorf("licence type %s: spec: %w", code, err)
	}
	return t, nil
}

// FieldsFromForm picks a type's own fields out of an application's form:
// each from the first of its form fields that has a value, written as the
// licence is read, not as stored (catalog.Field.Shown): an option by its
// Chinese label, a table row by its columns' labels, a number as written.
func (t Type) FieldsFromForm(form map[string]any, fields []catalog.Field) map[string]string {
	out := map[string]string{}
	for _, f := range t.Fields {
		names := f.Form
		if len(names) == 0 {
			names = []string{f.ID}
		}
		for _, n := range names {
			field := catalog.Field{ID: n}
			if i := slices.IndexFunc(fields, func(x catalog.Field) bool { return x.ID == n }); i >= 0 {
				field = fields[i]
			}
			if text := field.Shown(form[n], "zh"); text != "" {
				out[f.ID] = text
				break
			}
		}
	}
	return out
}

// checkRequest refuses a request that would make a wrong licence.
func (t Type) checkRequest(r Request) (Holder, error) {
	h := r.Holder
	h.ID, h.Name = strings.TrimSpace(h.ID), strings.TrimSpace(h.Name)
	var problems []apperr.Detail
	if t.Issuer == "external" {
		return h, apperr.New(apperr.Invalid, apperr.LicenceIssuedElsewhere, "「%s」 is issued outside this platform: it cannot be issued here", t.NameZh)
	}
	if t.TypeCode == "" {
		return h, apperr.New(apperr.Invalid, apperr.LicenceTypeWithoutCode, "「%s」 has no type_code in licences.yaml: licence numbers need it", t.NameZh)
	}
	if string(h.Kind) != t.Holder {
		holder := map[string]string{"person": "个人", "enterprise": "企业"}
		problems = append(problems, apperr.Detail{Subject: "holder.kind", Words: apperr.Words{
			Zh: fmt.Sprintf("「%s」的持证人须为%s。", t.NameZh, holder[t.Holder]), En: fmt.Sprintf("「%s」 is held by a %s, not a %s.", t.NameZh, t.Holder, h.Kind)}})
	}
	switch h.Kind {
	case hub.Person:
		h.ID = ident.NormalizeIDNumber(h.ID)
		if _, err := ident.ParseIDNumber(h.ID); err != nil {
			problems = append(problems, apperr.Detail{Subject: "holder.id", Words: apperr.Words{
				Zh: "持证人的身份证号码有误。", En: "The holder's resident ID number is not valid."}})
		}
	case hub.Enterprise:
		h.ID = strings.ToUpper(h.ID)
		if err := ident.ValidateCreditCode(h.ID); err != nil {
			problems = append(problems, apperr.Detail{Subject: "holder.id", Words: apperr.Words{
				Zh: "持证企业的统一社会信用代码有误。", En: "The holder's credit code is not valid: " + err.Error()}})
		}
	}
	if h.Name == "" {
		problems = append(problems, apperr.Detail{Subject: "holder.name", Words: apperr.Words{
			Zh: "缺少持证人的姓名或名称。", En: "The holder's name is missing."}})
	}
	for k := range r.Fields {
		if !slices.ContainsFunc(t.Fields, func(f catalog.LicenceField) bool { return f.ID == k }) {
			problems = append(problems, apperr.Detail{Subject: k, Words: apperr.Words{
				Zh: fmt.Sprintf("「%s」没有“%s”这一项。", t.NameZh, k), En: fmt.Sprintf("「%s」 has no field %q.", t.NameZh, k)}})
		}
	}
	for _, f := range t.Fields {
		if f.Required && strings.TrimSpace(r.Fields[f.ID]) == "" {
			problems = append(problems, apperr.Detail{Subject: f.ID, Words: apperr.Words{
				Zh: fmt.Sprintf("请填写“%s”。", f.Label.Zh), En: fmt.Sprintf("Field %s (%s) is required.", f.ID, f.Label.In("en"))}})
		}
	}
	if r.ValidityYears < 0 {
		problems = append(problems, apperr.Detail{Subject: "validity_years", Words: apperr.Words{
			Zh: "有效期年数不能为负数。", En: "Validity years cannot be negative."}})
	}
	if r.IssuedBy == "" {
		problems = append(problems, apperr.Detail{Subject: "issued_by", Words: apperr.Words{
			Zh: "请写明签发方：系统自动签发或签发的工作人员。", En: "Say who issues it (machine or staff:ACCOUNT)."}})
	}
	if len(problems) > 0 {
		slices.SortFunc(problems, func(a, b apperr.Detail) int { return strings.Compare(a.En, b.En) })
		return h, apperr.New(apperr.Invalid, apperr.BadLicenceRequest, "cannot issue 「%s」: %s", t.NameZh, apperr.JoinEnglish(problems)).WithDetails(problems)
	}
	return h, nil
}

// ValidUntil is the last day of validity: issued on 2025-03-01 for 5 years,
// a licence is valid to 2030-02-28 inclusive. Zero years: long-term ("").
func ValidUntil(issued time.Time, years int) string {
	if years == 0 {
		return ""
	}
	return issued.AddDate(years, 0, -1).Format(time.DateOnly)
}

// IssueTx issues the licence req asks for inside tx — the approving
// transaction, so there is never a licence without its approved application
// nor an approval whose licence was lost. For an application that already
// has its licence it returns that one: retries never issue twice.
func (s *Service) IssueTx(ctx context.Context, tx *sql.Tx, req Request) (Licence, error) {
	if req.ApplicationID != 0 {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM licences WHERE application_id = $1`, req.ApplicationID).Scan(&id)
		if err == nil {
			return s.get(ctx, tx, `WHERE id = $1`, id)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Licence{}, err
		}
	}
	t, err := TypeTx(ctx, tx, req.Type)
	if err != nil {
		return Licence{}, err
	}
	holder, err := t.checkRequest(req)
	if err != nil {
		return Licence{}, err
	}
	// The licence it supersedes is read before the new one may take its
	// place in the data hub (a change of details keeps the holder).
	var old heldRecord
	if req.Supersedes != nil {
		old, err = s.held(ctx, tx, *req.Supersedes)
		if err != nil && !apperr.Is(err, apperr.Conflict) {
			return Licence{}, err
		}
	}
	var issuer Party
	issuer.Code = t.Issuer
	var credit sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT name_zh, credit_code FROM departments WHERE code = $1`, t.Issuer).Scan(&issuer.Name, &credit); err != nil {
		return Licence{}, fmt.Errorf("issuing department %s: %w", t.Issuer, err)
	}
	if issuer.ID = credit.String; issuer.ID == "" {
		return Licence{}, apperr.New(apperr.Invalid, apperr.IssuerWithoutCreditCode, "department %s has no credit code in departments.yaml: licence numbers begin with it", t.Issuer)
	}
	now := s.now()
	local := now.In(workday.CST)
	year := local.Year()
	var seq int
	if err := tx.QueryRowContext(ctx, `INSERT INTO licence_sequences (issuer, type_code, year, last) VALUES ($1, $2, $3, 1)
		ON CONFLICT (issuer, type_code, year) DO UPDATE SET last = licence_sequences.last + 1 RETURNING last`, issuer.ID, t.TypeCode, year).Scan(&seq); err != nil {
		return Licence{}, fmt.Errorf("licence sequence: %w", err)
	}
	number, err := Number(issuer.ID, t.TypeCode, year, seq)
	if err != nil {
		return Licence{}, err
	}
	years := req.ValidityYears
	if years == 0 {
		years = t.ValidityYears
	}
	fields := map[string]string{}
	for k, v := range req.Fields {
		fields[k] = strings.TrimSpace(v)
	}
	c := Content{Format: Format, Number: number, Type: t.Code, TypeName: t.NameZh, Issuer: issuer,
		Holder:    Party{Kind: string(holder.Kind), ID: holder.ID, Name: holder.Name},
		Fields:    fields,
		IssueDate: local.Format(time.DateOnly), ValidUntil: ValidUntil(local, years),
		ApplicationNumber: req.ApplicationNumber, ItemCode: req.ItemCode}
	canon, err := Canonical(c)
	if err != nil {
		return Licence{}, err
	}
	keyID, err := s.keys.ActiveTx(ctx, tx, t.Issuer)
	if err != nil {
		return Licence{}, err
	}
	sig, err := s.keys.Sign(ctx, tx, keyID, canon)
	if err != nil {
		return Licence{}, err
	}
	l := Licence{Content: c, Seal: Seal{Algorithm: seal.Algorithm, KeyID: keyID, Digest: seal.Digest(canon), Signature: sig},
		Status: "valid", ApplicationID: req.ApplicationID, IssuedBy: req.IssuedBy, IssuedAt: now}
	subject := hub.Subject{Kind: holder.Kind, Key: holder.ID}
	l.holderIdx = s.hub.SubjectIndex(subject)
	sealed, err := s.pii.SealFor(string(canon), contentContext)
	if err != nil {
		return Licence{}, err
	}
	var app any
	if req.ApplicationID != 0 {
		app = req.ApplicationID
	}
	statusAt, statusSig, err := s.signedStatus(ctx, tx, keyID, number, "valid", now)
	if err != nil {
		return Licence{}, err
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO licences (number, application_id, application_number, item_code, type, issuer, holder_kind, holder_idx,
		content, digest, signature, key_id, issued_by, issued_at, valid_until, status_at, status_key_id, status_signature)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $12, $17) RETURNING id`,
		number, app, req.ApplicationNumber, req.ItemCode, t.Code, t.Issuer, string(holder.Kind), l.holderIdx,
		sealed, l.Seal.Digest, sig, keyID, req.IssuedBy, now, c.ValidUntil, statusAt, statusSig).Scan(&l.ID); err != nil {
		return Licence{}, fmt.Errorf("store licence: %w", err)
	}
	if err := auditStatus(ctx, tx, number, "valid", now, "licence.issue", req.IssuedBy); err != nil {
		return Licence{}, err
	}
	if err := s.hub.Put(ctx, tx, "licence."+t.Code, subject, hubRecord(l)); err != nil {
		return Licence{}, fmt.Errorf("licence into the data hub: %w", err)
	}
	if old.rec != nil {
		end := End{Reason: "由新证照 " + number + " 取代", By: req.IssuedBy, ApplicationID: req.ApplicationID, ApplicationNumber: req.ApplicationNumber}
		if _, err := s.endRecord(ctx, tx, old, Superseded, end, l.ID); err != nil {
			return Licence{}, err
		}
	}
	return l, nil
}

// contentContext binds sealed licence contents to their column.
const contentContext = "licences.content"

// hubRecord is the licence as the data hub keeps it: level A, with the
// type's own fields beside the common ones.
func hubRecord(l Licence) hub.Record {
	c := l.Content
	rec := hub.Record{}
	for k, v := range c.Fields {
		rec[k] = v
	}
	for k, v := range map[string]any{"type": c.Type, "number": c.Number, "holder": c.Holder.Name, "holder_id": c.Holder.ID,
		"issuer": c.Issuer.Name, "issue_date": c.IssueDate, "status": l.Status, "trust_level": "A"} {
		rec[k] = v
	}
	if c.ValidUntil != "" {
		rec["expiry_date"] = c.ValidUntil
	}
	return rec
}

// get reads one licence.
func (s *Service) get(ctx context.Context, q store.Querier, where string, args ...any) (Licence, error) {
	ls, err := s.list(ctx, q, where, args...)
	if err != nil {
		return Licence{}, err
	}
	if len(ls) == 0 {
		return Licence{}, apperr.New(apperr.NotFound, apperr.LicenceNotFound, "no such licence")
	}
	return ls[0], nil
}

func (s *Service) list(ctx context.Context, q store.Querier, where string, args ...any) ([]Licence, error) {
	return store.All(ctx, q, s.scanLicence, `SELECT id, COALESCE(application_id, 0), content, digest, signature, key_id, issued_by, issued_at, status, ended_at, end_reason,
		end_application_number, COALESCE((SELECT n.number FROM licences n WHERE n.id = licences.superseded_by), ''), holder_idx
		FROM licences `+where, args...)
}

// scanLicence reads a licence row and opens its sealed content.
func (s *Service) scanLicence(row store.Scanner) (Licence, error) {
	var l Licence
	var sealed string
	var ended sql.NullTime
	if err := row.Scan(&l.ID, &l.ApplicationID, &sealed, &l.Seal.Digest, &l.Seal.Signature, &l.Seal.KeyID, &l.IssuedBy, &l.IssuedAt, &l.Status, &ended, &l.EndReason,
		&l.EndApplication, &l.SupersededBy, &l.holderIdx); err != nil {
		return l, err
	}
	plain, err := s.pii.OpenFor(sealed, contentContext)
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal([]byte(plain), &l.Content); err != nil {
		return l, fmt.Errorf("licence %d: content: %w", l.ID, err)
	}
	l.Seal.Algorithm, l.IssuedAt = seal.Algorithm, l.IssuedAt.UTC()
	if ended.Valid {
		t := ended.Time.UTC()
		l.EndedAt = &t
	}
	return l, nil
}

// ByNumber returns the licence with number.
func (s *Service) ByNumber(ctx context.Context, number string) (Licence, error) {
	return s.get(ctx, s.db, `WHERE number = $1`, strings.ToUpper(strings.TrimSpace(number)))
}

// ByApplication returns the licence issued for an application.
func (s *Service) ByApplication(ctx context.Context, applicationID int64) (Licence, error) {
	return s.get(ctx, s.db, `WHERE application_id = $1`, applicationID)
}

// ForHolder lists a holder's licences, newest first.
func (s *Service) ForHolder(ctx context.Context, h Holder) ([]Licence, error) {
	ls, err := s.list(ctx, s.db, `WHERE holder_idx = $1 ORDER BY id DESC`, s.hub.SubjectIndex(hub.Subject{Kind: h.Kind, Key: h.ID}))
	if ls == nil {
		ls = []Licence{}
	}
	return ls, err
}

// Expired reports whether the licence's validity ended before today (China time).
func (l Licence) Expired(now time.Time) bool {
	return l.Content.ValidUntil != "" && l.Content.ValidUntil < now.In(workday.CST).Format(time.DateOnly)
}

// Revoke revokes a licence with a reason. The data hub's record turns
// revoked in the same transaction (when it is this licence's), so no later
// application attaches it.
func (s *Service) Revoke(ctx context.Context, number, reason, by string) (Licence, error) {
	var l Licence
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		l, err = s.RevokeTx(ctx, tx, number, reason, by)
		return err
	})
	return l, err
}

// RevokeTx is Revoke inside the caller's transaction, such as the one that
// revokes the licence's application.
func (s *Service) RevokeTx(ctx context.Context, tx *sql.Tx, number, reason, by string) (Licence, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Licence{}, apperr.New(apperr.Invalid, apperr.RevokeReasonMissing, "give the reason for revoking the licence: the holder and verifiers see it")
	}
	l, err := s.get(ctx, tx, `WHERE number = $1`, strings.ToUpper(strings.TrimSpace(number)))
	if err != nil {
		return l, err
	}
	return s.end(ctx, tx, l, Revoked, End{Reason: reason, By: by}, 0)
}

// CancelTx cancels, inside the approving transaction of a cancellation
// (注销), the licence of a type its holder has in force, and returns it.
// A holder with none in force — never issued, or already cancelled,
// revoked, superseded or expired — gets NoLicenceInForce.
func (s *Service) CancelTx(ctx context.Context, tx *sql.Tx, held Held, e End) (Licence, error) {
	h, err := s.held(ctx, tx, held)
	if err != nil {
		return Licence{}, err
	}
	return s.endRecord(ctx, tx, h, Cancelled, e, 0)
}

// heldRecord is the data hub's record of a licence in force.
type heldRecord struct {
	source  string
	subject hub.Subject
	rec     hub.Record
}

// held reads the data hub's record of the licence of held's type its
// holder has in force; NoLicenceInForce when there is none.
func (s *Service) held(ctx context.Context, tx *sql.Tx, held Held) (heldRecord, error) {
	h := heldRecord{source: "licence." + held.Type, subject: hub.Subject{Kind: held.Holder.Kind, Key: held.Holder.ID}}
	rec, err := s.hub.RecordTx(ctx, tx, h.source, h.subject)
	if errors.Is(err, hub.ErrNotFound) || err == nil && !hub.InForce(rec, s.now()) {
		return h, apperr.New(apperr.Conflict, apperr.NoLicenceInForce, "the holder has no %s in force", held.Type)
	}
	h.rec = rec
	return h, err
}

// endRecord ends the licence a data hub record held is of: one issued here
// ends in its row, status signed, and in the hub; one imported from a
// registry (no row here) in the hub alone, so no later application finds
// it — the Licence returned then has only its number, type and status.
func (s *Service) endRecord(ctx context.Context, tx *sql.Tx, h heldRecord, status string, e End, by int64) (Licence, error) {
	number, _ := h.rec["number"].(string)
	l, err := s.get(ctx, tx, `WHERE number = $1`, number)
	if apperr.Is(err, apperr.NotFound) {
		h.rec["status"] = status
		if err := s.hub.Put(ctx, tx, h.source, h.subject, h.rec); err != nil {
			return Licence{}, err
		}
		imported := Licence{Content: Content{Number: number, Type: strings.TrimPrefix(h.source, "licence.")}, Status: status}
		return imported, auditStatus(ctx, tx, number, status, s.now(), "licence."+actions[status], e.By)
	}
	if err != nil {
		return l, err
	}
	return s.end(ctx, tx, l, status, e, by)
}

// end takes a licence in force out of force — revoked, cancelled or
// superseded (by the licence with id by) — signs its new status and, when
// the data hub's licence.TYPE record of its holder is this licence, turns
// it too, so that no later application finds it.
func (s *Service) end(ctx context.Context, tx *sql.Tx, l Licence, status string, e End, by int64) (Licence, error) {
	switch l.Status {
	case Valid:
	case Revoked:
		return l, apperr.New(apperr.Conflict, apperr.LicenceAlreadyRevoked, "licence %s was already revoked on %s", l.Content.Number, l.EndedAt.In(workday.CST).Format(time.DateOnly))
	default:
		return l, apperr.New(apperr.Conflict, apperr.LicenceEnded, "licence %s is %s since %s", l.Content.Number, l.Status, l.EndedAt.In(workday.CST).Format(time.DateOnly))
	}
	now := s.now()
	var app, successor any
	if e.ApplicationID != 0 {
		app = e.ApplicationID
	}
	if by != 0 {
		successor = by
	}
	if _, err := tx.ExecContext(ctx, `UPDATE licences SET status = $1, ended_at = $2, end_reason = $3, ended_by = $4, end_application_id = $5, end_application_number = $6, superseded_by = $7
		WHERE id = $8`, status, now, e.Reason, e.By, app, e.ApplicationNumber, successor, l.ID); err != nil {
		return l, err
	}
	if err := s.signStatus(ctx, tx, l.ID, status, now, "licence."+actions[status], e.By); err != nil {
		return l, err
	}
	l, err := s.get(ctx, tx, `WHERE id = $1`, l.ID)
	if err != nil {
		return l, err
	}
	source, subject := "licence."+l.Content.Type, hub.Subject{Kind: hub.SubjectKind(l.Content.Holder.Kind), Key: l.Content.Holder.ID}
	rec, err := s.hub.RecordTx(ctx, tx, source, subject)
	if errors.Is(err, hub.ErrNotFound) || err == nil && rec["number"] != l.Content.Number {
		return l, nil // the hub holds a newer licence of this type, or none
	}
	if err != nil {
		return l, err
	}
	return l, s.hub.Put(ctx, tx, source, subject, hubRecord(l))
}

// actions name the audit trail's entries of each end of force.
var actions = map[string]string{Revoked: "revoke", Cancelled: "cancel", Superseded: "supersede"}

// NumberOfApplication is the number of the licence issued for an
// application, read inside tx; "" if it has none.
func NumberOfApplication(ctx context.Context, tx *sql.Tx, applicationID int64) (string, error) {
	var number string
	err := tx.QueryRowContext(ctx, `SELECT number FROM licences WHERE application_id = $1`, applicationID).Scan(&number)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return number, err
}

// Owner is, read inside tx, the application a licence was issued for (0 for
// one imported from a registry) and its issuing department.
func Owner(ctx context.Context, tx *sql.Tx, number string) (applicationID int64, issuer string, err error) {
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(application_id, 0), issuer FROM licences WHERE number = $1`, strings.ToUpper(strings.TrimSpace(number))).Scan(&applicationID, &issuer)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", apperr.New(apperr.NotFound, apperr.LicenceNotFound, "there is no licence %s", number)
	}
	return applicationID, issuer, err
}

// EnsureKeys gives every department that issues licence types a seal key,
// returning the departments that got their first one now.
func (s *Service) EnsureKeys(ctx context.Context) ([]string, error) {
	depts, err := store.All(ctx, s.db, store.Value[string], `SELECT DISTINCT t.issuer FROM licence_types t JOIN departments d ON d.code = t.issuer
		WHERE NOT EXISTS (SELECT 1 FROM seal_keys k WHERE k.department = t.issuer AND k.retired_at IS NULL) ORDER BY t.issuer`)
	if err != nil {
		return nil, err
	}
	for _, d := range depts {
		if _, err := s.keys.Active(ctx, d); err != nil {
			return nil, err
		}
	}
	return depts, nil
}
