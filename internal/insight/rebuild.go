package insight

import (
	"context"
	"database/sql"
	"time"

	"yiwang/internal/store"
)

// Rebuild recomputes the rollups from the applications' timelines, in one
// transaction: for data written before the rollups existed, or in bulk
// (the demo history). Every counted move is tallied as Count tallies it,
// so a rebuild gives what counting as they happened gave; the sums are
// made in memory and written once per row. It returns how many moves it
// counted.
func Rebuild(ctx context.Context, db *store.DB, cal Calendar) (int, error) {
	n := 0
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"insight_daily", "insight_monthly"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table); err != nil {
				return err
			}
		}
		versions, err := store.All(ctx, tx, store.Value[int64], `SELECT DISTINCT version_id FROM applications`)
		if err != nil {
			return err
		}
		items := map[int64]item{}
		for _, id := range versions {
			if items[id], err = readItem(ctx, tx, id); err != nil {
				return err
			}
		}
		daily, monthly := sums{}, sums{}
		err = moves(ctx, tx, func(e Event) {
			n++
			k, c := tally(items[e.VersionID], cal, e)
			daily.add(k, c)
			monthly.add(k.month(), c)
		})
		if err != nil {
			return err
		}
		for _, s := range []struct {
			table string
			sums  sums
		}{{"insight_daily", daily}, {"insight_monthly", monthly}} {
			for k, c := range s.sums {
				if err := add(ctx, tx, s.table, k, c); err != nil {
					return err
				}
			}
		}
		return rebuildSteps(ctx, tx)
	})
	return n, err
}

// moves calls each with every move of the timeline that Count counts,
// oldest first per application, with when the clock stopped before each
// restart. each must not use tx: the rows are still being read.
func moves(ctx context.Context, tx *sql.Tx, each func(Event)) error {
	rows, err := tx.QueryContext(ctx, `SELECT e.application_id, e.at, e.from_status, e.to_status, e.actor_kind,
			a.item_code, a.version_id, COALESCE(a.number, ''), a.channel, a.submitted_at, a.deadline, a.materials_attached, a.fields_prefilled
		FROM application_events e JOIN applications a ON a.id = e.application_id
		WHERE e.from_status <> e.to_status
		ORDER BY e.application_id, e.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var app int64
	var stopped *time.Time
	for rows.Next() {
		var e Event
		var id int64
		var actor string
		var submitted, deadline sql.NullTime
		if err := rows.Scan(&id, &e.At, &e.From, &e.To, &actor, &e.ItemCode, &e.VersionID, &e.Number, &e.Channel,
			&submitted, &deadline, &e.MaterialsSaved, &e.FieldsPrefilled); err != nil {
			return err
		}
		if id != app {
			app, stopped = id, nil
		}
		e.Machine = actor == "machine"
		if submitted.Valid {
			e.SubmittedAt = &submitted.Time
		}
		if deadline.Valid {
			e.Deadline = &deadline.Time
		}
		e.StoppedAt = stopped
		if e.To == "correction_requested" || e.To == "special_procedure" {
			at := e.At
			stopped = &at
		}
		if Counted(e.From, e.To) {
			each(e)
		}
	}
	return rows.Err()
}

// sums are rollup rows summed in memory.
type sums map[key]map[string]int64

func (s sums) add(k key, c map[string]int64) {
	sum, ok := s[k]
	if !ok {
		sum = map[string]int64{}
		s[k] = sum
	}
	for name, v := range c {
		sum[name] += v
	}
}
