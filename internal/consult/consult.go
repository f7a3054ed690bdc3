// Package consult is 我要问、我要投诉 (in the manner of the 12345 hotline):
// questions, complaints, reports and suggestions a person sends a
// department, signed in or anonymously, and the department's answers.
//
// A question is first matched against the catalogue's FAQs and guides
// (match.go); one still asked goes to the department of the item it names,
// or to the department chosen, with a deadline in working days. A
// complaint, report or suggestion names its subject area, whose complaint
// item in the catalogue decides the department. Every submission gets a
// query code, shown once and kept only as a keyed hash, with which anyone
// holding it follows it; an anonymous one stores no account at all. The
// text and contact details are sealed at rest and the contact is masked to
// staff. Questions answered again and again are offered to the catalogue
// administrator as new FAQ entries (suggest.go).
package consult

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/ident"
	"yiwang/internal/identity"
	"yiwang/internal/notify"
	"yiwang/internal/org"
	"yiwang/internal/pii"
	"yiwang/internal/search"
	"yiwang/internal/store"
	"yiwang/internal/workday"
)

// Kinds of consultation, as stored.
const (
	Question   = "question"   // 咨询
	Complaint  = "complaint"  // 投诉
	Report     = "report"     // 举报
	Suggestion = "suggestion" // 建议
)

// Statuses, as stored.
const (
	Open     = "open"     // waiting for the department's answer
	Answered = "answered" // the department answered; it may answer again
	Closed   = "closed"   // handled and closed
)

// Ratings of an answer.
const (
	Satisfied   = "satisfied"
	Unsatisfied = "unsatisfied"
)

// DefaultDays are the working days a department has to answer, by kind:
// complaints 7, the time the market regulator has to decide whether to
// accept one (《市场监督管理投诉举报处理暂行办法》, see the food safety
// complaint item); reports likewise; questions and suggestions 5.
var DefaultDays = map[string]int{Question: 5, Complaint: 7, Report: 7, Suggestion: 5}

// Area is a subject area of complaints: the catalogue's complaint item
// whose department handles it, or for Other a general department.
type Area struct {
	Code       string
	Name       catalog.Text
	Item       string // the complaint item's code; "" for other
	Department string // used when there is no item, or it is not in service
}

// Areas are the subject areas people choose from on /complain.
var Areas = []Area{
	{Code: "food", Name: catalog.Text{Zh: "食品安全", En: "Food safety"}, Item: "11910102MB0001111L-10-00005", Department: "amr"},
	{Code: "environment", Name: catalog.Text{Zh: "生态环境", En: "Environment"}, Item: "11910102MB00014442-10-00001", Department: "eco"},
	{Code: "drugs", Name: catalog.Text{Zh: "药品、医疗器械、化妆品", En: "Medicines, devices and cosmetics"}, Item: "11910102MB0001629T-20-00001", Department: "drug"},
	{Code: "other", Name: catalog.Text{Zh: "其他", En: "Other"}, Department: "gsdb"},
}

// Deps are what the service needs.
type Deps struct {
	DB        *store.DB
	Catalog   *catalog.Store
	Org       *org.Store
	Index     *search.Index // the catalogue's search index, for guides; nil for none
	Protector *pii.Protector
	Limits    *identity.Limiter
	Calendar  func(context.Context) (*workday.Calendar, error)
	Days      map[string]int // working days to answer, by kind; DefaultDays for those missing
	Notifier  Notifier       // tells a named sender of an answer; nil tells nobody
	Now       func() time.Time
}

// Notifier sends a message in the caller's transaction (notify.Outbox).
type Notifier interface {
	Send(ctx context.Context, tx *sql.Tx, m notify.Message) (int64, error)
}

// Service takes, routes, answers and shows consultations.
type Service struct {
	d    Deps
	faqs faqCache
}

// New returns the service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	days := map[string]int{}
	for k, v := range DefaultDays {
		days[k] = v
	}
	for k, v := range d.Days {
		days[k] = v
	}
	d.Days = days
	return &Service{d: d}
}

// Limits on what people send.
const (
	minText, maxText = 5, 2000
	maxContactName   = 50
)

