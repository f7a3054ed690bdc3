// Package rating is 好差评: each party of a finished application rates the
// service in five levels — online, at the window or a kiosk through a QR
// code that needs no account, or on the phone through a supervisor — and
// may change the rating once. A bad rating (1 or 2) opens a rectification
// (整改) for the item's department, due in working days: the department
// answers what it changed, a supervisor calls the person back and closes
// it, and the person says whether they are satisfied. The figures by
// department and item are public, without anybody's data.
package rating

import (
	"context"
	"database/sql"
	"time"

	"yiwang/internal/application"
	"yiwang/internal/catalog"
	"yiwang/internal/notify"
	"yiwang/internal/pii"
	"yiwang/internal/store"
)

// The channels a rating comes by.
const (
	Online = "online" // the applicant's page and the API
	Window = "window" // the QR code shown at the window or printed on the receipt
	Kiosk  = "kiosk"  // the same page opened on a self-service kiosk
	Phone  = "phone"  // heard on the phone and recorded by staff
)

// The levels, from 非常不满意 (1) to 非常满意 (5); 1 and 2 are bad.
const (
	MinStars = 1
	MaxStars = 5
	BadStars = 2 // a rating of this many stars or fewer opens a rectification
)

// Levels names the five levels, best first, as forms show them.
var Levels = []Level{
	{5, catalog.Text{Zh: "非常满意", En: "Very satisfied"}},
	{4, catalog.Text{Zh: "满意", En: "Satisfied"}},
	{3, catalog.Text{Zh: "基本满意", En: "Fair"}},
	{2, catalog.Text{Zh: "不满意", En: "Dissatisfied"}},
	{1, catalog.Text{Zh: "非常不满意", En: "Very dissatisfied"}},
}

// Level is one of the five.
type Level struct {
	Stars int
	Name  catalog.Text
}

// LevelName names a number of stars.
func LevelName(stars int) catalog.Text {
	for _, l := range Levels {
		if l.Stars == stars {
			return l.Name
		}
	}
	return catalog.Text{}
}

// MaxComment bounds a comment, an answer and a callback note, in characters.
const MaxComment = 500

// Rateable are the statuses in which an application is finished, so that
// its service can be judged: decided either way, or not accepted.
var Rateable = []string{"approved", "rejected", "not_accepted", "licence_issued", "delivered", "revoked"}

// Notifier writes a message in the caller's transaction (*notify.Outbox).
type Notifier interface {
	Send(ctx context.Context, tx *sql.Tx, m notify.Message) (int64, error)
}

// Deps are what the service needs.
type Deps struct {
	DB        *store.DB
	Protector *pii.Protector // seals comments and callback notes; signs rating tokens
	Catalog   *catalog.Store // item names for the public figures
	Calendars application.Calendars
	Notifier  Notifier
	Site      string // the public address, for the QR codes
}

// Service is the ratings and their rectifications.
type Service struct {
	Deps
	// Days is how many days after an application is finished its parties
	// may rate it or change their rating.
	Days int
	// RectifyDays is how many working days a department has to answer a
	// bad rating.
	RectifyDays int
	now         func() time.Time
}

// Defaults of the service's settings.
const (
	DefaultDays        = 15
	DefaultRectifyDays = 5
)

// New returns the service with the default settings.
func New(d Deps) *Service {
	return &Service{Deps: d, Days: DefaultDays, RectifyDays: DefaultRectifyDays, now: func() time.Time { return time.Now().UTC() }}
}

// SetClock makes the service read the time from now: for tests.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Rating is one party's rating of an application.
type Rating struct {
	ID            int64     `json:"id"`
	ApplicationID int64     `json:"application_id"`
	Stars         int       `json:"stars"`
	Comment       string    `json:"comment"`
	Channel       string    `json:"channel"`
	Changes       int       `json:"changes"` // 0, or 1 once changed: a rating changes once
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// CanChange reports whether the rating may still be changed (within the days).
func (r Rating) CanChange() bool { return r.Changes == 0 }

// The states of a rectification.
const (
	Open     = "open"     // waiting for the department's answer
	Answered = "answered" // the department answered; waiting for the callback
	Closed   = "closed"   // a supervisor called back and closed it
)

// Rectification is the follow-up of one bad rating.
type Rectification struct {
	ID             int64        `json:"id"`
	RatingID       int64        `json:"rating_id"`
	ApplicationID  int64        `json:"application_id"`
	Number         string       `json:"application_number"`
	Department     string       `json:"department"`
	DepartmentName catalog.Text `json:"department_name"`
	ItemCode       string       `json:"item_code"`
	ItemName       catalog.Text `json:"item_name"`
	Stars          int          `json:"stars"`
	Comment        string       `json:"comment"` // the person's words, for the department to act on
	Status         string       `json:"status"`
	OpenedAt       time.Time    `json:"opened_at"`
	DueAt          time.Time    `json:"due_at"`
	Answer         string       `json:"answer"`
	AnsweredAt     *time.Time   `json:"answered_at,omitempty"`
	CallbackNote   string       `json:"callback_note"`
	ClosedAt       *time.Time   `json:"closed_at,omitempty"`
	Resolved       *bool        `json:"resolved,omitempty"`
	Verdict        string       `json:"verdict"` // the person's: "", satisfied or unsatisfied
	Late           bool         `json:"late"`    // past its deadline and not closed
}
