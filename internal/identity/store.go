// Package identity knows who people are: persons keyed by their resident ID
// number, enterprises by their credit code, accounts with argon2id passwords
// and roles, sessions, API tokens for other systems, and the authorisations
// that let a person act for an enterprise. It turns a request's credentials
// into an authz.Principal; authz decides what that principal may do.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

// Column contexts bind ciphertexts to the column they belong in.
const (
	ctxIDNumber = "persons.id_number"
	ctxPhone    = "persons.phone"
)

// Store keeps identities in the database.
type Store struct {
	db        *store.DB
	pii       *pii.Protector
	passwords *Hasher
	notifier  Notifier    // tells an account's holder what no one else may learn; nil: nobody
	registry  *hub.Reader // the population and enterprise sources, read for identity checks; nil: none
	now       func() time.Time
	// principals answers sessions and API tokens from memory for up to
	// RecheckEvery; see there for how changes reach it.
	principals *principals
}

// Notifier writes a message inside the caller's transaction: the
// notifications outbox.
type Notifier interface {
	Send(ctx context.Context, tx *sql.Tx, m notify.Message) (int64, error)
}

// SetRegistry lets the store read the hub's sources (the departments'
// systems configured, else the built-in registries): ActFor finds
// enterprises and their representatives and agents in the enterprise
// source, and registration checks a name against the population source.
// Every read is logged.
func (s *Store) SetRegistry(r *hub.Reader) { s.registry = r }

// SetNotifier makes the store tell an account's holder, and only them, of
// what the answers to strangers keep quiet: a registration tried with their
// ID number, their account locked after failed sign-ins.
func (s *Store) SetNotifier(n Notifier) { s.notifier = n }

// TellHolder writes an account-security message to the holder of account
// id inside tx; without a notifier it writes nothing.
func (s *Store) TellHolder(ctx context.Context, tx *sql.Tx, id int64, titleZh, titleEn, bodyZh, bodyEn string) error {
	if s.notifier == nil {
		return nil
	}
	_, err := s.notifier.Send(ctx, tx, notify.Message{AccountID: id, Kind: notify.AccountSecurity, TitleZh: titleZh, TitleEn: titleEn, BodyZh: bodyZh, BodyEn: bodyEn})
	return err
}

// NewStore returns an identity store; protector encrypts personal data.
// It checks passwords with one argon2id hash per CPU at once; SetHasher
// changes that.
func NewStore(db *store.DB, protector *pii.Protector) *Store {
	return &Store{db: db, pii: protector, passwords: NewHasher(0, PasswordCheckWait), now: func() time.Time { return time.Now().UTC() },
		principals: newPrincipals()}
}

// SetHasher makes the store check passwords with h, which bounds how many
// run at once (serve --max-password-checks).
func (s *Store) SetHasher(h *Hasher) { s.passwords = h }

// Passwords is the hasher the store checks passwords with, for the other
// secrets checked against argon2id hashes (kiosk PINs).
func (s *Store) Passwords() *Hasher { return s.passwords }

// Person is a person as the platform shows them: the ID number masked.
type Person struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	IDNumberMasked string `json:"id_number"`
	BirthDate      string `json:"birth_date"`
	Sex            string `json:"sex"`
}

// execQuerier is a database or a transaction.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// PutPerson records a person by resident ID number, checking the number, and
// returns their id. An existing person keeps their id; name and phone update.
func (s *Store) PutPerson(ctx context.Context, q execQuerier, idNumber, name, phone string) (int64, error) {
	idNumber = ident.NormalizeIDNumber(strings.TrimSpace(idNumber))
	info, err := ident.ParseIDNumber(idNumber)
	if err != nil {
		return 0, apperr.New(apperr.Invalid, apperr.BadIDNumber, "the resident ID number is not valid: %v", err)
	}
	if name, err = personName(name); err != nil {
		return 0, err
	}
	enc, err := s.pii.SealFor(idNumber, ctxIDNumber)
	if err != nil {
		return 0, err
	}
	var phoneEnc any
	if phone = strings.TrimSpace(phone); phone != "" {
		if !ident.ValidMobile(phone) {
			return 0, apperr.New(apperr.Invalid, apperr.BadPhone, "give an 11-digit mobile number starting with 1")
		}
		if phoneEnc, err = s.pii.SealFor(phone, ctxPhone); err != nil {
			return 0, err
		}
	}
	var id int64
	err = q.QueryRowContext(ctx, `INSERT INTO persons (id_number_enc, id_number_idx, name, birth_date, sex, phone_enc, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id_number_idx) DO UPDATE SET name = excluded.name, phone_enc = COALESCE(excluded.phone_enc, persons.phone_enc)
		RETURNING id`, enc, s.pii.Index(idNumber), name, info.BirthDate.Format("2006-01-02"), info.Sex, phoneEnc, s.now()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("put person: %w", err)
	}
	return id, nil
}

