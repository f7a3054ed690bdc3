package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/ident"
	"yiwang/internal/pii"
	"yiwang/internal/store"
)

// The columns a chosen address is sealed for, so that a sealed email
// address cannot be passed off as a phone number.
const (
	ctxEmail = "notify_channels.email"
	ctxPhone = "notify_channels.phone"
)

// Channels is what an account chose beyond the inbox, as /me shows it: the
// inbox is always on; email and SMS are opt-in, their addresses masked.
type Channels struct {
	InApp   bool     `json:"in_app"`          // always true: the inbox cannot be turned off
	Email   string   `json:"email,omitempty"` // masked; empty when email is not chosen
	SMS     string   `json:"sms,omitempty"`   // masked mobile number; empty when SMS is not chosen
	Offered []string `json:"offered"`         // the channels besides the inbox this platform offers
}

// ChannelsChange changes an account's channels. A nil field leaves its
// channel as it is; an empty string stops it.
type ChannelsChange struct {
	Email *string `json:"email"`
	SMS   *string `json:"sms"`
}

// Channels returns p's chosen channels.
func (o *Outbox) Channels(ctx context.Context, p authz.Principal) (Channels, error) {
	if !p.SignedIn() {
		return Channels{}, authz.Require(p, authz.SignedIn)
	}
	email, phone, err := o.addresses(ctx, o.db, p.AccountID)
	if err != nil {
		return Channels{}, err
	}
	c := Channels{InApp: true, Offered: append([]string{}, o.offered...)}
	if email != "" {
		c.Email = pii.MaskEmail(email)
	}
	if phone != "" {
		c.SMS = pii.MaskPhone(phone)
	}
	return c, nil
}