var (
	// anonymousLimit bounds submissions from one address without an account.
	anonymousLimit = identity.Limit{N: 10, Window: time.Hour, What: "submissions from this address"}
	// accountLimit bounds one account's submissions.
	accountLimit = identity.Limit{N: 20, Window: 24 * time.Hour, What: "submissions"}
	// trackLimit bounds query-code lookups from one address, so codes cannot be guessed.
	trackLimit = identity.Limit{N: 20, Window: 10 * time.Minute, What: "query-code lookups from this address"}
)

// Sealed columns: each value is bound to its column.
const (
	colText    = "consultations.text"
	colName    = "consultations.contact_name"
	colPhone   = "consultations.contact_phone"
	colReply   = "consultation_replies.text"
	codePrefix = "consultation:"
)

// NewConsultation is what a person sends.
type NewConsultation struct {
	Kind string `json:"kind"`
	Text string `json:"text"`
	// ItemCode names the item a question is about; its department answers.
	ItemCode string `json:"item_code,omitempty"`
	// Department is chosen when no item is named.
	Department string `json:"department,omitempty"`
	// Area is a complaint's, report's or suggestion's subject area (Areas).
	Area string `json:"area,omitempty"`
	// Anonymous: no account is stored, even when signed in; follow it with the code.
	Anonymous    bool   `json:"anonymous"`
	ContactName  string `json:"contact_name,omitempty"`
	ContactPhone string `json:"contact_phone,omitempty"`
}

// Receipt is what a submission returns: the query code, shown this once.
type Receipt struct {
	ID         int64        `json:"id"`
	Code       string       `json:"code"`
	Kind       string       `json:"kind"`
	Department string       `json:"department"`
	DeptName   catalog.Text `json:"department_name"`
	DueAt      time.Time    `json:"due_at"`
	Anonymous  bool         `json:"anonymous"`
}

// route decides the department and the item of n.
func (s *Service) route(ctx context.Context, n NewConsultation) (dept, item, area string, err error) {
	switch n.Kind {
	case Question:
		if n.ItemCode != "" {
			v, err := s.d.Catalog.Current(ctx, n.ItemCode)
			if err != nil {
				return "", "", "", err
			}
			return v.Item.Department, v.Item.Code, "", nil
		}
		if n.Department == "" {
			return "", "", "", apperr.New(apperr.Invalid, apperr.ConsultationTarget, "name the item or the department the question is for")
		}
		return n.Department, "", "", nil
	case Complaint, Report, Suggestion:
		for _, a := range Areas {
			if a.Code != n.Area {
				continue
			}
			if a.Item != "" {
				if v, err := s.d.Catalog.Current(ctx, a.Item); err == nil {
					return v.Item.Department, a.Item, a.Code, nil
				}
			}
			return a.Department, a.Item, a.Code, nil
		}
		return "", "", "", apperr.New(apperr.Invalid, apperr.ConsultationTarget, "choose the subject area: %s", areaCodes())
	}
	return "", "", "", apperr.New(apperr.Invalid, apperr.ConsultationKind, "the kind must be question, complaint, report or suggestion, not %q", n.Kind)
}

func areaCodes() string {
	var out []string
	for _, a := range Areas {
		out = append(out, a.Code)
	}
	return strings.Join(out, ", ")
}

// check refuses text and contact details that cannot be taken.
func check(n *NewConsultation) error {
	n.Text = strings.TrimSpace(n.Text)
	n.ContactName = strings.TrimSpace(n.ContactName)
	n.ContactPhone = strings.TrimSpace(n.ContactPhone)
	if c := utf8.RuneCountInString(n.Text); c < minText || c > maxText {
		return apperr.New(apperr.Invalid, apperr.ConsultationText, "write between %d and %d characters", minText, maxText)
	}
	if utf8.RuneCountInString(n.ContactName) > maxContactName {
		return apperr.New(apperr.Invalid, apperr.BadName, "a contact name has at most %d characters", maxContactName)
	}
	if n.ContactPhone != "" && !ident.ValidMobile(n.ContactPhone) {
		return apperr.New(apperr.Invalid, apperr.BadPhone, "the contact phone is not a mobile number")
	}
	return nil
}

// codeAlphabet has 32 letters and digits, none easily mistaken for another
// (no I, O, 0, 1): 12 of them are 60 random bits.
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newCode returns a random query code in three groups: ABCD-EFGH-JKLM.
func newCode() string {
	var b [12]byte
	rand.Read(b[:])
	var out strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			out.WriteByte('-')
		}
		out.WriteByte(codeAlphabet[int(c)%len(codeAlphabet)])
	}
	return out.String()
}

