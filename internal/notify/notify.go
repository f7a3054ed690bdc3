// Package notify is the one way the platform tells a person something:
// co-party invitations, correction requests, deadline warnings, decisions.
//
// A message is written to the outbox inside the transaction of the change
// that causes it (Outbox.Send), together with a durable job that delivers it
// — so a message exists exactly when its cause committed, and survives a
// restart before delivery. The job hands the message to the Channel it names.
// The in-app channel is built in: delivering makes the message visible in
// the recipient's inbox (GET /api/v1/me/notifications). A person may also
// choose email and SMS (packages email and sms), and other systems
// subscribe to kinds by webhook (package webhook): Send then writes one
// delivery per channel, each with its own status, retries and dead letter;
// see docs/NOTIFICATIONS.md.
package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"yiwang/internal/apperr"
	"yiwang/internal/jobs"
	"yiwang/internal/pii"
	"yiwang/internal/store"
)

// Kind says what a message is about; pages may show each differently.
type Kind string

// The kinds of message. A new kind is added here, so that a misspelt one
// fails at Send instead of reaching people.
const (
	CopartyInvitation   Kind = "coparty_invitation"   // 一事多人: confirm you are a party to an application
	CorrectionRequested Kind = "correction_requested" // 一次性告知: what to correct, all at once
	DeadlineWarning     Kind = "deadline_warning"     // a deadline turns yellow or red (staff), or a supplement is due
	Decision            Kind = "decision"             // approved, rejected, not accepted
	LicenceIssued       Kind = "licence_issued"       // the e-licence is ready
	AccountSecurity     Kind = "account_security"     // to an account's holder only: a lock, a registration tried with their ID number
	ServiceOffer        Kind = "service_offer"        // 主动服务: a service the person now qualifies for, one click away
	RectificationAnswer Kind = "rectification_answer" // 好差评: the department answered a bad rating
	SupervisionAlert    Kind = "supervision_alert"    // 电子监察: to a department's heads, what the board finds in their department
	ConsultationAnswer  Kind = "consultation_answer"  // 我要问、我要投诉: the department answered what the person sent under their name
	SpotCheck           Kind = "spot_check"           // to staff: a spot check assigned to them, or an item's machine approval suspended by its failures
)

// Kinds lists every kind.
var Kinds = []Kind{CopartyInvitation, CorrectionRequested, DeadlineWarning, Decision, LicenceIssued, AccountSecurity, ServiceOffer, RectificationAnswer, ConsultationAnswer, SpotCheck, SupervisionAlert}

// The channels a message can go by. The inbox is always on; a person opts
// in to email and SMS (Outbox.SetChannels), and a message sent to the inbox
// is then also delivered by each of them, each as its own outbox row.
const (
	ChannelInApp   = "in_app"
	ChannelEmail   = "email"
	ChannelSMS     = "sms"
	ChannelWebhook = "webhook"
)

var channelNames = []string{ChannelInApp, ChannelEmail, ChannelSMS, ChannelWebhook}

// The delivery states of a message.
const (
	StatusPending   = "pending"   // written; the delivery job has not yet succeeded
	StatusDelivered = "delivered" // handed to its channel (in-app: visible in the inbox)
	StatusFailed    = "failed"    // the channel refused it for good, or every attempt failed
)

