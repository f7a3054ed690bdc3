// Package insight is the service-performance dashboard (政务服务效能): how
// many applications came in and were finished, how fast, how many were
// decided by the machine, how much the applicant did not have to bring or
// type. Its figures come from rollups (table insight_daily) that the
// application package updates in the transaction that moves an
// application (Count), so a view reads a few rows per day and never the
// applications table. Rebuild recomputes them once from the timeline.
package insight

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"yiwang/internal/workday"
)

// Calendar counts working days (*workday.Calendar).
type Calendar interface {
	// WorkdaysLeft counts the working days after from's day up to and
	// including to's day.
	WorkdaysLeft(from, to time.Time) (int, error)
}

// Event is one move of an application, with what the rollups need of it.
type Event struct {
	At       time.Time // when it moved
	From, To string    // statuses (workflow.Status values)
	Machine  bool      // moved by the machine (秒批)

	ItemCode  string
	VersionID int64  // the catalogue version the application pins
	Number    string // the application number, whose prefix is its region
	Channel   string // web, mobile, kiosk, window, bank

	SubmittedAt *time.Time // for a decision: working days are counted from it
	Deadline    *time.Time // for a decision: later is late
	StoppedAt   *time.Time // for a restart: when the clock stopped

	MaterialsSaved  int // materials attached from licences and registries (免提交)
	FieldsPrefilled int // form fields filled from the registries (免填写)
}

// Counted reports whether a move from one status to another changes a
// rollup; the caller builds an Event only then.
func Counted(from, to string) bool {
	return received(from, to) || finished(from, to) || restarted(from, to)
}

func received(from, to string) bool { return from == "draft" && to == "submitted" }

func finished(from, to string) bool {
	switch to {
	case "approved", "rejected", "not_accepted":
		return !decided(from)
	}
	return false
}

func decided(status string) bool {
	switch status {
	case "approved", "rejected", "not_accepted", "licence_issued", "delivered", "withdrawn", "revoked":
		return true
	}
	return false
}

// restarted is the clock starting again after a correction or a special
// procedure (a withdrawal or refusal then ends it instead).
func restarted(from, to string) bool {
	return (from == "correction_requested" || from == "special_procedure") && (to == "submitted" || to == "under_review")
}

// Buckets are the upper bounds, in working days taken from submission to
// decision, of the histogram columns w0..w9; the last is open.
var Buckets = []int{0, 1, 2, 3, 5, 10, 15, 20, 30, -1}

func bucket(days int) int {
	for i, b := range Buckets[:len(Buckets)-1] {
		if days <= b {
			return i
		}
	}
	return len(Buckets) - 1
}

// item is what the rollups need of a catalogue version.
type item struct {
	Department string `json:"department"`
	Visits     int    `json:"visits"`
	TimeLimit  struct {
		StatutoryDays int `json:"statutory_days"`
		PromisedDays  int `json:"promised_days"`
	} `json:"time_limit"`
}

func readItem(ctx context.Context, tx *sql.Tx, versionID int64) (item, error) {
	var it item
	var content string
	if err := tx.QueryRowContext(ctx, `SELECT content_json FROM catalog_versions WHERE id = $1`, versionID).Scan(&content); err != nil {
		return it, fmt.Errorf("insight: catalogue version %d: %w", versionID, err)
	}
	if err := json.Unmarshal([]byte(content), &it); err != nil {
		return it, fmt.Errorf("insight: catalogue version %d: %w", versionID, err)
	}
	return it, nil
}

// Day is the China-time date of t, as the rollups key it.
func Day(t time.Time) string { return t.In(workday.CST).Format(time.DateOnly) }

// regionOf is the region an application was numbered in.
func regionOf(number string) string {
	region, _, _ := strings.Cut(number, "-")
	return region
}

// workdays counts the working days from from to to, by calendar days where
// the calendar cannot say (a year not loaded): a figure, never a failure
// of the move it is counted in.
func workdays(cal Calendar, from, to time.Time) int {
	n, err := cal.WorkdaysLeft(from, to)
	if err != nil {
		n = int(to.Sub(from).Hours() / 24)
	}
	return max(n, 0)
}

