package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"yiwang/internal/config"
	"yiwang/internal/hub"
	"yiwang/internal/ident"
	"yiwang/internal/logging"
)

const hubSummary = `Check the departments' systems named in --hub-config against the data contract.

  yiwang hub check --hub-config FILE [--subject ID] [--subject CREDIT_CODE]

check calls each configured source once and prints every way its answer breaks
the contract of docs/DATA_HUB.md, one line each: a field of the wrong type, a
date not written YYYY-MM-DD, a value outside the field's list, a missing
field, a status code other than 200 with the record or 404 for none. A source
of the kind of a --subject (a resident ID number, or an enterprise's credit
code; give one of each to check both kinds) is asked for that subject, whose
record must be complete; any other is asked for a subject no system holds,
and must answer 404. The exit status is 1 when anything breaks the contract.`

// contractChecker is a connector that can check a department's answer
// against the data contract (httpconn.Connector).
type contractChecker interface {
	Check(ctx context.Context, source string, subject hub.Subject, known bool) []string
}

// Subjects no system holds: an ID number born on the first day of 1900 in
// the demo district, and the first credit code of its kind there.
var (
	probePerson     = hub.Subject{Kind: hub.Person, Key: mustIDNumber("91010219000101000")}
	probeEnterprise = hub.Subject{Kind: hub.Enterprise, Key: mustCreditCode()}
)

func mustIDNumber(first17 string) string {
	c, err := ident.IDNumberCheck(first17)
	if err != nil {
		panic(err)
	}
	return first17 + string(c)
}

func mustCreditCode() string {
	code, err := ident.NewCreditCode("91", "910102", 0)
	if err != nil {
		panic(err)
	}
	return code
}

func hubCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintf(stdout, "Usage: yiwang hub check --hub-config FILE [--subject ID]\n\n%s\n", hubSummary)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return nil
		}
		return usageError{errors.New("name the subcommand: check")}
	}
	fs := flag.NewFlagSet("hub check", flag.ContinueOnError)
	var subjects []hub.Subject
	fs.Func("subject", "a resident ID number or credit code the systems hold, whose records are checked field by field (may be given once per kind)", func(v string) error {
		v = strings.TrimSpace(v)
		if _, err := ident.ParseIDNumber(ident.NormalizeIDNumber(v)); err == nil {
			subjects = append(subjects, hub.Subject{Kind: hub.Person, Key: v})
			return nil
		}
		if err := ident.ValidateCreditCode(strings.ToUpper(v)); err == nil {
			subjects = append(subjects, hub.Subject{Kind: hub.Enterprise, Key: strings.ToUpper(v)})
			return nil
		}
		return errors.New("give a valid resident ID number or unified social credit code")
	})
	cfg, _, err := config.Parse(fs, "hub", hubSummary, args[1:], 0, getenv, stdout)
	if err != nil {
		return parseError(err)
	}
	if cfg.HubConfig == "" {
		return usageError{errors.New("name the connectors file: --hub-config FILE (or YIWANG_HUB_CONFIG)")}
	}
	conns, err := loadConnectors(cfg.HubConfig, getenv, logging.New(io.Discard, "text", 0))
	if err != nil {
		return err
	}
	if len(conns) == 0 {
		return fmt.Errorf("%s names no connectors: nothing to check", cfg.HubConfig)
	}
	broken := 0
	for _, source := range slices.Sorted(maps.Keys(conns)) {
		c, ok := conns[source].(contractChecker)
		if !ok {
			continue
		}
		subject, known := checkSubject(source, subjects)
		problems := c.Check(ctx, source, subject, known)
		for _, p := range problems {
			fmt.Fprintf(stdout, "%s: %s\n", source, p)
		}
		if len(problems) == 0 {
			what := "404 for a subject it does not hold"
			if known {
				what = "the subject's record"
			}
			fmt.Fprintf(stdout, "%s: ok (%s)\n", source, what)
		}
		broken += len(problems)
	}
	if broken > 0 {
		return fmt.Errorf("%d mismatch(es) with the data contract (docs/DATA_HUB.md)", broken)
	}
	return nil
}

// checkSubject is whom source is asked about: the given subject of its
// kind, or one no system holds. Licences are asked by their holder: the
// person given, else the enterprise.
func checkSubject(source string, given []hub.Subject) (hub.Subject, bool) {
	src, _ := hub.Lookup(source)
	kinds := []hub.SubjectKind{src.Subject}
	if strings.HasPrefix(source, "licence.") {
		kinds = []hub.SubjectKind{hub.Person, hub.Enterprise}
	}
	for _, k := range kinds {
		if i := slices.IndexFunc(given, func(s hub.Subject) bool { return s.Kind == k }); i >= 0 {
			return given[i], true
		}
	}
	if src.Subject == hub.Enterprise {
		return probeEnterprise, false
	}
	return probePerson, false
}
