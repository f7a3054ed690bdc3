package demo

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/store"
)

// Password is every demo account's password. Demo data is public: never run
// demo mode where real people's data lives.
const Password = "yiwang-demo-2026"

// Account is a demo sign-in, printed at startup and shown on the sign-in page.
type Account struct {
	Role   string // what the account is for
	RoleZh string // the same in Chinese, for the sign-in page
	Login  string
	Note   string
}

// roleZh names the roles in Chinese.
func roleZh(role string) string {
	return map[string]string{
		"applicant": "申请人", "clerk": "综合窗口", "reviewer": "审核人员", "head": "审批负责人",
		"supervisor": "电子监察", "catalog_admin": "事项管理员", "sys_admin": "系统管理员",
	}[role]
}

// idNumber builds a valid resident ID number in the demo region.
func idNumber(birth, seq string) string {
	first := "910102" + birth + seq
	c, err := ident.IDNumberCheck(first)
	if err != nil {
		panic(err) // the constants below are wrong
	}
	return first + string(c)
}

func creditCode(first17 string) string {
	c, err := ident.CreditCodeCheck(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

// The demo people and enterprise.
var (
	ZhangSan    = idNumber("19600315", "123") // 张三, 66, legal representative of the demo company
	LiSi        = idNumber("19920708", "234") // 李四, 34, the company's authorised agent
	WangWu      = idNumber("19880101", "345") // 王五, an ordinary applicant
	DemoCompany = creditCode("91910102MA5D3M1Q0")
)

// demoPersons are the demo people who have accounts.
func demoPersons() []struct{ id, name, note string } {
	return []struct{ id, name, note string }{
		{ZhangSan, "张三", "applicant, 66; legal representative of 示范科技有限公司"},
		{LiSi, "李四", "applicant; authorised agent of 示范科技有限公司"},
		{WangWu, "王五", "applicant"},
	}
}

// demoStaff are the demo staff, one for every role; hall is the demo hall
// the window clerk works at, street the Fu'an street hall whose reviewer
// works the manual cases the demo catalogue routes there.
func demoStaff(hall, street int64) []identity.NewStaff {
	return []identity.NewStaff{
		{Username: "clerk", DisplayName: "窗口 陈静", Department: "gsdb", Region: "910102", HallID: hall, Roles: []authz.Role{authz.Clerk}},
		{Username: "reviewer.civil", DisplayName: "民政 刘洋", Department: "civil", Region: "910102", Roles: []authz.Role{authz.Reviewer}},
		{Username: "reviewer.amr", DisplayName: "市场监管 孙丽", Department: "amr", Region: "910102", Roles: []authz.Role{authz.Reviewer}},
		{Username: "head.civil", DisplayName: "民政 周科长", Department: "civil", Region: "910102", Roles: []authz.Role{authz.Head}},
		{Username: "reviewer.realestate", DisplayName: "不动产 吴敏", Department: "realestate", Region: "910102", Roles: []authz.Role{authz.Reviewer, authz.Head}},
		{Username: "reviewer.tax", DisplayName: "税务 郑强", Department: "tax", Region: "910102", Roles: []authz.Role{authz.Reviewer, authz.Head}},
		{Username: "supervisor", DisplayName: "监察 孙丽", Department: "gsdb", Region: "910102", Roles: []authz.Role{authz.Supervisor}},
		{Username: "catalog.admin", DisplayName: "事项 马超", Department: "gsdb", Region: "910102", Roles: []authz.Role{authz.CatalogAdmin}},
		{Username: "sysadmin", DisplayName: "系统管理员", Department: "gsdb", Region: "910102", Roles: []authz.Role{authz.SysAdmin}},
		{Username: "reviewer.fuan", DisplayName: "福安街道 何芳", Department: "civil", Region: "910102001", HallID: street, Roles: []authz.Role{authz.Reviewer}},
	}
}

// Accounts says how to sign in as each demo account (all with Password).
func Accounts() []Account {
	var out []Account
	for _, p := range demoPersons() {
		out = append(out, Account{Role: "applicant", RoleZh: roleZh("applicant"), Login: p.id, Note: p.note})
	}
	for _, s := range demoStaff(0, 0) {
		out = append(out, Account{Role: string(s.Roles[0]), RoleZh: roleZh(string(s.Roles[0])), Login: s.Username, Note: s.DisplayName + " (" + s.Department + ")"})
	}
	return out
}

// SeedAccounts creates the demo people, enterprise, halls and an account for
// every role (Accounts), where they are missing.
func SeedAccounts(ctx context.Context, db *store.DB, ids *identity.Store) error {
	var zhang int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if zhang, err = ids.PutPerson(ctx, tx, ZhangSan, "张三", "13800000001"); err != nil {
			return err
		}
		if _, err = ids.PutPerson(ctx, tx, LiSi, "李四", "13800000002"); err != nil {
			return err
		}
		if _, err = ids.PutEnterprise(ctx, tx, DemoCompany, "示范科技有限公司（演示）", zhang); err != nil {
			return err
		}
		for _, h := range []struct{ code, region, zh, en string }{
			{"mingde-center", "910102", "明德区政务服务中心", "Mingde District Government Service Centre"},
			{"fuan-street", "910102001", "福安街道党群服务中心", "Fu'an Street Service Centre"},
		} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO halls (code, region_code, name_zh, name_en) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING`, h.code, h.region, h.zh, h.en); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hall_windows (hall_id, number, name_zh, name_en)
			SELECT id, '1', '综合受理窗口', 'General intake window' FROM halls WHERE code = 'mingde-center' ON CONFLICT (hall_id, number) DO NOTHING`)
		return err
	})
	if err != nil {
		return fmt.Errorf("demo people: %w", err)
	}
	var hall, street int64
	if err := db.QueryRowContext(ctx, `SELECT id FROM halls WHERE code = 'mingde-center'`).Scan(&hall); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, `SELECT id FROM halls WHERE code = 'fuan-street'`).Scan(&street); err != nil {
		return err
	}
	for _, p := range demoPersons() {
		_, err := ids.RegisterPerson(ctx, p.id, p.name, "", Password)
		if err != nil && !apperr.Is(err, apperr.Conflict) {
			return fmt.Errorf("demo person %s: %w", p.name, err)
		}
	}
	for _, s := range demoStaff(hall, street) {
		s.Password = Password
		_, err := ids.CreateStaff(ctx, s, 0)
		if err != nil && !apperr.Is(err, apperr.Conflict) {
			return fmt.Errorf("demo staff %s: %w", s.Username, err)
		}
	}
	// Li Si holds an authorisation from the company for a year.
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM authorisations`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return authoriseAgent(ctx, db, ids)
	}
	return nil
}

// authoriseAgent has Zhang San, as legal representative, authorise Li Si.
func authoriseAgent(ctx context.Context, db *store.DB, ids *identity.Store) error {
	a, err := ids.Login(ctx, ZhangSan, Password)
	if err != nil {
		return err
	}
	sess, err := ids.StartSession(ctx, a.ID)
	if err != nil {
		return err
	}
	defer ids.EndSession(ctx, sess.Token)
	p, _, err := ids.SessionPrincipal(ctx, sess.Token)
	if err != nil {
		return err
	}
	ent, err := ids.ActFor(ctx, p, sess.Token, DemoCompany)
	if err != nil {
		return err
	}
	p.ActingFor = ent
	_, err = ids.Authorise(ctx, p, identity.NewAuthorisation{AgentIDNumber: LiSi, AgentName: "李四", Scope: []string{"*"}, ExpiresAt: time.Now().AddDate(1, 0, 0)})
	return err
}