// personName is name checked as a person's name, or a bad_name error.
func personName(name string) (string, error) {
	name, err := ident.CheckName(name, ident.MaxPersonName)
	if err != nil {
		return "", apperr.Wrap(err, apperr.Invalid, apperr.BadName, "give the name as on the ID card: "+err.Error())
	}
	return name, nil
}

// claimPerson is PutPerson for names typed by a user (self-registration, an
// authorisation): an existing person's name on record is never replaced, and
// a name that does not match it is refused.
func (s *Store) claimPerson(ctx context.Context, q execQuerier, idNumber, name, phone string) (int64, error) {
	name, err := personName(name)
	if err != nil {
		return 0, err
	}
	var id int64
	var onRecord string
	err = q.QueryRowContext(ctx, `SELECT id, name FROM persons WHERE id_number_idx = $1`, s.pii.Index(ident.NormalizeIDNumber(strings.TrimSpace(idNumber)))).Scan(&id, &onRecord)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return s.PutPerson(ctx, q, idNumber, name, phone)
	case err != nil:
		return 0, err
	case onRecord != name:
		return 0, apperr.New(apperr.Invalid, apperr.NameMismatch, "the name does not match the one on record for this ID number: give the name exactly as on the ID card")
	}
	return id, nil
}

// PersonByIDNumber finds a person through the blind index, reading through q
// (the caller's transaction when it holds one, else the store's DB).
func (s *Store) PersonByIDNumber(ctx context.Context, q store.Querier, idNumber string) (Person, error) {
	return s.person(ctx, q, `id_number_idx = $1`, s.pii.Index(ident.NormalizeIDNumber(strings.TrimSpace(idNumber))))
}

// PersonByID returns a person, masked.
func (s *Store) PersonByID(ctx context.Context, id int64) (Person, error) {
	return s.person(ctx, s.db, `id = $1`, id)
}

func (s *Store) person(ctx context.Context, q store.Querier, where string, arg any) (Person, error) {
	var p Person
	var enc string
	err := q.QueryRowContext(ctx, `SELECT id, id_number_enc, name, birth_date, sex FROM persons WHERE `+where, arg).
		Scan(&p.ID, &enc, &p.Name, &p.BirthDate, &p.Sex)
	if errors.Is(err, sql.ErrNoRows) {
		return p, apperr.New(apperr.NotFound, apperr.PersonNotFound, "no such person")
	}
	if err != nil {
		return p, err
	}
	idNumber, err := s.pii.OpenFor(enc, ctxIDNumber)
	if err != nil {
		return p, fmt.Errorf("person %d: %w", p.ID, err)
	}
	p.IDNumberMasked = pii.MaskIDNumber(idNumber)
	return p, nil
}

// Unmasked is a person's personal data in clear, for staff with a need.
type Unmasked struct {
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone,omitempty"`
}

