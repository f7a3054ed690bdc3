// Package email delivers notifications by email over SMTP: the outbox's
// email channel (docs/NOTIFICATIONS.md). It sends through the deployment's
// relay with the standard library's SMTP client, after STARTTLS unless told
// the relay is on a trusted network, and signs in when given an account.
package email

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/notify"
	"yiwang/internal/pii"
)

// Config is the SMTP relay and the sender.
type Config struct {
	Host     string // the relay; empty: no email channel
	Port     int
	From     string // the sender's address, such as noreply@zwfw.example.gov.cn
	Username string // empty: no SMTP AUTH
	Password string
	// StartTLS requires STARTTLS before anything is sent; turn it off only
	// for a relay reached over a trusted network.
	StartTLS bool
	Site     string // the platform's public address, for the message's link
}

// Channel is the email channel.
type Channel struct {
	cfg     Config
	address func(context.Context, notify.Message) (string, error)
	timeout time.Duration
}

// New returns the channel sending with cfg to the address that address
// finds for a message (notify.Outbox.Address: the recipient's chosen one).
func New(cfg Config, address func(context.Context, notify.Message) (string, error)) *Channel {
	return &Channel{cfg: cfg, address: address, timeout: time.Minute}
}

// Name is notify.ChannelEmail.
func (*Channel) Name() string { return notify.ChannelEmail }

// Deliver sends m. A recipient the relay refuses for good (a 5xx reply to
// RCPT) fails the delivery at once; anything else is retried. The address
// never appears in clear in the error, which operators read.
func (c *Channel) Deliver(ctx context.Context, m notify.Message) error {
	to, err := c.address(ctx, m)
	if err != nil {
		return err
	}
	if err := c.send(ctx, to, compose(c.cfg, m, to)); err != nil {
		return maskErr(err, to)
	}
	return nil
}

func (c *Channel) send(ctx context.Context, to string, msg []byte) error {
	addr := net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port))
	conn, err := (&net.Dialer{Timeout: c.timeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect to the SMTP relay %s: %w", addr, err)
	}
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	client, err := smtp.NewClient(conn, c.cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP relay %s: %w", addr, err)
	}
	defer client.Close()
	if c.cfg.StartTLS {
		if ok, _ := client.Extension("STARTTLS"); !ok {
			return fmt.Errorf("SMTP relay %s does not offer STARTTLS, which --smtp-starttls requires", addr)
		}
		if err := client.StartTLS(&tls.Config{ServerName: c.cfg.Host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("STARTTLS with %s: %w", addr, err)
		}
	}
	if c.cfg.Username != "" {
		if err := client.Auth(smtp.PlainAuth("", c.cfg.Username, c.cfg.Password, c.cfg.Host)); err != nil {
			return fmt.Errorf("sign in to the SMTP relay: %w", err)
		}
	}
	if err := client.Mail(c.cfg.From); err != nil {
		return fmt.Errorf("SMTP MAIL FROM: %w", err)
	}
	if err := client.Rcpt(to); err != nil {
		var reply *textproto.Error
		if errors.As(err, &reply) && reply.Code >= 500 {
			return notify.Permanent(fmt.Errorf("the relay refuses the recipient: %w", err))
		}
		return fmt.Errorf("SMTP RCPT TO: %w", err)
	}
	w, err := client.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("the relay refused the message: %w", err)
	}
	return client.Quit()
}

// compose writes the message: UTF-8 text, base64 so that no line is too
// long, the subject encoded for headers, and a Message-ID made of the
// outbox id so that a delivery sent twice is recognisably the same mail.
func compose(cfg Config, m notify.Message, to string) []byte {
	subject, body := m.Text(cfg.Site)
	_, domain, _ := strings.Cut(cfg.From, "@")
	if domain == "" {
		domain = cfg.Host
	}
	var b strings.Builder
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", cfg.From)
	header("To", to)
	header("Subject", mime.BEncoding.Encode("UTF-8", subject))
	header("Date", time.Now().Format(time.RFC1123Z))
	header("Message-ID", fmt.Sprintf("<notify-%d@%s>", m.ID, domain))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return []byte(b.String())
}

// maskErr hides the recipient's address in an error a relay may echo it in.
func maskErr(err error, to string) error {
	if !strings.Contains(err.Error(), to) {
		return err
	}
	masked := errors.New(strings.ReplaceAll(err.Error(), to, pii.MaskEmail(to)))
	if notify.IsPermanent(err) {
		return notify.Permanent(masked)
	}
	return masked
}