// Message is one thing told to one recipient over one channel. To tell a
// person in the inbox and by SMS, send two messages.
type Message struct {
	ID int64 `json:"id"`
	// The recipient: an account, or a person (who may have no account yet,
	// like a co-party named by ID number), or both — then they must agree.
	// A person's account sees the messages to the person.
	AccountID int64  `json:"-"`
	PersonID  int64  `json:"-"`
	Kind      Kind   `json:"kind"`
	Channel   string `json:"-"` // empty means ChannelInApp
	// Title and body in both languages of the platform: Chinese first,
	// English for the ?lang=en pages. Never put an ID number in them; a
	// name is fine where the recipient already knows it.
	TitleZh string `json:"title_zh"`
	TitleEn string `json:"title_en"`
	BodyZh  string `json:"body_zh"`
	BodyEn  string `json:"body_en"`
	// Link is a path on this site where the recipient acts on the message,
	// such as /applications/123; empty for none.
	Link          string `json:"link,omitempty"`
	ApplicationID int64  `json:"application_id,omitempty"`
	// SourceID is, on an email or SMS delivery, the in-app message it
	// copies; 0 on a message sent as it is.
	SourceID int64 `json:"-"`
	// Target is, on a webhook delivery, the name of the endpoint it goes to.
	Target      string     `json:"-"`
	Status      string     `json:"-"`
	Attempts    int        `json:"-"`
	CreatedAt   time.Time  `json:"created_at"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	ReadAt      *time.Time `json:"read_at"`
}

// Limits on a message's text, so a page can always show it.
const (
	maxTitle = 200
	maxBody  = 4000
)

// Outbox writes messages and serves the inbox.
type Outbox struct {
	db    *store.DB
	queue *jobs.Queue
	now   func() time.Time
	// The channels besides the inbox this deployment offers people, and the
	// key their addresses are sealed with; none without Offer.
	offered   []string
	protector *pii.Protector
	forward   map[Kind][]string // the webhook endpoints each kind of message is forwarded to
	attempts  int               // each delivery's retry budget; maxAttempts unless set
}

// NewOutbox returns the outbox on db; its delivery jobs go on queue, which
// may be an enqueue-only one: any process that registered NewWorker works them.
func NewOutbox(db *store.DB, queue *jobs.Queue) *Outbox {
	return &Outbox{db: db, queue: queue, now: func() time.Time { return time.Now().UTC() }, attempts: maxAttempts}
}

// Offer lets people choose channels (ChannelEmail, ChannelSMS) besides the
// inbox — those this deployment can deliver by — with their addresses
// sealed by protector. Call it once, before serving.
func (o *Outbox) Offer(protector *pii.Protector, channels ...string) {
	o.protector, o.offered = protector, channels
}

// Forward sends every in-app message of a kind also to the webhook
// endpoints named for it (other government systems, docs/NOTIFICATIONS.md),
// each as its own delivery. Call it once, before serving.
func (o *Outbox) Forward(endpoints map[Kind][]string) { o.forward = endpoints }

// SetAttempts sets how many times each delivery is tried before it is
// failed; tests use few, so that a dead letter shows without hours of backoff.
func (o *Outbox) SetAttempts(n int) { o.attempts = n }

// Send writes m to the outbox inside tx and enqueues its delivery in the
// same tx: if tx rolls back, the message was never sent. It returns the
// message's id. The caller's change and the message commit together.
func (o *Outbox) Send(ctx context.Context, tx *sql.Tx, m Message) (int64, error) {
	if m.Channel == "" {
		m.Channel = ChannelInApp
	}
	if err := m.check(); err != nil {
		return 0, err
	}
	if m.AccountID != 0 && m.PersonID != 0 {
		var person sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT person_id FROM accounts WHERE id = $1`, m.AccountID).Scan(&person)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("notify: recipient: %w", err)
		}
		if person.Int64 != m.PersonID {
			return 0, apperr.New(apperr.Invalid, apperr.RecipientMismatch, "message %s names account %d and person %d, which are not the same person: name one of them", m.Kind, m.AccountID, m.PersonID)
		}
	}
	id, err := o.insert(ctx, tx, m)
	if err != nil {
		return 0, err
	}
	if m.Channel == ChannelInApp {
		if err := o.fanOut(ctx, tx, m, id); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// insert writes one outbox row and enqueues its delivery job, in tx.
func (o *Outbox) insert(ctx context.Context, tx *sql.Tx, m Message) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO outbox_messages
		(account_id, person_id, kind, channel, title_zh, title_en, body_zh, body_en, link, application_id, source_id, target, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		nullID(m.AccountID), nullID(m.PersonID), string(m.Kind), m.Channel, m.TitleZh, m.TitleEn, m.BodyZh, m.BodyEn, m.Link,
		nullID(m.ApplicationID), nullID(m.SourceID), m.Target, o.now()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("notify: write %s message: %w", m.Kind, err)
	}
	if err := o.enqueue(ctx, tx, id); err != nil {
		return 0, err
	}
	return id, nil
}

// enqueue adds, in tx, the job that delivers message id with its retry budget.
func (o *Outbox) enqueue(ctx context.Context, tx *sql.Tx, id int64) error {
	_, err := o.queue.Enqueue(ctx, tx, DeliverArgs{MessageID: id}, &river.InsertOpts{MaxAttempts: o.attempts})
	return err
}

// check refuses a message that could not be delivered or shown; the errors
// are for the programmer calling Send, so they name the field.
func (m Message) check() error {
	bad := func(format string, args ...any) error {
		return apperr.New(apperr.Invalid, apperr.BadMessage, "message "+format, args...)
	}
	switch {
	case m.AccountID == 0 && m.PersonID == 0:
		return bad("%s has no recipient: set AccountID or PersonID", m.Kind)
	case m.AccountID < 0 || m.PersonID < 0 || m.ApplicationID < 0:
		return bad("%s has a negative id", m.Kind)
	case !slices.Contains(Kinds, m.Kind):
		return bad("kind %q is not one of %v", m.Kind, Kinds)
	case !slices.Contains(channelNames, m.Channel):
		return bad("channel %q is not one of %v", m.Channel, channelNames)
	case (m.Channel == ChannelWebhook) != (m.Target != ""):
		return bad("%s: a webhook message, and only one, names its endpoint in Target", m.Kind)
	}
	for _, f := range []struct {
		name, text string
		max        int
	}{{"TitleZh", m.TitleZh, maxTitle}, {"TitleEn", m.TitleEn, maxTitle}, {"BodyZh", m.BodyZh, maxBody}, {"BodyEn", m.BodyEn, maxBody}} {
		if strings.TrimSpace(f.text) == "" {
			return bad("%s lacks %s: every message is written in Chinese and English", m.Kind, f.name)
		}
		if n := utf8.RuneCountInString(f.text); n > f.max {
			return bad("%s: %s has %d characters, at most %d fit", m.Kind, f.name, n, f.max)
		}
	}
	if m.Link != "" && !sitePath(m.Link) {
		return bad("%s: link %q must be a path on this site such as /applications/123", m.Kind, m.Link)
	}
	return nil
}

// sitePath reports whether link is a path on this site: a message must never
// send a person elsewhere (that is how phishing looks).
func sitePath(link string) bool {
	if !strings.HasPrefix(link, "/") || strings.HasPrefix(link, "//") || strings.ContainsAny(link, "\\\r\n\t ") {
		return false
	}
	u, err := url.Parse(link)
	return err == nil && u.Scheme == "" && u.Host == ""
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// DeliverArgs is the job that delivers one message.
type DeliverArgs struct {
	MessageID int64 `json:"message_id"`
}

// Kind names the job.
func (DeliverArgs) Kind() string { return "notify_deliver" }

// maxAttempts bounds retries: with River's attempt⁴-second backoff, ten
// attempts span about four and a half hours — past that a warning is stale.
const maxAttempts = 10

// InsertOpts gives every delivery its retry budget.
func (DeliverArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: maxAttempts} }