// RevealPerson decrypts a person's personal data and records who saw it and
// why in the same transaction: no view without its log entry.
func (s *Store) RevealPerson(ctx context.Context, personID int64, viewer authz.Principal, purpose, requestID string) (Unmasked, error) {
	if err := authz.Require(viewer, authz.PersonalDataRaw); err != nil {
		return Unmasked{}, err
	}
	var u Unmasked
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var enc string
		var phone sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT id_number_enc, phone_enc FROM persons WHERE id = $1`, personID).Scan(&enc, &phone)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, apperr.PersonNotFound, "no such person")
		}
		if err != nil {
			return err
		}
		fields := []string{"id_number"}
		if u.IDNumber, err = s.pii.OpenFor(enc, ctxIDNumber); err != nil {
			return err
		}
		if phone.Valid {
			if u.Phone, err = s.pii.OpenFor(phone.String, ctxPhone); err != nil {
				return err
			}
			fields = append(fields, "phone")
		}
		return pii.NewAccessLog(s.db.DB).RecordTx(ctx, tx, pii.Access{At: s.now(), StaffAccount: viewer.AccountID, StaffName: viewer.Name,
			SubjectPerson: personID, Fields: fields, Purpose: purpose, RequestID: requestID})
	})
	if err != nil {
		return Unmasked{}, err // no view without its log entry
	}
	return u, nil
}

// Account is a sign-in identity: a person's, a staff member's or another system's.
type Account struct {
	ID            int64        `json:"id"`
	Kind          string       `json:"kind"`
	Username      string       `json:"username,omitempty"`
	PersonID      int64        `json:"person_id,omitempty"`
	DisplayName   string       `json:"display_name"`
	RealNameLevel int          `json:"real_name_level"`
	Department    string       `json:"department,omitempty"`
	Region        string       `json:"region,omitempty"`
	HallID        int64        `json:"hall_id,omitempty"`
	Roles         []authz.Role `json:"roles"`
	Disabled      bool         `json:"disabled,omitempty"`
}

// NewStaff describes a staff account to create.
type NewStaff struct {
	Username    string       `json:"username"`
	DisplayName string       `json:"display_name"`
	Password    string       `json:"password"`
	Department  string       `json:"department"`
	Region      string       `json:"region"`
	HallID      int64        `json:"hall_id,omitempty"`
	Roles       []authz.Role `json:"roles"`
}

// CreateStaff creates a staff account in a department and region.
func (s *Store) CreateStaff(ctx context.Context, n NewStaff, by int64) (Account, error) {
	n.Username = strings.TrimSpace(n.Username)
	if !validUsername(n.Username) {
		return Account{}, apperr.New(apperr.Invalid, apperr.BadUsername, "a staff username has 3 to 40 lower-case letters, digits, dots, dashes or underscores")
	}
	var err error
	if n.DisplayName, err = personName(n.DisplayName); err != nil {
		return Account{}, err
	}
	if n.Department == "" || n.Region == "" {
		return Account{}, apperr.New(apperr.Invalid, apperr.DepartmentRequired, "staff belong to a department and a region: give both")
	}
	if err := checkRoles(n.Roles); err != nil {
		return Account{}, err
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return Account{}, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var hall any
		if n.HallID != 0 {
			hall = n.HallID
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO accounts (kind, username, display_name, password_hash, real_name_level, department_code, region_code, hall_id, created_at, updated_at)
			VALUES ('staff', $1, $2, $3, 3, $4, $5, $6, $7, $7) RETURNING id`, n.Username, n.DisplayName, hash, n.Department, n.Region, hall, s.now()).Scan(&id)
		if err != nil {
			return explainConstraint(err, "username", "the username %q is taken", n.Username)
		}
		if err := auditAccount(ctx, tx, adminActor(by), id, "staff"); err != nil {
			return err
		}
		return s.grant(ctx, tx, id, n.Roles, by)
	})
	if err != nil {
		return Account{}, err
	}
	return s.Account(ctx, id)
}

