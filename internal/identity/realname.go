package identity

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
)

// Real-name levels (实名等级) say how surely the platform knows a person is
// who their account says; items ask for one (requirements.real_name_level).
// A level is only ever raised:
//
//	1  self-registered, the name not confirmed by any registry
//	2  name and ID number confirmed by the population source (at
//	   registration), by the identity card read at a kiosk, or by the
//	   unified identity platform
//	3  the identity card checked against the person's face by a window
//	   clerk, or the identity platform vouching for level 3
const (
	LevelSelfRegistered = 1
	LevelRegistry       = 2
	LevelInPerson       = 3
)

// RealNameLevelWords describe each level on the person's account page, and
// how to rise from it.
var RealNameLevelWords = map[int]struct{ Zh, En, NextZh, NextEn string }{
	LevelSelfRegistered: {"一级：自行注册，姓名尚未经人口库核对", "Level 1: self-registered; the name has not been confirmed by the population registry",
		"提升到二级：在自助终端凭身份证登录，或通过统一身份认证平台登录；提升到三级：携带身份证到任一政务服务大厅窗口核验。",
		"To reach level 2, sign in at a self-service kiosk with your identity card, or through the unified identity platform. To reach level 3, bring your identity card to a window at any service hall."},
	LevelRegistry: {"二级：姓名和身份证号码已经人口库核对", "Level 2: name and ID number confirmed by the population registry",
		"提升到三级：携带身份证到任一政务服务大厅窗口，由工作人员当面核验。",
		"To reach level 3, bring your identity card to a window at any service hall, where a clerk checks it in person."},
	LevelInPerson: {"三级：已在政务服务大厅窗口当面核验身份", "Level 3: identity checked in person at a service hall window", "", ""},
}

// checkWithPopulation is the real-name level a self-registration under
// idNumber and name earns: 2 when the population source holds that name for
// the number, 1 when it holds no record, cannot be read or there is none.
// A different name is refused, its read logged at once; otherwise the read
// is returned for the caller to log with the account.
func (s *Store) checkWithPopulation(ctx context.Context, idNumber, name string) (int, []hub.Fetched, error) {
	idNumber = ident.NormalizeIDNumber(strings.TrimSpace(idNumber))
	if _, err := ident.ParseIDNumber(idNumber); err != nil || s.registry == nil {
		return LevelSelfRegistered, nil, nil // a bad number is refused with the person's checks
	}
	rec, read, err := s.registry.Fetch(ctx, hub.Read{Subject: hub.Subject{Kind: hub.Person, Key: idNumber}, Source: "population",
		Fields: []string{"name"}, ReaderName: "本人注册账号", Purpose: "注册账号时核对姓名与身份证号码"})
	onRecord, _ := rec["name"].(string)
	switch {
	case err != nil || onRecord == "":
		return LevelSelfRegistered, []hub.Fetched{read}, nil
	case onRecord != strings.TrimSpace(name):
		if err := s.registry.LogReads(ctx, s.db, []hub.Fetched{read}); err != nil {
			return 0, nil, err
		}
		return 0, nil, apperr.New(apperr.Invalid, apperr.NameMismatch, "the name does not match the one the population registry holds for this ID number: give the name exactly as on the ID card")
	}
	return LevelRegistry, []hub.Fetched{read}, nil
}

// VerifyInPerson is a window clerk's word that they read the identity card
// of the person with idNumber and matched it to their face (当面核验): the
// person's account rises to real-name level 3, the clerk's check goes on the
// audit trail and the holder is told, in one transaction.
func (s *Store) VerifyInPerson(ctx context.Context, clerk authz.Principal, idNumber, name string) (Account, error) {
	if err := authz.Require(clerk, authz.WindowIntake); err != nil {
		return Account{}, err
	}
	if clerk.HallID == 0 {
		return Account{}, apperr.New(apperr.Forbidden, apperr.NoHall, "identities are checked in person at a hall window, and your account is not posted to a hall")
	}
	if _, err := ident.ParseIDNumber(ident.NormalizeIDNumber(strings.TrimSpace(idNumber))); err != nil {
		return Account{}, apperr.Wrap(err, apperr.Invalid, apperr.BadIDNumber, "the ID number is not valid: "+err.Error())
	}
	var accountID int64
	var onRecord string
	err := s.db.QueryRowContext(ctx, `SELECT a.id, p.name FROM accounts a JOIN persons p ON p.id = a.person_id WHERE p.id_number_idx = $1 AND a.kind = 'person'`,
		s.pii.Index(ident.NormalizeIDNumber(strings.TrimSpace(idNumber)))).Scan(&accountID, &onRecord)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Account{}, apperr.New(apperr.NotFound, apperr.PersonNotFound, "nobody with this ID number has an account: have the person register first, then check their identity")
	case err != nil:
		return Account{}, err
	case onRecord != strings.TrimSpace(name):
		return Account{}, apperr.New(apperr.Invalid, apperr.NameMismatch, "the name does not match the one on record for this ID number: check the identity card")
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET real_name_level = $1, updated_at = $2 WHERE id = $3 AND real_name_level < $1`, LevelInPerson, s.now(), accountID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // level 3 already: nothing to record
		}
		if err := audit.Record(ctx, tx, audit.Event{Actor: audit.Person("staff", clerk.AccountID, clerk.Name), Action: "identity.real_name_verify", ObjectKind: "account",
			ObjectID: strconv.FormatInt(accountID, 10), Detail: map[string]any{"level": LevelInPerson, "hall": clerk.HallID}}); err != nil {
			return err
		}
		return s.TellHolder(ctx, tx, accountID, "您的实名等级已提升至三级", "Your real-name level is now 3",
			"政务服务大厅窗口工作人员已当面核验您的身份证件，您的账号实名等级提升至三级，可办理要求三级实名的事项。如果不是您本人到场，请立即到大厅反映。",
			"A clerk at a service hall window checked your identity card in person, so your account is now at real-name level 3 and can apply for services that need it. If this was not you, tell a service hall at once.")
	})
	s.forgetAccount(accountID)
	if err != nil {
		return Account{}, err
	}
	return s.Account(ctx, accountID)
}
