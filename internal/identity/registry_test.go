package identity_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"yiwang/internal/apperr"
	"yiwang/internal/hub"
	"yiwang/internal/identity"
	"yiwang/internal/store"
	"yiwang/internal/store/storetest"
)

// registry gives the fixture's store the built-in registries, wrapped by
// wrap (nil: as they are), and returns them for the test to fill.
func (f *fixture) registry(t *testing.T, wrap func(hub.Connector) hub.Connector) *hub.Builtin {
	t.Helper()
	b := hub.NewBuiltin(f.db, f.protector)
	var conn hub.Connector = b
	if wrap != nil {
		conn = wrap(b)
	}
	f.ids.SetRegistry(hub.NewReader(f.db, conn, b.SubjectIndex))
	return b
}

// sourceDown is a hub whose source does not answer.
type sourceDown struct {
	hub.Connector
	source string
}

func (d sourceDown) Fetch(ctx context.Context, source string, s hub.Subject, fields []string) (hub.Record, error) {
	if source == d.source {
		return nil, fmt.Errorf("%w: %s: HTTP 503 after 3 attempts", hub.ErrUnavailable, source)
	}
	return d.Connector.Fetch(ctx, source, s, fields)
}

// An enterprise only the enterprise registry knows: the legal
// representative and the agents it names act for it, nobody else does.
func TestActForAnEnterpriseOnlyTheRegistryKnows(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		b := f.registry(t, nil)
		// Company 1 is in the platform's table (rep 法人1); company 2 only
		// in the registry, which names company 1's agent and stranger.
		c := newCompany(t, f, "91910102MA5D3M1Q0", "1")
		code := creditCode(t, "91910102MA5D3M2Q0")
		repID := idNumber(t, "19700101", "031")
		rep := f.person(t, repID, "新法人")
		repToken, _ := f.session(t, rep.ID)
		rec := hub.Record{"name": "登记处才有的公司", "credit_code": code, "status": "active", "legal_rep": "新法人", "legal_rep_id_number": repID,
			"agent_id_numbers": []string{strings.ToLower(c.agentID)}}
		if err := b.Put(f.ctx, db, "enterprise", hub.Subject{Kind: hub.Enterprise, Key: code}, rec); err != nil {
			t.Fatal(err)
		}

		// A stranger is refused, and nothing is recorded but the read.
		_, err := f.ids.ActFor(f.ctx, f.principal(t, c.strToken), c.strToken, code)
		wantErr(t, "a stranger acting for the registry's enterprise", err, apperr.Forbidden, "not_authorised")
		if n := f.count(t, "enterprises", "credit_code = $1", code); n != 0 {
			t.Errorf("a refused switch recorded the enterprise")
		}
		if p := f.principal(t, c.strToken); p.ActingFor != nil {
			t.Errorf("the stranger acts for %+v", p.ActingFor)
		}

		ent, err := f.ids.ActFor(f.ctx, f.principal(t, repToken), repToken, code)
		if err != nil {
			t.Fatal(err)
		}
		if ent.CreditCode != code || ent.Name != "登记处才有的公司" || ent.Via != "legal_representative" {
			t.Errorf("the registry's legal representative acts as %+v", ent)
		}
		if p := f.principal(t, repToken); p.ActingFor == nil || p.ActingFor.ID != ent.ID || !p.SeesEnterprise(ent.ID) {
			t.Errorf("the representative's session acts for %+v", p.ActingFor)
		}

		ent, err = f.ids.ActFor(f.ctx, f.principal(t, c.agentToken), c.agentToken, code)
		if err != nil {
			t.Fatal(err)
		}
		if ent.Via != "authorisation" || ent.Scope != nil {
			t.Errorf("the registry's agent acts as %+v", ent)
		}
		// The registry's word is recorded as an authorisation for a day,
		// after which the registry is asked again.
		if n := f.count(t, "authorisations", "agent_person = $1 AND scope = '*' AND expires_at = $2", c.agent.PersonID, f.clock.Now().Add(identity.RegisteredAgentTTL)); n != 1 {
			t.Errorf("%d day-long authorisations recorded for the registry's agent", n)
		}

		// The registry decides over the table: company 1's own representative
		// is not named by the registry for company 2, nor 法人1 for a company
		// the registry gives to someone else.
		_, err = f.ids.ActFor(f.ctx, f.principal(t, c.repToken), c.repToken, code)
		wantErr(t, "another enterprise's representative", err, apperr.Forbidden, "not_authorised")

		// Every read is in the enterprise's read log.
		if n := f.count(t, "data_reads", "source = 'enterprise' AND outcome = 'ok'"); n != 4 {
			t.Errorf("%d enterprise reads logged, want 4", n)
		}

		// An enterprise the registry has closed cannot be acted for.
		closed := creditCode(t, "91910102MA5D3M3Q0")
		rec["credit_code"], rec["status"] = closed, "cancelled"
		if err := b.Put(f.ctx, db, "enterprise", hub.Subject{Kind: hub.Enterprise, Key: closed}, rec); err != nil {
			t.Fatal(err)
		}
		_, err = f.ids.ActFor(f.ctx, f.principal(t, repToken), repToken, closed)
		wantErr(t, "a closed enterprise", err, apperr.Forbidden, "enterprise_not_active")
		// An enterprise no registry knows is not found.
		_, err = f.ids.ActFor(f.ctx, f.principal(t, repToken), repToken, creditCode(t, "91910102MA5D3M4Q0"))
		wantErr(t, "an unknown enterprise", err, apperr.NotFound, "enterprise_not_found")
	})
}

func TestActForWhileTheEnterpriseRegistryIsDown(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.registry(t, func(c hub.Connector) hub.Connector { return sourceDown{c, "enterprise"} })
		c := newCompany(t, f, "91910102MA5D3M1Q0", "1")
		// The platform's own table still answers for its enterprises.
		if _, err := f.ids.ActFor(f.ctx, f.principal(t, c.repToken), c.repToken, c.code); err != nil {
			t.Errorf("the table's legal representative with the registry down: %v", err)
		}
		_, err := f.ids.ActFor(f.ctx, f.principal(t, c.strToken), c.strToken, creditCode(t, "91910102MA5D3M2Q0"))
		wantErr(t, "an enterprise only the registry knows, registry down", err, apperr.Unavailable, "unavailable")
	})
}