// CreateSystem creates an account for another government system; it signs in
// only with API tokens.
func (s *Store) CreateSystem(ctx context.Context, name string, roles []authz.Role, by int64) (Account, error) {
	if !validUsername(name) {
		return Account{}, apperr.New(apperr.Invalid, apperr.BadUsername, "a system name has 3 to 40 lower-case letters, digits, dots, dashes or underscores")
	}
	if err := checkRoles(roles); err != nil {
		return Account{}, err
	}
	var id int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO accounts (kind, username, display_name, real_name_level, created_at, updated_at)
			VALUES ('system', $1, $1, 1, $2, $2) RETURNING id`, name, s.now()).Scan(&id)
		if err != nil {
			return explainConstraint(err, "username", "the name %q is taken", name)
		}
		if err := auditAccount(ctx, tx, adminActor(by), id, "system"); err != nil {
			return err
		}
		return s.grant(ctx, tx, id, roles, by)
	})
	if err != nil {
		return Account{}, err
	}
	return s.Account(ctx, id)
}

// RegisterPerson creates a self-registered applicant account for the
// holder of idNumber, in one transaction: at real-name level 2 when the
// population source holds the same name for the ID number, level 1 when it
// holds no record or cannot be read; a different name there is refused.
// When the ID number has an account already, its holder is told (in the
// same transaction, which commits) and the caller gets AlreadyExists, which
// the HTTP answer does not show to the unknown caller.
func (s *Store) RegisterPerson(ctx context.Context, idNumber, name, phone, password string) (Account, error) {
	level, reads, err := s.checkWithPopulation(ctx, idNumber, name)
	if err != nil {
		return Account{}, err
	}
	hash, err := s.passwords.Hash(ctx, password)
	if err != nil {
		return Account{}, err
	}
	var id, existing int64
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if s.registry != nil {
			if err := s.registry.LogReads(ctx, tx, reads); err != nil {
				return err
			}
		}
		// The person first, with the same checks (the name on record)
		// whether or not they have an account.
		personID, err := s.claimPerson(ctx, tx, idNumber, name, phone)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT id FROM accounts WHERE person_id = $1`, personID).Scan(&existing)
		if err == nil {
			return s.TellHolder(ctx, tx, existing, "有人尝试用您的身份证号注册账号", "Someone tried to register with your ID number",
				"有人尝试用您的身份证号注册新账号，未成功：您已有账号。如果不是您本人，请留意账号安全；忘记密码可到政务服务大厅重置。",
				"Someone tried to register a new account with your ID number; it was refused, as you have one. If it was not you, mind your account; a service hall can reset a forgotten password.")
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO accounts (kind, person_id, display_name, password_hash, real_name_level, created_at, updated_at)
			VALUES ('person', $1, $2, $3, $4, $5, $5) RETURNING id`, personID, strings.TrimSpace(name), hash, level, s.now()).Scan(&id)
		if err != nil {
			return explainConstraint(err, "person_id", "an account for this ID number exists already: sign in, or reset its password at a service hall")
		}
		if err := auditAccount(ctx, tx, audit.Person("account", id, ""), id, "person"); err != nil {
			return err
		}
		return s.grant(ctx, tx, id, []authz.Role{authz.Applicant}, 0)
	})
	if err != nil {
		return Account{}, err
	}
	if existing != 0 {
		return Account{}, apperr.New(apperr.Conflict, apperr.AlreadyExists, "an account for this ID number exists already: sign in, or reset its password at a service hall")
	}
	return s.Account(ctx, id)
}

// SetRealNameLevel raises or lowers an account's real-name level.
func (s *Store) SetRealNameLevel(ctx context.Context, accountID int64, level int) error {
	if level < 1 || level > 3 {
		return apperr.New(apperr.Invalid, apperr.BadLevel, "real-name levels are 1, 2 and 3")
	}
	_, err := s.db.ExecContext(ctx, `UPDATE accounts SET real_name_level = $1, updated_at = $2 WHERE id = $3`, level, s.now(), accountID)
	s.forgetAccount(accountID)
	return err
}

// DisableAccount stops an account signing in and ends its sessions and API
// tokens: at once in this process, within RecheckEvery in the others. by is
// the administrator's account (0: the command line).
func (s *Store) DisableAccount(ctx context.Context, accountID, by int64) error {
	if _, err := s.Account(ctx, accountID); err != nil {
		return err
	}
	defer s.forgetAccount(accountID)
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET disabled_at = $1, updated_at = $1 WHERE id = $2 AND disabled_at IS NULL`, s.now(), accountID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // disabled already
		}
		return audit.Record(ctx, tx, audit.Event{Actor: adminActor(by), Action: "identity.account_disable", ObjectKind: "account",
			ObjectID: strconv.FormatInt(accountID, 10)})
	})
}