// SetChannels changes p's channels and returns them. A channel this
// platform does not offer cannot be chosen (stopping one is always allowed).
func (o *Outbox) SetChannels(ctx context.Context, p authz.Principal, ch ChannelsChange) (Channels, error) {
	if !p.SignedIn() {
		return Channels{}, authz.Require(p, authz.SignedIn)
	}
	if err := o.choosable(ch.Email, ChannelEmail); err != nil {
		return Channels{}, err
	}
	if ch.Email != nil && *ch.Email != "" && !validEmail(*ch.Email) {
		return Channels{}, apperr.New(apperr.Invalid, apperr.BadEmail, "give a valid email address such as name@example.cn")
	}
	if err := o.choosable(ch.SMS, ChannelSMS); err != nil {
		return Channels{}, err
	}
	if ch.SMS != nil && *ch.SMS != "" && !ident.ValidMobile(*ch.SMS) {
		return Channels{}, apperr.New(apperr.Invalid, apperr.BadPhone, "give an 11-digit mobile number starting with 1")
	}
	err := o.db.InTx(ctx, func(tx *sql.Tx) error {
		email, phone, err := o.addresses(ctx, tx, p.AccountID)
		if err != nil {
			return err
		}
		if ch.Email != nil {
			email = *ch.Email
		}
		if ch.SMS != nil {
			phone = *ch.SMS
		}
		emailEnc, err := o.seal(email, ctxEmail)
		if err != nil {
			return err
		}
		phoneEnc, err := o.seal(phone, ctxPhone)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO notify_channels (account_id, email_enc, phone_enc, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (account_id) DO UPDATE SET email_enc = excluded.email_enc, phone_enc = excluded.phone_enc, updated_at = excluded.updated_at`,
			p.AccountID, emailEnc, phoneEnc, o.now())
		return err
	})
	if err != nil {
		return Channels{}, fmt.Errorf("notify: choose channels: %w", err)
	}
	return o.Channels(ctx, p)
}

// choosable trims a chosen address and refuses it when this platform does
// not offer its channel; stopping a channel (an empty address) is always
// allowed.
func (o *Outbox) choosable(v *string, channel string) error {
	if v == nil {
		return nil
	}
	*v = strings.TrimSpace(*v)
	if *v != "" && !slices.Contains(o.offered, channel) {
		return apperr.New(apperr.Invalid, apperr.ChannelNotOffered, "this platform does not send notifications by %s", channel)
	}
	return nil
}

// seal encrypts an address for its column; an empty one is NULL.
func (o *Outbox) seal(v, column string) (sql.NullString, error) {
	if v == "" {
		return sql.NullString{}, nil
	}
	if o.protector == nil {
		return sql.NullString{}, errors.New("no key for personal data: call Outbox.Offer")
	}
	s, err := o.protector.SealFor(v, column)
	return sql.NullString{String: s, Valid: err == nil}, err
}

// addresses returns the account's chosen email address and mobile number in
// clear; empty for a channel not chosen.
func (o *Outbox) addresses(ctx context.Context, q store.Querier, account int64) (email, phone string, err error) {
	var emailEnc, phoneEnc sql.NullString
	err = q.QueryRowContext(ctx, `SELECT email_enc, phone_enc FROM notify_channels WHERE account_id = $1`, account).Scan(&emailEnc, &phoneEnc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("notify: channels of account %d: %w", account, err)
	}
	if (emailEnc.Valid || phoneEnc.Valid) && o.protector == nil {
		return "", "", errors.New("notify: no key for personal data: call Outbox.Offer")
	}
	if emailEnc.Valid {
		if email, err = o.protector.OpenFor(emailEnc.String, ctxEmail); err != nil {
			return "", "", err
		}
	}
	if phoneEnc.Valid {
		if phone, err = o.protector.OpenFor(phoneEnc.String, ctxPhone); err != nil {
			return "", "", err
		}
	}
	return email, phone, nil
}

// Address returns where an email or SMS delivery goes: the address its
// account chose, read at delivery, so that addresses are never copied into
// the outbox and a change reaches the deliveries still pending. An account
// that has since stopped the channel fails the delivery for good.
func (o *Outbox) Address(ctx context.Context, m Message) (string, error) {
	email, phone, err := o.addresses(ctx, o.db, m.AccountID)
	if err != nil {
		return "", err
	}
	addr := map[string]string{ChannelEmail: email, ChannelSMS: phone}[m.Channel]
	if addr == "" {
		return "", Permanent(fmt.Errorf("account %d has no %s address on file: the channel was stopped", m.AccountID, m.Channel))
	}
	return addr, nil
}

// fanOut writes, for an in-app message, one delivery by each channel its
// recipient chose — every account of the person, or the one account — each
// its own row with its own status, attempts and job, in the same tx.
func (o *Outbox) fanOut(ctx context.Context, tx *sql.Tx, m Message, source int64) error {
	for _, target := range o.forward[m.Kind] {
		d := m
		d.Channel, d.Target, d.SourceID = ChannelWebhook, target, source
		if _, err := o.insert(ctx, tx, d); err != nil {
			return err
		}
	}
	if len(o.offered) == 0 {
		return nil
	}
	type choice struct {
		account      int64
		email, phone bool
	}
	choices, err := store.All(ctx, tx, func(r store.Scanner) (choice, error) {
		var c choice
		return c, r.Scan(&c.account, &c.email, &c.phone)
	}, `SELECT c.account_id, c.email_enc IS NOT NULL, c.phone_enc IS NOT NULL FROM notify_channels c JOIN accounts a ON a.id = c.account_id
		WHERE c.account_id = $1 OR a.person_id = $2 ORDER BY c.account_id`, m.AccountID, m.PersonID)
	if err != nil {
		return fmt.Errorf("notify: recipient's channels: %w", err)
	}
	for _, c := range choices {
		for _, ch := range o.offered {
			if (ch == ChannelEmail && !c.email) || (ch == ChannelSMS && !c.phone) || (ch != ChannelEmail && ch != ChannelSMS) {
				continue
			}
			d := m
			d.Channel, d.AccountID, d.SourceID = ch, c.account, source
			if _, err := o.insert(ctx, tx, d); err != nil {
				return err
			}
		}
	}
	return nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= 254 && !strings.ContainsAny(s, "\r\n")
}

// DeadLetter is a delivery that failed for good, as administrators see it:
// what and how, never the text or the address in clear.
type DeadLetter struct {
	ID            int64     `json:"id"`
	Kind          Kind      `json:"kind"`
	Channel       string    `json:"channel"`
	Attempts      int       `json:"attempts"`
	LastError     string    `json:"last_error"`
	Recipient     string    `json:"recipient"` // the masked address; the webhook endpoint's name; for the inbox, the account or person id
	AccountID     int64     `json:"account_id,omitempty"`
	PersonID      int64     `json:"person_id,omitempty"`
	ApplicationID int64     `json:"application_id,omitempty"`
	SourceID      int64     `json:"source_id,omitempty"` // the in-app message an email, SMS or webhook delivery copies
	CreatedAt     time.Time `json:"created_at"`
}

// DeadLetters lists failed deliveries, newest first, below id before (0: from
// the newest), at most limit (1–100; 0 means 50). Only system administrators
// see them: a dead letter tells who was told what.
func (o *Outbox) DeadLetters(ctx context.Context, p authz.Principal, before int64, limit int) ([]DeadLetter, error) {
	if err := authz.Require(p, authz.DeadLetters); err != nil {
		return nil, err
	}
	switch {
	case limit == 0:
		limit = 50
	case limit < 0 || limit > 100:
		return nil, apperr.New(apperr.Invalid, apperr.BadLimit, "limit must be between 1 and 100")
	}
	if before <= 0 {
		before = 1 << 62
	}
	type failed struct {
		m       Message
		lastErr string
	}
	rows, err := store.All(ctx, o.db, func(r store.Scanner) (failed, error) {
		var f failed
		m, err := scanMessage(scanWith{r, &f.lastErr})
		f.m = m
		return f, err
	}, `SELECT `+columns+`, last_error FROM outbox_messages WHERE status = 'failed' AND id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("notify: dead letters: %w", err)
	}
	out := make([]DeadLetter, 0, len(rows))
	for _, f := range rows {
		m := f.m
		d := DeadLetter{ID: m.ID, Kind: m.Kind, Channel: m.Channel, Attempts: m.Attempts, LastError: f.lastErr, AccountID: m.AccountID,
			PersonID: m.PersonID, ApplicationID: m.ApplicationID, SourceID: m.SourceID, CreatedAt: m.CreatedAt}
		switch m.Channel {
		case ChannelEmail, ChannelSMS:
			email, phone, err := o.addresses(ctx, o.db, m.AccountID)
			if err != nil {
				return nil, err
			}
			if m.Channel == ChannelEmail && email != "" {
				d.Recipient = pii.MaskEmail(email)
			} else if phone != "" && m.Channel == ChannelSMS {
				d.Recipient = pii.MaskPhone(phone)
			}
		}
		if m.Channel == ChannelWebhook {
			d.Recipient = m.Target
		} else if d.Recipient == "" && m.AccountID != 0 {
			d.Recipient = fmt.Sprintf("account %d", m.AccountID)
		} else if d.Recipient == "" {
			d.Recipient = fmt.Sprintf("person %d", m.PersonID)
		}
		out = append(out, d)
	}
	return out, nil
}

// Attempt is one try at a delivery, as the delivery log keeps it.
type Attempt struct {
	Attempt int       `json:"attempt"`
	At      time.Time `json:"at"`
	OK      bool      `json:"ok"`
	Error   string    `json:"error,omitempty"`
}

// Attempts returns the delivery log of delivery id, oldest first: for system
// administrators, like the dead letters. An unknown id is not found.
func (o *Outbox) Attempts(ctx context.Context, p authz.Principal, id int64) ([]Attempt, error) {
	if err := authz.Require(p, authz.DeadLetters); err != nil {
		return nil, err
	}
	var n int
	if err := o.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox_messages WHERE id = $1`, id).Scan(&n); err != nil {
		return nil, fmt.Errorf("notify: delivery %d: %w", id, err)
	}
	if n == 0 {
		return nil, apperr.New(apperr.NotFound, apperr.NotificationNotFound, "no delivery %d", id)
	}
	out, err := store.All(ctx, o.db, func(r store.Scanner) (Attempt, error) {
		var a Attempt
		return a, r.Scan(&a.Attempt, &a.At, &a.OK, &a.Error)
	}, `SELECT attempt, at, ok, error FROM outbox_attempts WHERE message_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("notify: delivery log of %d: %w", id, err)
	}
	return append([]Attempt{}, out...), nil
}

// scanWith scans a message's columns followed by extra ones.
type scanWith struct {
	row   store.Scanner
	extra *string
}

func (s scanWith) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra)...) }
