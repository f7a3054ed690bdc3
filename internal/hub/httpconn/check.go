package httpconn

import (
	"context"
	"fmt"
	"strings"

	"yiwang/internal/hub"
	"yiwang/internal/ident"
)

// Check calls source once for subject — one attempt, no retries, the
// breaker left alone — and returns every way the answer breaks the data
// contract of docs/DATA_HUB.md, one sentence each; none when it keeps it.
// known says the system should hold a record of subject; otherwise subject
// is one no system knows, and the contract asks for HTTP 404.
//
// Fetch stops at the first problem and leaves a missing field for the
// applicant; Check goes on and reports them all, so that a department can
// fix its system, or the field map, in one round.
func (c *Connector) Check(ctx context.Context, source string, subject hub.Subject, known bool) []string {
	src, ok := hub.Lookup(source)
	if !ok {
		return []string{fmt.Sprintf("the hub has no source %q", source)}
	}
	tmpl, ok := c.paths[source]
	if !ok {
		return []string{"this connector has no path for it"}
	}
	given := strings.TrimSpace(subject.Key)
	key := given
	if subject.Kind == hub.Person {
		key = ident.NormalizeIDNumber(key)
	}
	s := scrubber{given, key, c.authValue}
	body, ct, p := c.attempt(ctx, source, join(c.base, fill(tmpl, key)))
	switch {
	case p != nil && p.sentinel == hub.ErrNotFound && !known:
		return nil // 404 for a subject it cannot know: as agreed
	case p != nil && p.sentinel == hub.ErrNotFound:
		return []string{"HTTP 404 for the subject given with --subject: give one the system holds, so that its fields can be checked"}
	case p != nil:
		return []string{s.scrub(p.what) + ": want HTTP 200 with the record, or 404 when there is none"}
	case !known:
		return []string{"HTTP 200 for a subject no system holds: answer 404 when there is no record, never 200 with an empty or made-up one"}
	}
	var out []string
	if ct != "" && !strings.Contains(strings.ToLower(ct), "json") {
		out = append(out, fmt.Sprintf("Content-Type is %.60q, want application/json", ct))
	}
	obj, what := decode(body, "")
	if what != "" {
		return append(out, what)
	}
	fields := src.Fields
	if isLicence(source) {
		fields = hub.LicenceFields
	}
	for _, fd := range fields {
		remote := fd.Name
		if r, ok := c.fieldMap[source][fd.Name]; ok {
			remote = r
		}
		name := fd.Name
		if remote != fd.Name {
			name += " (remote " + remote + ")"
		}
		v, present, what := lookupPresent(obj, remote)
		switch {
		case what != "":
			out = append(out, "field "+name+": "+what)
		case !present:
			out = append(out, "field "+name+" is missing: send every field, null when the system does not know it")
		case v != nil:
			if err := fd.Check(normalize(v)); err != nil {
				out = append(out, fmt.Sprintf("field %s: %s", name, s.scrub(err.Error())))
			}
		}
	}
	return out
}

// lookupPresent follows a dotted path like lookup, telling a field that
// is missing (present false) from one sent as null, or inside an object
// sent as null (present, v nil).
func lookupPresent(obj map[string]any, path string) (v any, present bool, what string) {
	steps := strings.Split(path, ".")
	for i, step := range steps {
		next, ok := obj[step]
		switch {
		case !ok:
			return nil, false, ""
		case next == nil || i == len(steps)-1:
			return next, true, ""
		}
		m, ok := next.(map[string]any)
		if !ok {
			return nil, true, fmt.Sprintf("%s is %s, want an object", strings.Join(steps[:i+1], "."), jsonKind(next))
		}
		obj = m
	}
	return nil, false, ""
}