func validUsername(u string) bool {
	if len(u) < 3 || len(u) > 40 {
		return false
	}
	for _, c := range u {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func checkRoles(roles []authz.Role) error {
	for _, r := range roles {
		if !slices.Contains(authz.Roles, r) {
			return apperr.New(apperr.Invalid, apperr.UnknownRole, "%q is not a role; roles are %v", r, authz.Roles)
		}
	}
	return nil
}

func (s *Store) grant(ctx context.Context, tx *sql.Tx, accountID int64, roles []authz.Role, by int64) error {
	var granter any
	if by != 0 {
		granter = by
	}
	for _, r := range roles {
		res, err := tx.ExecContext(ctx, `INSERT INTO account_roles (account_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (account_id, role) DO NOTHING`, accountID, string(r), granter, s.now())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			continue // held already: nothing was granted
		}
		// The history outlives the role, so a revoked grant is still on record.
		if _, err := tx.ExecContext(ctx, `INSERT INTO role_grants (account_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4)`, accountID, string(r), granter, s.now()); err != nil {
			return err
		}
		if err := auditRole(ctx, tx, "identity.role_grant", accountID, r, by); err != nil {
			return err
		}
	}
	return nil
}

// GrantRole gives an account a role. Nobody grants themself one (by is the
// granting account; 0 is the command line), so one account cannot raise
// its own powers.
func (s *Store) GrantRole(ctx context.Context, accountID int64, role authz.Role, by int64) error {
	if accountID == by {
		return apperr.New(apperr.Forbidden, apperr.SelfGrant, "account %d may not grant itself the role %s: another administrator must", by, role)
	}
	if err := checkRoles([]authz.Role{role}); err != nil {
		return err
	}
	if _, err := s.Account(ctx, accountID); err != nil {
		return err
	}
	defer s.forgetAccount(accountID)
	return s.db.InTx(ctx, func(tx *sql.Tx) error { return s.grant(ctx, tx, accountID, []authz.Role{role}, by) })
}

// RevokeRole takes a role away; by is the administrator's account (0: the
// command line). The grant's record says who revoked it and when; a role
// held from before grants were recorded gets a record of its own.
func (s *Store) RevokeRole(ctx context.Context, accountID int64, role authz.Role, by int64) error {
	var revoker any
	if by != 0 {
		revoker = by
	}
	defer s.forgetAccount(accountID)
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var grantedBy sql.NullInt64
		var grantedAt time.Time
		err := tx.QueryRowContext(ctx, `DELETE FROM account_roles WHERE account_id = $1 AND role = $2 RETURNING granted_by, granted_at`,
			accountID, string(role)).Scan(&grantedBy, &grantedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, apperr.RoleNotHeld, "account %d does not hold the role %s", accountID, role)
		}
		if err != nil {
			return err
		}
		now := s.now()
		res, err := tx.ExecContext(ctx, `UPDATE role_grants SET revoked_by = $1, revoked_at = $2
			WHERE account_id = $3 AND role = $4 AND revoked_at IS NULL`, revoker, now, accountID, string(role))
		if err != nil {
			return err
		}
		if err := auditRole(ctx, tx, "identity.role_revoke", accountID, role, by); err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO role_grants (account_id, role, granted_by, granted_at, revoked_by, revoked_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, accountID, string(role), grantedBy, grantedAt, revoker, now)
		return err
	})
}

// auditRole puts a role's grant or revocation on the audit trail: by is the
// administrator's account, 0 the command line or seeding.
func auditRole(ctx context.Context, tx *sql.Tx, action string, accountID int64, role authz.Role, by int64) error {
	return audit.Record(ctx, tx, audit.Event{Actor: adminActor(by), Action: action, ObjectKind: "account",
		ObjectID: strconv.FormatInt(accountID, 10), Detail: map[string]any{"role": string(role)}})
}

// adminActor is the administrator's account by, or (0) the command line or
// the platform itself, as for the applicant role of a new registration.
func adminActor(by int64) audit.Actor {
	if by == 0 {
		return audit.Automatic(audit.System, "command line or platform")
	}
	return audit.Person("staff", by, "")
}

// auditAccount puts a new account of kind on the audit trail.
func auditAccount(ctx context.Context, tx *sql.Tx, by audit.Actor, id int64, kind string) error {
	return audit.Record(ctx, tx, audit.Event{Actor: by, Action: "identity.account_create", ObjectKind: "account",
		ObjectID: strconv.FormatInt(id, 10), Detail: map[string]any{"kind": kind}})
}

