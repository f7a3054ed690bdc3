// Package apperr defines the small set of error kinds the platform speaks in.
//
// Domain packages wrap their failures in an *Error with a Kind, a stable
// Code and a Message for developers and logs. What people read is the code's
// Words, in Chinese and English, from the one table in codes.go; details
// about single fields or parties are Details, worded the same way. The HTTP
// layer maps kinds to status codes in exactly one place (httpx.StatusFor),
// so no domain package needs to know about HTTP.
package apperr

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds, from the caller's point of view.
const (
	Internal        Kind = iota // a fault of ours; the caller can only retry later
	Invalid                     // the input is wrong; fix it and retry
	NotFound                    // the thing asked for does not exist (or is not yours to see)
	Conflict                    // the thing exists in a state that forbids the action
	Unauthenticated             // who you are is unknown; sign in
	Forbidden                   // you are known but may not do this
	TooMany                     // a rate or quota limit was hit; wait and retry
	Unavailable                 // a dependency (database, registry) is down; retry later
	TooLarge                    // an upload is over its size limit; send a smaller one
)

// Code returns the kind's own code, used for errors that name none.
func (k Kind) Code() Code {
	switch k {
	case Invalid:
		return InvalidRequest
	case NotFound:
		return NoSuchThing
	case Conflict:
		return StateConflict
	case Unauthenticated:
		return NotSignedIn
	case Forbidden:
		return NotAllowed
	case TooMany:
		return TooManyRequests
	case Unavailable:
		return TemporarilyUnavailable
	case TooLarge:
		return FileTooLarge
	}
	return InternalError
}

// String returns the kind's own code as text.
func (k Kind) String() string { return string(k.Code()) }

// Code is a stable, machine-readable name for what went wrong, such as
// "item_not_found". Every code is a constant in codes.go with its words.
type Code string

// Words returns what people read for c, and false for a code without words.
func (c Code) Words() (Words, bool) {
	w, ok := words[c]
	return w, ok
}

// Codes returns every code that has words, in order.
func Codes() []Code { return slices.Sorted(maps.Keys(words)) }

// Words are text for people in the platform's two languages.
type Words struct {
	Zh string `json:"zh"`
	En string `json:"en"`
}

// In returns the words in lang: English for "en", otherwise Chinese, the
// platform's default.
func (w Words) In(lang string) string {
	if lang == "en" {
		return w.En
	}
	return w.Zh
}

// A Detail is one item of an error's details: what is wrong with one form
// field, party, answer, material or file, in both languages, so that each
// reader sees it in theirs.
type Detail struct {
	Subject string `json:"subject,omitempty"` // what it is about, for programs: a field id, a party's role, file:line
	Words
}

// JoinEnglish joins details' English words with "; ", for an error's
// Message, so the logs name every problem.
func JoinEnglish(ds []Detail) string {
	en := make([]string, len(ds))
	for i, d := range ds {
		en[i] = d.En
	}
	return strings.Join(en, "; ")
}

// Error is an error with a kind, a stable code and a human message.
type Error struct {
	Kind    Kind
	Code    Code   // stable identifier, e.g. ItemNotFound; defaults to Kind.Code()
	Message string // what went wrong in this case, for developers and logs
	Details any    // optional structured details: []Detail for per-field problems
	Err     error  // the underlying cause, never shown to the caller
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a formatted message.
func New(kind Kind, code Code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of the given kind that keeps cause for logs.
func Wrap(cause error, kind Kind, code Code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message, Err: cause}
}

// Words returns what people read about e: its code's words, or its kind's
// when the code has none.
func (e *Error) Words() Words {
	if w, ok := e.Code.Words(); ok {
		return w
	}
	w, _ := e.Kind.Code().Words()
	return w
}

// WithDetails returns a copy of e carrying structured details.
func (e *Error) WithDetails(details any) *Error {
	c := *e
	c.Details = details
	return &c
}

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the kind of err, Internal for errors without one.
func KindOf(err error) Kind {
	if e := As(err); e != nil {
		return e.Kind
	}
	return Internal
}

// Is reports whether err has the given kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }
