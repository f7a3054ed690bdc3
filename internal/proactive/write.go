package proactive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/ident"
	"yiwang/internal/notify"
)

// write writes todo in one transaction. A batch that fails is written
// again one action at a time, so that one person's bad record holds back
// nobody else; an action that still fails is counted as failed and logged.
func (e *Engine) write(ctx context.Context, by authz.Principal, todo []planned, rep *Report) error {
	var tally writeTally
	err := e.writeBatch(ctx, by, todo, rep.ID, &tally)
	if err != nil && ctx.Err() != nil {
		return err
	}
	if err != nil {
		tally = writeTally{}
		for _, p := range todo {
			var one writeTally
			if err := e.writeBatch(ctx, by, []planned{p}, rep.ID, &one); err != nil {
				if ctx.Err() != nil {
					return err
				}
				slog.Default().Error("proactive: could not act", "item", p.c.svc.item.Code, "period", p.c.period, "sweep", rep.ID, "err", err)
				rep.skip(SkippedFailed)
				continue
			}
			tally.add(one)
		}
	}
	rep.Granted += tally.granted
	rep.Offered += tally.offered
	for range tally.already {
		rep.skip(SkippedAlready)
	}
	return nil
}

type writeTally struct{ granted, offered, already int }

func (t *writeTally) add(o writeTally) {
	t.granted, t.offered, t.already = t.granted+o.granted, t.offered+o.offered, t.already+o.already
}

// writeBatch writes the actions of batch in one transaction: for each, the
// person (registered from the registry when the platform does not know
// them yet), the action's key — which another sweep may hold already, and
// then nothing more is done for it — and the grant (the application, its
// decision, licence, notices and audit entries) or the offer (a notice
// with the link to apply, and an audit entry).
func (e *Engine) writeBatch(ctx context.Context, by authz.Principal, batch []planned, sweep int64, t *writeTally) error {
	*t = writeTally{}
	return e.db.InTx(ctx, func(tx *sql.Tx) error {
		*t = writeTally{}
		ctx, audited := audit.Batched(ctx, tx)
		for _, p := range batch {
			phone := p.c.phone
			if !ident.ValidMobile(phone) {
				phone = ""
			}
			person, err := e.ids.PutPerson(ctx, tx, p.c.idNumber, p.c.name, phone)
			if err != nil {
				return err
			}
			action := "offered"
			if e.grants(p) {
				action = "granted"
			}
			var id int64
			err = tx.QueryRowContext(ctx, `INSERT INTO proactive_actions (item_code, subject_idx, period, trigger_name, action, person_id, sweep_id, at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (item_code, subject_idx, period) DO NOTHING RETURNING id`,
				p.c.svc.item.Code, p.c.idx, p.c.period, p.c.svc.trigger, action, person, sweep, e.now()).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				t.already++
				continue
			}
			if err != nil {
				return err
			}
			if action == "granted" {
				app, err := e.apps.WriteInitiative(ctx, tx, p.plan, person)
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE proactive_actions SET application_id = $1 WHERE id = $2`, app, id); err != nil {
					return err
				}
				t.granted++
				continue
			}
			if err := e.offer(ctx, tx, p, person, id); err != nil {
				return err
			}
			t.offered++
		}
		return audited.Flush(ctx)
	})
}

// offer tells the person they qualify, with the link that starts the
// application (prefilled from their data once they agree), and audits it.
func (e *Engine) offer(ctx context.Context, tx *sql.Tx, p planned, person, action int64) error {
	it := p.c.svc.item
	body := "您可一键在线办理，系统将为您自动填写已有信息。"
	bodyEn := "Apply online with one click; the platform fills in what it already knows."
	if n := it.Proactive.Note; n != nil {
		body, bodyEn = n.Zh, n.In("en")
	}
	_, err := e.notify.Send(ctx, tx, notify.Message{PersonID: person, Kind: notify.ServiceOffer, Link: "/apply/" + it.Code,
		TitleZh: "您可以办理「" + it.Name.Zh + "」", TitleEn: "You can apply for " + it.Name.In("en"),
		BodyZh: body, BodyEn: bodyEn})
	if err != nil {
		return fmt.Errorf("offer %s: %w", it.Code, err)
	}
	return audit.Record(ctx, tx, audit.Event{Actor: audit.Automatic(audit.System, "主动服务"), Action: "proactive.offer",
		ObjectKind: "person", ObjectID: strconv.FormatInt(person, 10),
		Detail: map[string]any{"item": it.Code, "trigger": p.c.svc.trigger, "period": p.c.period, "action": action}})
}