// Account returns an account with its roles.
func (s *Store) Account(ctx context.Context, id int64) (Account, error) {
	var a Account
	var username, dept, region sql.NullString
	var person, hall sql.NullInt64
	var disabled sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT id, kind, username, person_id, display_name, real_name_level, department_code, region_code, hall_id, disabled_at
		FROM accounts WHERE id = $1`, id).Scan(&a.ID, &a.Kind, &username, &person, &a.DisplayName, &a.RealNameLevel, &dept, &region, &hall, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return a, apperr.New(apperr.NotFound, apperr.AccountNotFound, "no account has the id %d", id)
	}
	if err != nil {
		return a, err
	}
	a.Username, a.PersonID, a.Department, a.Region, a.HallID, a.Disabled = username.String, person.Int64, dept.String, region.String, hall.Int64, disabled.Valid
	a.Roles, err = store.All(ctx, s.db, store.Value[authz.Role], `SELECT role FROM account_roles WHERE account_id = $1 ORDER BY role`, id)
	if a.Roles == nil {
		a.Roles = []authz.Role{}
	}
	return a, err
}

// StaffPrincipal returns an enabled staff account as the principal it would
// act as, for checking whom work may be handed to.
func (s *Store) StaffPrincipal(ctx context.Context, id int64) (authz.Principal, error) {
	a, err := s.Account(ctx, id)
	if err == nil && (a.Kind != "staff" || a.Disabled) {
		err = apperr.New(apperr.NotFound, apperr.AccountNotFound, "account %d is not an active staff account", id)
	}
	if err != nil {
		return authz.Principal{}, err
	}
	return a.principal(""), nil
}

// principal turns an account into the request's principal.
func (a Account) principal(via string) authz.Principal {
	return authz.Principal{AccountID: a.ID, Kind: a.Kind, Name: a.DisplayName, PersonID: a.PersonID, Roles: a.Roles,
		Department: a.Department, Region: a.Region, HallID: a.HallID, RealNameLevel: a.RealNameLevel, Via: via}
}

// Lockout policy: after maxFailures failed sign-ins in a row the account is
// locked, first for a minute, doubling with each further failure up to an hour.
const (
	maxFailures = 5
	maxLockout  = time.Hour
)

// Login checks a username (staff) or resident ID number (persons) and
// password, applying the lockout policy. Errors never say whether the
// account exists: an unknown name, a wrong password and a locked account
// all answer BadCredentials in the same words, each after one password
// check (a dummy one when there is nothing to check), so their timing is
// alike too. A locked account's error wraps the lock (for logs and
// LockedCause); its holder is told by a notification when it locks.
//
// Each check is reserved in the database before the hash is computed (see
// reserveAttempt), so guesses sent at the same time count too: however many
// arrive at once, at most maxFailures are checked before the lock.
func (s *Store) Login(ctx context.Context, login, password string) (_ Account, signInErr error) {
	login = strings.TrimSpace(login)
	var id int64
	defer func() { signInErr = s.auditSignIn(ctx, login, id, signInErr) }()
	var hash sql.NullString
	var disabled sql.NullTime
	q := `SELECT id, password_hash, disabled_at FROM accounts WHERE username = $1 AND kind = 'staff'`
	arg := any(login)
	if _, err := ident.ParseIDNumber(ident.NormalizeIDNumber(login)); err == nil {
		q = `SELECT a.id, a.password_hash, a.disabled_at FROM accounts a JOIN persons p ON p.id = a.person_id WHERE p.id_number_idx = $1`
		arg = s.pii.Index(ident.NormalizeIDNumber(login))
	}
	err := s.db.QueryRowContext(ctx, q, arg).Scan(&id, &hash, &disabled)
	wrong := refused(nil)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.passwords.Verify(ctx, "", password); err != nil {
			return Account{}, err
		}
		return Account{}, wrong
	}
	if err != nil {
		return Account{}, err
	}
	now := s.now()
	failed, err := s.reserveAttempt(ctx, id, now)
	if e := apperr.As(err); e != nil && e.Code == apperr.AccountLocked {
		if _, err := s.passwords.Verify(ctx, "", password); err != nil { // as long as a real check
			return Account{}, err
		}
		return Account{}, refused(err)
	}
	if err != nil {
		return Account{}, err
	}
	ok, err := s.passwords.Verify(ctx, hash.String, password)
	if err != nil {
		return Account{}, err
	}
	if disabled.Valid {
		if !ok {
			return Account{}, wrong // say nothing about the account without its password
		}
		return Account{}, apperr.New(apperr.Forbidden, apperr.AccountDisabled, "this account is disabled: ask your administrator")
	}
	if !ok {
		if failed >= maxFailures {
			until := now.Add(lockDuration(failed))
			err := s.db.InTx(ctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `UPDATE accounts SET locked_until = $1 WHERE id = $2 AND failed_logins >= $3`, until, id, maxFailures); err != nil {
					return err
				}
				at := until.In(workday.CST).Format("15:04")
				return s.TellHolder(ctx, tx, id, "您的账号已被暂时锁定", "Your account is locked for a while",
					fmt.Sprintf("您的账号连续%d次登录失败，已锁定至 %s（北京时间）。如果不是您本人在尝试，请到政务服务大厅修改密码。", failed, at),
					fmt.Sprintf("After %d failed sign-ins in a row your account is locked until %s (Beijing time). If it was not you, change your password at a service hall.", failed, at))
			})
			if err != nil {
				return Account{}, err
			}
			return Account{}, refused(lockedError(until, now))
		}
		return Account{}, wrong
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1`, id); err != nil {
		return Account{}, err
	}
	return s.Account(ctx, id)
}