// Count adds e to the rollups inside tx, the transaction that moves the
// application: the figures change exactly when the move commits.
func Count(ctx context.Context, tx *sql.Tx, cal Calendar, e Event) error {
	if !Counted(e.From, e.To) {
		return nil
	}
	it, err := readItem(ctx, tx, e.VersionID)
	if err != nil {
		return err
	}
	k, c := tally(it, cal, e)
	for _, r := range []struct {
		table string
		k     key
	}{{"insight_daily", k}, {"insight_monthly", k.month()}} {
		if err := add(ctx, tx, r.table, r.k, c); err != nil {
			return err
		}
	}
	return nil
}

// tally is the rollup row e counts in and what it adds to its counters.
func tally(it item, cal Calendar, e Event) (key, map[string]int64) {
	c := map[string]int64{}
	switch {
	case received(e.From, e.To):
		c["received"] = 1
		switch it.Visits {
		case 0:
			c["zero_visit"] = 1
		case 1:
			c["one_visit"] = 1
		}
		c["materials_saved"], c["fields_prefilled"] = int64(e.MaterialsSaved), int64(e.FieldsPrefilled)
	case finished(e.From, e.To):
		c["finished"] = 1
		c[e.To] = 1
		if e.To == "approved" && e.Machine {
			c["machine_approved"] = 1
		}
		if e.Deadline != nil && e.At.After(*e.Deadline) {
			c["late"] = 1
		} else {
			c["on_time"] = 1
		}
		taken := 0
		if e.SubmittedAt != nil {
			taken = workdays(cal, *e.SubmittedAt, e.At)
		}
		c["workdays_sum"] = int64(taken)
		c[fmt.Sprintf("w%d", bucket(taken))] = 1
		c["promised_days_sum"], c["statutory_days_sum"] = int64(it.TimeLimit.PromisedDays), int64(it.TimeLimit.StatutoryDays)
	case restarted(e.From, e.To):
		c["stops"] = 1
		if e.StoppedAt != nil {
			c["days_lost"] = int64(workdays(cal, *e.StoppedAt, e.At))
		}
	}
	return key{Day(e.At), it.Department, e.ItemCode, regionOf(e.Number), e.Channel}, c
}

// key is a rollup row's key.
type key struct{ day, department, item, region, channel string }

// month is the key of k's row in insight_monthly.
func (k key) month() key {
	return key{day: k.day[:8] + "01", department: k.department, channel: k.channel}
}

// add increments the counters c of the row k of table (insight_daily or
// insight_monthly), creating it if need be.
func add(ctx context.Context, tx *sql.Tx, table string, k key, c map[string]int64) error {
	cols := []string{"day", "department", "item_code", "region", "channel"}
	args := []any{k.day, k.department, k.item, k.region, k.channel}
	var sets []string
	for _, name := range counters {
		if v, ok := c[name]; ok {
			args = append(args, v)
			cols = append(cols, name)
			sets = append(sets, fmt.Sprintf("%s = %s.%s + excluded.%s", name, table, name, name))
		}
	}
	marks := make([]string, len(args))
	for i := range marks {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (`+strings.Join(cols, ", ")+`) VALUES (`+strings.Join(marks, ", ")+`)
		ON CONFLICT (day, department, item_code, region, channel) DO UPDATE SET `+strings.Join(sets, ", "), args...)
	if err != nil {
		return fmt.Errorf("insight: count %v: %w", k, err)
	}
	return nil
}

// counters are the counter columns of insight_daily, in a fixed order.
var counters = []string{"received", "zero_visit", "one_visit", "materials_saved", "fields_prefilled",
	"finished", "approved", "rejected", "not_accepted", "machine_approved", "on_time", "late",
	"workdays_sum", "promised_days_sum", "statutory_days_sum",
	"w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9", "stops", "days_lost"}
