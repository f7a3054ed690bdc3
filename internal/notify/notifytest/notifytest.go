// Package notifytest has what tests of notification channels share: a real
// SMTP server to send to.
package notifytest

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

// Mailbox is a real SMTP server on a loopback port, in memory: what it
// accepted, and whether it refuses recipients for now (a 451, as a relay
// over quota does). Tests of the email channel send to it, not to a mock.
type Mailbox struct {
	mu      sync.Mutex
	mails   []Mail
	refuse  bool
	refused int
	Addr    *net.TCPAddr
}

// Mail is one message the mailbox accepted.
type Mail struct {
	From string
	To   []string
	Data []byte
}

// StartMailbox starts a mailbox for the test; refuse makes it answer 451
// to every recipient.
func StartMailbox(t testing.TB, refuse bool) *Mailbox {
	t.Helper()
	mb := &Mailbox{refuse: refuse}
	srv := smtp.NewServer(mb)
	srv.Domain = "mail.test"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.Addr = ln.Addr().(*net.TCPAddr)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return mb
}

// NewSession serves one SMTP connection.
func (mb *Mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{mb: mb}, nil }

// Received returns the mails accepted so far.
func (mb *Mailbox) Received() []Mail {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]Mail(nil), mb.mails...)
}

type session struct {
	mb   *Mailbox
	mail Mail
}

func (s *session) Reset()        { s.mail = Mail{} }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.mail.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.mb.mu.Lock()
	defer s.mb.mu.Unlock()
	if s.mb.refuse {
		s.mb.refused++
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailbox " + to + " is over quota, try later"}
	}
	s.mail.To = append(s.mail.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	defer s.mb.mu.Unlock()
	s.mail.Data = b
	s.mb.mails = append(s.mb.mails, s.mail)
	return nil
}