// auditSignIn puts a password sign-in on the audit trail (RecordSignIn).
func (s *Store) auditSignIn(ctx context.Context, login string, id int64, signIn error) error {
	return RecordSignIn(ctx, s.db, id, maskLogin(login), "", signIn)
}

// RecordSignIn puts a sign-in, right or refused, on the audit trail: the
// account when it is known, the masked name typed when not (masked: never
// an ID number in clear), and how (via: "" for a password, kiosk, oidc). It
// returns the sign-in's error, or the trail's if a right sign-in could not
// be recorded.
func RecordSignIn(ctx context.Context, x audit.Execer, account int64, masked, via string, signIn error) error {
	e := audit.Event{Actor: audit.Person("account", account, ""), Action: "identity.sign_in", ObjectKind: "account",
		ObjectID: strconv.FormatInt(account, 10), Detail: map[string]any{}}
	if via != "" {
		e.Detail["via"] = via
	}
	if account == 0 {
		e.Actor, e.ObjectID = audit.Actor{Kind: "anonymous", Human: true}, ""
		e.Detail["login"] = masked
	}
	if signIn != nil {
		e.Action = "identity.sign_in_failed"
		if ae := apperr.As(signIn); ae != nil {
			e.Detail["reason"] = string(ae.Code)
		}
	}
	if err := audit.Record(ctx, x, e); err != nil && signIn == nil {
		return err
	}
	return signIn
}

// reserveAttempt counts a sign-in attempt as failed before its password is
// checked, in one statement, and returns the count; a right password resets
// it afterwards. The attempt that reaches maxFailures locks the account at
// once (for maxLockout, shortened to the policy's length when its check
// fails), so attempts arriving meanwhile find it locked without a check.
func (s *Store) reserveAttempt(ctx context.Context, id int64, now time.Time) (int, error) {
	var failed int
	err := s.db.QueryRowContext(ctx, `UPDATE accounts SET failed_logins = failed_logins + 1,
			locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END
		WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $4) RETURNING failed_logins`,
		id, maxFailures, now.Add(maxLockout), now).Scan(&failed)
	if errors.Is(err, sql.ErrNoRows) { // locked
		var until time.Time
		if err := s.db.QueryRowContext(ctx, `SELECT locked_until FROM accounts WHERE id = $1`, id).Scan(&until); err != nil {
			return 0, err
		}
		return 0, lockedError(until, now)
	}
	return failed, err
}

// lockDuration is how long the failed-th failure in a row locks an account:
// a minute at maxFailures, doubling with each further one, up to maxLockout.
func lockDuration(failed int) time.Duration {
	return min(time.Minute<<min(failed-maxFailures, 6), maxLockout)
}

// refused is the one answer to a failed sign-in, whatever its cause; the
// cause (a lock) stays for logs and LockedCause, never for the caller.
func refused(cause error) *apperr.Error {
	return apperr.Wrap(cause, apperr.Unauthenticated, apperr.BadCredentials, "the sign-in name or password is wrong")
}

// LockedCause is the lock behind a refused sign-in, or nil: for logs and
// tests, never for the person signing in.
func LockedCause(err error) *apperr.Error {
	for err != nil {
		if e, ok := err.(*apperr.Error); ok && e.Code == apperr.AccountLocked {
			return e
		}
		err = errors.Unwrap(err)
	}
	return nil
}

