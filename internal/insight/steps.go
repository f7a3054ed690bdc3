package insight

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"yiwang/internal/store"
)

// Step is a back-office step done: where an application waited.
type Step struct {
	Department, StepID, NameZh, NameEn string
	Opened, Done                       time.Time
}

// CountStep adds a step done to the bottleneck rollup inside tx, the
// transaction that records it done.
func CountStep(ctx context.Context, tx *sql.Tx, s Step) error {
	return addStep(ctx, tx, Day(s.Done), s, 1, waitHours(s))
}

func waitHours(s Step) int64 { return int64(max(s.Done.Sub(s.Opened), 0) / time.Hour) }

func addStep(ctx context.Context, tx *sql.Tx, day string, s Step, done, hours int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO insight_steps (day, department, step_id, name_zh, name_en, done, wait_hours) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (day, department, step_id) DO UPDATE SET done = insight_steps.done + excluded.done, wait_hours = insight_steps.wait_hours + excluded.wait_hours`,
		day, s.Department, s.StepID, s.NameZh, s.NameEn, done, hours)
	if err != nil {
		return fmt.Errorf("insight: count step %s of %s: %w", s.StepID, s.Department, err)
	}
	return nil
}

// rebuildSteps recomputes the bottleneck rollup from the steps done, inside tx.
func rebuildSteps(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM insight_steps`); err != nil {
		return err
	}
	type stepKey struct{ day, department, step string }
	type sum struct {
		s           Step
		done, hours int64
	}
	sums := map[stepKey]*sum{}
	steps, err := store.All(ctx, tx, func(row store.Scanner) (Step, error) {
		var s Step
		return s, row.Scan(&s.Department, &s.StepID, &s.NameZh, &s.NameEn, &s.Opened, &s.Done)
	}, `SELECT department, step_id, name_zh, name_en, opened_at, done_at FROM tasks WHERE done_at IS NOT NULL AND opened_at IS NOT NULL ORDER BY id`)
	if err != nil {
		return err
	}
	var order []stepKey
	for _, s := range steps {
		k := stepKey{Day(s.Done), s.Department, s.StepID}
		if sums[k] == nil {
			sums[k] = &sum{s: s}
			order = append(order, k)
		}
		sums[k].done++
		sums[k].hours += waitHours(s)
	}
	for _, k := range order {
		if err := addStep(ctx, tx, k.day, sums[k].s, sums[k].done, sums[k].hours); err != nil {
			return err
		}
	}
	return nil
}

// Bottleneck is a step of a department and how long applications waited
// at it, on average, in the view's days.
type Bottleneck struct {
	Department string  `json:"department"`
	DeptZh     string  `json:"department_zh"`
	DeptEn     string  `json:"department_en"`
	StepID     string  `json:"step_id"`
	NameZh     string  `json:"name_zh"`
	NameEn     string  `json:"name_en"`
	Done       int64   `json:"done"`
	MeanHours  float64 `json:"mean_hours"`
}

// bottlenecks are the ten steps with the longest mean wait in f's days.
func (s *Service) bottlenecks(ctx context.Context, f Filter) ([]Bottleneck, error) {
	args := []any{f.From, f.To}
	where := "s.day >= $1 AND s.day <= $2"
	if f.Department != "" {
		args = append(args, f.Department)
		where += " AND s.department = $3"
	}
	return orEmpty(store.All(ctx, s.db, func(row store.Scanner) (Bottleneck, error) {
		var b Bottleneck
		var hours int64
		err := row.Scan(&b.Department, &b.DeptZh, &b.DeptEn, &b.StepID, &b.NameZh, &b.NameEn, &b.Done, &hours)
		b.MeanHours = ratio(hours, b.Done)
		return b, err
	}, `SELECT s.department, COALESCE(d.name_zh, s.department), COALESCE(d.name_en, s.department), s.step_id, MIN(s.name_zh), MIN(s.name_en), SUM(s.done), SUM(s.wait_hours)
		FROM insight_steps s LEFT JOIN departments d ON d.code = s.department WHERE `+where+`
		GROUP BY s.department, d.name_zh, d.name_en, s.step_id ORDER BY SUM(s.wait_hours) * 1.0 / SUM(s.done) DESC, s.department, s.step_id LIMIT 10`, args...))
}

func orEmpty[T any](list []T, err error) ([]T, error) {
	if list == nil && err == nil {
		list = []T{}
	}
	return list, err
}