// codeHash is the keyed hash a code is stored as; spaces, dashes and case
// do not matter.
func (s *Service) codeHash(code string) string {
	code = strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(code)))
	return s.d.Protector.Index(codePrefix + code)
}

// seal seals v for column col; "" stays "".
func (s *Service) seal(v, col string) (string, error) {
	if v == "" {
		return "", nil
	}
	return s.d.Protector.SealFor(v, col)
}

func (s *Service) open(v, col string) (string, error) {
	if v == "" {
		return "", nil
	}
	return s.d.Protector.OpenFor(v, col)
}

// Submit takes a consultation from p (anyone, signed in or not; address is
// the caller's, for the limit on anonymous submissions) and routes it to
// its department with its deadline.
func (s *Service) Submit(ctx context.Context, p authz.Principal, address string, n NewConsultation) (Receipt, error) {
	if err := check(&n); err != nil {
		return Receipt{}, err
	}
	dept, item, area, err := s.route(ctx, n)
	if err != nil {
		return Receipt{}, err
	}
	d, err := s.d.Org.Department(ctx, dept)
	if err != nil {
		return Receipt{}, err
	}
	cal, err := s.d.Calendar(ctx)
	if err != nil {
		return Receipt{}, err
	}
	now := s.d.Now()
	due, err := cal.Deadline(now, s.d.Days[n.Kind])
	if err != nil {
		return Receipt{}, err
	}
	anonymous := n.Anonymous || !p.SignedIn()
	var account any
	if !anonymous {
		account = p.AccountID
	}
	text, err := s.seal(n.Text, colText)
	if err != nil {
		return Receipt{}, err
	}
	name, err := s.seal(n.ContactName, colName)
	if err != nil {
		return Receipt{}, err
	}
	phone, err := s.seal(n.ContactPhone, colPhone)
	if err != nil {
		return Receipt{}, err
	}
	code := newCode()
	r := Receipt{Code: code, Kind: n.Kind, Department: dept, DeptName: catalog.Text{Zh: d.NameZh, En: d.NameEn}, DueAt: due, Anonymous: anonymous}
	err = s.d.DB.InTx(ctx, func(tx *sql.Tx) error {
		// An anonymous one is counted by address, so that not even the
		// limiter's log ties it to an account.
		var err error
		if !anonymous {
			err = s.d.Limits.AllowTx(ctx, tx, p.AccountID, "consultation.submit", accountLimit)
		} else {
			err = s.d.Limits.AllowTx(ctx, tx, 0, "consultation.submit:"+address, anonymousLimit)
		}
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO consultations (kind, department, item_code, area, account_id, code_hash, text_enc, contact_name, contact_phone, status, submitted_at, due_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11) RETURNING id`,
			n.Kind, dept, item, area, account, s.codeHash(code), text, name, phone, now, due).Scan(&r.ID); err != nil {
			return err
		}
		actor := audit.Actor{Kind: "anonymous", Human: true}
		if !anonymous {
			actor = audit.Person(p.Kind, p.AccountID, pii.MaskName(p.Name))
		}
		return audit.Record(ctx, tx, audit.Event{Actor: actor, Action: "consultation.submit", ObjectKind: "consultation", ObjectID: fmt.Sprint(r.ID),
			Detail: map[string]any{"kind": n.Kind, "department": dept, "item": item, "anonymous": anonymous}})
	})
	if err != nil {
		return Receipt{}, err
	}
	return r, nil
}

// Reply is a department's answer.
type Reply struct {
	At         time.Time    `json:"at"`
	Department catalog.Text `json:"department"`
	Staff      string       `json:"staff,omitempty"` // shown to staff only
	Text       string       `json:"text"`
}

// View is a consultation as its sender sees it.
type View struct {
	ID          int64        `json:"id"`
	Kind        string       `json:"kind"`
	Status      string       `json:"status"`
	Department  string       `json:"department"`
	DeptName    catalog.Text `json:"department_name"`
	ItemCode    string       `json:"item_code,omitempty"`
	ItemName    catalog.Text `json:"item_name"`
	Area        string       `json:"area,omitempty"`
	Text        string       `json:"text"`
	Anonymous   bool         `json:"anonymous"`
	SubmittedAt time.Time    `json:"submitted_at"`
	DueAt       time.Time    `json:"due_at"`
	Overdue     bool         `json:"overdue"`
	AnsweredAt  *time.Time   `json:"answered_at,omitempty"`
	ClosedAt    *time.Time   `json:"closed_at,omitempty"`
	Rating      string       `json:"rating,omitempty"`
	RatedAt     *time.Time   `json:"rated_at,omitempty"`
	// MayRate: answered and not rated yet.
	MayRate bool    `json:"may_rate"`
	Replies []Reply `json:"replies"`
	// Contact is the sender's name and phone, masked; for staff only.
	Contact *Contact `json:"contact,omitempty"`
}

// Contact is how staff reach the sender, masked unless revealed.
type Contact struct {
	Name     string `json:"name,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Revealed bool   `json:"revealed,omitempty"`
}

// row is a consultation as stored.
type row struct {
	View
	account                       sql.NullInt64
	textEnc, nameEnc, phoneEnc    string
	answeredAt, closedAt, ratedAt sql.NullTime
	rating                        sql.NullString
	accountName                   sql.NullString
}

const rowColumns = `c.id, c.kind, c.status, c.department, d.name_zh, d.name_en, c.item_code, c.area, c.account_id, c.text_enc, c.contact_name, c.contact_phone,
	c.submitted_at, c.due_at, c.answered_at, c.closed_at, c.rating, c.rated_at, a.display_name`

const rowFrom = ` FROM consultations c JOIN departments d ON d.code = c.department LEFT JOIN accounts a ON a.id = c.account_id `

func scanRow(r store.Scanner) (row, error) {
	var x row
	err := r.Scan(&x.ID, &x.Kind, &x.Status, &x.Department, &x.DeptName.Zh, &x.DeptName.En, &x.ItemCode, &x.Area, &x.account, &x.textEnc, &x.nameEnc, &x.phoneEnc,
		&x.SubmittedAt, &x.DueAt, &x.answeredAt, &x.closedAt, &x.rating, &x.ratedAt, &x.accountName)
	return x, err
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// contact opens the sender's contact: the one given, or the name of the
// account that sent it.
func (s *Service) contact(x row) (Contact, error) {
	name, err := s.open(x.nameEnc, colName)
	if err != nil {
		return Contact{}, err
	}
	phone, err := s.open(x.phoneEnc, colPhone)
	if name == "" && x.accountName.Valid {
		name = x.accountName.String
	}
	return Contact{Name: name, Phone: phone}, err
}

// notFound is the answer for a consultation the caller may not see, and
// for a wrong query code: it says nothing about whether one exists.
func notFound() error {
	return apperr.New(apperr.NotFound, apperr.ConsultationNotFound, "no such consultation among yours, or the query code is wrong")
}

// load reads consultation id; where is an extra condition on c.
func (s *Service) load(ctx context.Context, q store.Querier, where string, args ...any) (row, error) {
	x, err := scanRow(q.QueryRowContext(ctx, `SELECT `+rowColumns+rowFrom+`WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return row{}, notFound()
	}
	return x, err
}

// view opens a stored consultation and its replies; staff also get the
// masked contact and who answered. names are the items' (nil: read them).
// It reads through the pool: call it outside any transaction.
func (s *Service) view(ctx context.Context, x row, staff bool, names map[string]catalog.Text) (View, error) {
	v := x.View
	var err error
	if v.Text, err = s.open(x.textEnc, colText); err != nil {
		return View{}, err
	}
	v.Anonymous = !x.account.Valid
	v.AnsweredAt, v.ClosedAt, v.RatedAt, v.Rating = timePtr(x.answeredAt), timePtr(x.closedAt), timePtr(x.ratedAt), x.rating.String
	v.Overdue = v.Status == Open && s.d.Now().After(v.DueAt)
	v.MayRate = v.Status != Open && v.Rating == ""
	if v.ItemCode != "" {
		if names == nil {
			if names, err = s.d.Catalog.Names(ctx); err != nil {
				return View{}, err
			}
		}
		v.ItemName = names[v.ItemCode]
	}
	if staff {
		c, err := s.contact(x)
		if err != nil {
			return View{}, err
		}
		if c.Name != "" || c.Phone != "" {
			v.Contact = &Contact{Name: pii.MaskName(c.Name), Phone: pii.MaskPhone(c.Phone)}
		}
	}
	v.Replies, err = store.All(ctx, s.d.DB, func(r store.Scanner) (Reply, error) {
		var y Reply
		var enc string
		if err := r.Scan(&y.At, &y.Staff, &enc); err != nil {
			return y, err
		}
		y.Department = v.DeptName
		y.Text, err = s.open(enc, colReply)
		if !staff {
			y.Staff = ""
		}
		return y, err
	}, `SELECT at, staff_name, text_enc FROM consultation_replies WHERE consultation_id = $1 ORDER BY id`, v.ID)
	if v.Replies == nil {
		v.Replies = []Reply{}
	}
	return v, err
}

// Track shows the consultation whose query code is code to whoever holds
// it; address is the caller's, for the limit on lookups. A wrong code is
// a not-found that says nothing more.
func (s *Service) Track(ctx context.Context, address, code string) (View, error) {
	if err := s.d.Limits.Allow(ctx, 0, "consultation.track:"+address, trackLimit); err != nil {
		return View{}, err
	}
	if strings.TrimSpace(code) == "" {
		return View{}, notFound()
	}
	x, err := s.load(ctx, s.d.DB, `c.code_hash = $1`, s.codeHash(code))
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, x, false, nil)
}

// Mine lists the consultations p sent under their account, newest first.
func (s *Service) Mine(ctx context.Context, p authz.Principal) ([]View, error) {
	if !p.SignedIn() {
		return nil, authz.Require(p, authz.SignedIn)
	}
	return s.list(ctx, false, `WHERE c.account_id = $1 ORDER BY c.id DESC LIMIT 200`, p.AccountID)
}

// list shows the consultations the condition where selects.
func (s *Service) list(ctx context.Context, staff bool, where string, args ...any) ([]View, error) {
	rows, err := store.All(ctx, s.d.DB, scanRow, `SELECT `+rowColumns+rowFrom+where, args...)
	if err != nil {
		return nil, err
	}
	names, err := s.d.Catalog.Names(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(rows))
	for _, x := range rows {
		v, err := s.view(ctx, x, staff, names)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Rate records the sender's satisfaction with the answer, once: the
// account that sent it, or (code not empty) whoever holds its query code,
// whose tries count against the lookups from their address like Track's.
func (s *Service) Rate(ctx context.Context, p authz.Principal, address string, id int64, code, rating string) (View, error) {
	if rating != Satisfied && rating != Unsatisfied {
		return View{}, apperr.New(apperr.Invalid, apperr.ConsultationRating, "the rating must be satisfied or unsatisfied, not %q", rating)
	}
	if code != "" {
		if err := s.d.Limits.Allow(ctx, 0, "consultation.track:"+address, trackLimit); err != nil {
			return View{}, err
		}
	}
	err := s.d.DB.InTx(ctx, func(tx *sql.Tx) error {
		var x row
		var err error
		switch {
		case code != "" && id == 0:
			x, err = s.load(ctx, tx, `c.code_hash = $1`, s.codeHash(code))
		case code != "":
			x, err = s.load(ctx, tx, `c.id = $1 AND c.code_hash = $2`, id, s.codeHash(code))
		case p.SignedIn():
			x, err = s.load(ctx, tx, `c.id = $1 AND c.account_id = $2`, id, p.AccountID)
		default:
			err = notFound()
		}
		if err != nil {
			return err
		}
		if x.Status == Open {
			return apperr.New(apperr.Conflict, apperr.ConsultationNotAnswered, "the department has not answered yet: rate its answer once it has")
		}
		res, err := tx.ExecContext(ctx, `UPDATE consultations SET rating = $1, rated_at = $2 WHERE id = $3 AND rating IS NULL`, rating, s.d.Now(), x.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, apperr.ConsultationRated, "the answer has been rated already: a rating is given once")
		}
		id = x.ID
		return audit.Record(ctx, tx, audit.Event{Actor: audit.Actor{Kind: "anonymous", Human: true}, Action: "consultation.rate",
			ObjectKind: "consultation", ObjectID: fmt.Sprint(x.ID), Detail: map[string]any{"rating": rating}})
	})
	if err != nil {
		return View{}, err
	}
	return s.byID(ctx, id, false)
}

// byID shows consultation id, once the caller is known to may see it.
func (s *Service) byID(ctx context.Context, id int64, staff bool) (View, error) {
	x, err := s.load(ctx, s.d.DB, `c.id = $1`, id)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, x, staff, nil)
}