func lockedError(until, now time.Time) error {
	mins := int((until.Sub(now) + time.Minute - 1) / time.Minute) // rounded up
	return apperr.New(apperr.TooMany, apperr.AccountLocked, "too many failed sign-ins: this account is locked for %d more minute(s), until %s UTC; wait, or ask a service hall to unlock it",
		mins, until.Format("15:04")).
		WithDetails([]apperr.Detail{{Subject: "locked_for", Words: apperr.Words{Zh: fmt.Sprintf("锁定还剩%d分钟。", mins), En: fmt.Sprintf("The lock ends in %d minute(s).", mins)}}})
}

// newSecret returns a random token with a readable prefix.
func newSecret(prefix string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// explainConstraint turns a uniqueness violation into a conflict a person
// understands; other errors pass through.
func explainConstraint(err error, column, format string, args ...any) error {
	msg := err.Error()
	if strings.Contains(msg, "UNIQUE") || strings.Contains(msg, "unique") || strings.Contains(msg, "duplicate key") {
		return apperr.New(apperr.Conflict, apperr.AlreadyExists, format, args...)
	}
	if strings.Contains(msg, "FOREIGN KEY") || strings.Contains(msg, "foreign key") {
		return apperr.New(apperr.Invalid, apperr.UnknownReference, "a department, region or hall given does not exist")
	}
	return err
}

// DB returns the database the store works on, for tests and tools.
func (s *Store) DB() *store.DB { return s.db }

// PersonDetails is a person's data in clear, for the platform's own
// processing on the person's behalf (prefilling their application); it is not
// a staff view and shows nothing to anyone else.
type PersonDetails struct {
	Name, IDNumber, Phone string
}

// PersonDetails decrypts a person's name, ID number and phone, read through q:
// the caller's transaction when it holds one (a second pooled connection
// inside a transaction can wait forever for a full pool), else the store's DB.
func (s *Store) PersonDetails(ctx context.Context, q store.Querier, personID int64) (PersonDetails, error) {
	var d PersonDetails
	var enc string
	var phone sql.NullString
	err := q.QueryRowContext(ctx, `SELECT name, id_number_enc, phone_enc FROM persons WHERE id = $1`, personID).Scan(&d.Name, &enc, &phone)
	if errors.Is(err, sql.ErrNoRows) {
		return d, apperr.New(apperr.NotFound, apperr.PersonNotFound, "no such person")
	}
	if err != nil {
		return d, err
	}
	if d.IDNumber, err = s.pii.OpenFor(enc, ctxIDNumber); err != nil {
		return d, err
	}
	if phone.Valid {
		if d.Phone, err = s.pii.OpenFor(phone.String, ctxPhone); err != nil {
			return d, err
		}
	}
	return d, nil
}

// PersonsBornOn lists the people the platform knows who were born on day
// (YYYY-MM-DD): the proactive services' sweep when the population registry
// cannot be read in bulk.
func (s *Store) PersonsBornOn(ctx context.Context, day string) ([]int64, error) {
	return store.All(ctx, s.db, store.Value[int64], `SELECT id FROM persons WHERE birth_date = $1 ORDER BY id`, day)
}

// StaffOf lists the active staff accounts of a department holding role,
// by id: whom a department's alerts and assignments go to.
func (s *Store) StaffOf(ctx context.Context, q store.Querier, department string, role authz.Role) ([]int64, error) {
	return store.All(ctx, q, store.Value[int64], `SELECT a.id FROM accounts a JOIN account_roles r ON r.account_id = a.id
		WHERE a.kind = 'staff' AND a.disabled_at IS NULL AND a.department_code = $1 AND r.role = $2 ORDER BY a.id`, department, string(role))
}

// StaffAccounts lists the staff accounts with their roles, by username, for
// the administration pages.
func (s *Store) StaffAccounts(ctx context.Context) ([]Account, error) {
	ids, err := store.All(ctx, s.db, store.Value[int64], `SELECT id FROM accounts WHERE kind = 'staff' ORDER BY username LIMIT 1000`)
	if err != nil {
		return nil, err
	}
	out := make([]Account, 0, len(ids))
	for _, id := range ids {
		a, err := s.Account(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
