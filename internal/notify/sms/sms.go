// Package sms delivers notifications by text message: the outbox's SMS
// channel (docs/NOTIFICATIONS.md). The channel writes a short text from the
// message and hands it to a Provider — the gateway a province or a carrier
// runs; HTTP is the one adapter here, a signed JSON POST.
package sms

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"yiwang/internal/notify"
	"yiwang/internal/pii"
)

// Provider sends one text to one mobile number. id is the same on every
// retry of a delivery: a gateway that takes an idempotency key gets it, so
// a text resent after a crash is not sent twice. An error wrapped in
// notify.Permanent is not retried.
type Provider interface {
	Send(ctx context.Context, to, text, id string) error
}

// maxText bounds a text: a gateway splits longer ones into several paid
// messages, and a long one is better read on the site.
const maxText = 300

// Channel is the SMS channel.
type Channel struct {
	provider Provider
	address  func(context.Context, notify.Message) (string, error)
	site     string
}

// New returns the channel sending through provider to the number address
// finds for a message (notify.Outbox.Address: the one the person chose);
// site is the platform's public address, for the link.
func New(provider Provider, address func(context.Context, notify.Message) (string, error), site string) *Channel {
	return &Channel{provider: provider, address: address, site: strings.TrimRight(site, "/")}
}

// Name is notify.ChannelSMS.
func (*Channel) Name() string { return notify.ChannelSMS }

// Deliver sends m's text. The number never appears in clear in the error.
func (c *Channel) Deliver(ctx context.Context, m notify.Message) error {
	to, err := c.address(ctx, m)
	if err != nil {
		return err
	}
	err = c.provider.Send(ctx, to, Text(m, c.site), "notify-"+strconv.FormatInt(m.ID, 10))
	if err == nil || !strings.Contains(err.Error(), to) {
		return err
	}
	masked := errors.New(strings.ReplaceAll(err.Error(), to, pii.MaskPhone(to)))
	if notify.IsPermanent(err) {
		return notify.Permanent(masked)
	}
	return masked
}

// Text is m as a text message, in Chinese — the language of the
// platform's texts — with the platform's signature first, as Chinese
// gateways require, and the link: 【一网通办】title：body link.
func Text(m notify.Message, site string) string {
	link := ""
	if m.Link != "" {
		link = " " + site + m.Link
	}
	head := "【一网通办】" + m.TitleZh + "："
	room := maxText - utf8.RuneCountInString(head) - utf8.RuneCountInString(link)
	body := []rune(m.BodyZh)
	if len(body) > room {
		body = append(body[:max(room-1, 0)], '…')
	}
	return head + string(body) + link
}

// HTTP is a gateway reached by a signed JSON POST of {"to", "text", "id"}
// to URL, with notify.HeaderTimestamp and notify.HeaderSignature
// (HMAC-SHA256 with Secret), as the provincial gateways' adapters take it.
type HTTP struct {
	URL    string
	Secret string
	Client *http.Client // nil: a client with a 30-second timeout
	now    func() time.Time
}

// NewHTTP returns the HTTP provider.
func NewHTTP(url, secret string) *HTTP {
	return &HTTP{URL: url, Secret: secret, Client: &http.Client{Timeout: 30 * time.Second}, now: time.Now}
}

// Send posts the text to the gateway.
func (h *HTTP) Send(ctx context.Context, to, text, id string) error {
	body, err := json.Marshal(struct {
		To   string `json:"to"`
		Text string `json:"text"`
		ID   string `json:"id"`
	}{to, text, id})
	if err != nil {
		return notify.Permanent(err)
	}
	return notify.PostSigned(ctx, h.Client, "the SMS gateway", h.URL, h.Secret, body, http.Header{"Idempotency-Key": {id}}, h.now())
}
