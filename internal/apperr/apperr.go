// Package apperr defines the small set of error kinds the platform speaks in.
//
// Domain packages wrap their failures in an *Error with a Kind, a stable
// machine-readable Code and a Message a person can act on. The HTTP layer maps
// kinds to status codes in exactly one place (server.statusFor), so no domain
// package needs to know about HTTP.
package apperr

import (
	"errors"
	"fmt"
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
)

var kindNames = [...]string{"internal", "invalid", "not_found", "conflict", "unauthenticated", "forbidden", "too_many_requests", "unavailable"}

// String returns the kind's default machine-readable code.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "internal"
}

// Error is an error with a kind, a stable code and a human message.
type Error struct {
	Kind    Kind
	Code    string // stable identifier, e.g. "item_not_found"; defaults to Kind.String()
	Message string // what went wrong and what to do, for a person
	Details any    // optional structured details, e.g. per-field problems
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
func New(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of the given kind that keeps cause for logs.
func Wrap(cause error, kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message, Err: cause}
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
