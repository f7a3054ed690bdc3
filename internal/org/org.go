// Package org is the directory of the government that runs the platform:
// administrative regions (district → street → community) and the departments
// that own service items and review steps.
package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/store"
)

// Region is an administrative division identified by its GB/T 2260-style code.
type Region struct {
	Code       string `json:"code"`
	ParentCode string `json:"parent_code,omitempty"`
	Level      string `json:"level"` // city, district, street, community
	NameZh     string `json:"name_zh"`
	NameEn     string `json:"name_en"`
}

// Department is a government body that owns items and review steps.
type Department struct {
	Code       string `json:"code"`
	RegionCode string `json:"region_code"`
	NameZh     string `json:"name_zh"`
	NameEn     string `json:"name_en"`
}

// Store reads and writes the directory.
type Store struct{ db *sql.DB }

// NewStore returns a Store on db.
func NewStore(db *sql.DB) *Store { return &Store{db: db} }

// Regions lists every region, parents before children.
func (s *Store) Regions(ctx context.Context) ([]Region, error) {
	out, err := store.All(ctx, s.db, func(row store.Scanner) (Region, error) {
		var r Region
		err := row.Scan(&r.Code, &r.ParentCode, &r.Level, &r.NameZh, &r.NameEn)
		return r, err
	}, `SELECT code, COALESCE(parent_code, ''), level, name_zh, name_en FROM regions ORDER BY length(code), code`)
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	return out, nil
}

// Departments lists every department by code.
func (s *Store) Departments(ctx context.Context) ([]Department, error) {
	out, err := store.All(ctx, s.db, scanDepartment, `SELECT code, region_code, name_zh, name_en FROM departments ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	return out, nil
}

func scanDepartment(row store.Scanner) (Department, error) {
	var d Department
	err := row.Scan(&d.Code, &d.RegionCode, &d.NameZh, &d.NameEn)
	return d, err
}

// Department returns the department with code, or an apperr.NotFound error.
func (s *Store) Department(ctx context.Context, code string) (Department, error) {
	d, err := scanDepartment(s.db.QueryRowContext(ctx, `SELECT code, region_code, name_zh, name_en FROM departments WHERE code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return d, apperr.New(apperr.NotFound, apperr.DepartmentNotFound, "no department has the code %q", code)
	}
	if err != nil {
		return d, fmt.Errorf("get department %s: %w", code, err)
	}
	return d, nil
}

// execer is what writes need: a *sql.DB or the *sql.Tx of a larger change.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// PutRegion inserts or updates a region.
func PutRegion(ctx context.Context, tx execer, r Region) error {
	var parent any
	if r.ParentCode != "" {
		parent = r.ParentCode
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO regions (code, parent_code, level, name_zh, name_en) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (code) DO UPDATE SET parent_code = excluded.parent_code, level = excluded.level, name_zh = excluded.name_zh, name_en = excluded.name_en`,
		r.Code, parent, r.Level, r.NameZh, r.NameEn)
	if err != nil {
		return fmt.Errorf("put region %s: %w", r.Code, err)
	}
	return nil
}

// PutDepartment inserts or updates a department.
func PutDepartment(ctx context.Context, tx execer, d Department) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO departments (code, region_code, name_zh, name_en, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (code) DO UPDATE SET region_code = excluded.region_code, name_zh = excluded.name_zh, name_en = excluded.name_en`,
		d.Code, d.RegionCode, d.NameZh, d.NameEn, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("put department %s: %w", d.Code, err)
	}
	return nil
}

// Hall is a service hall (政务服务大厅) and its windows.
type Hall struct {
	ID         int64    `json:"id"`
	Code       string   `json:"code"`
	RegionCode string   `json:"region_code"`
	NameZh     string   `json:"name_zh"`
	NameEn     string   `json:"name_en"`
	Address    string   `json:"address,omitempty"`
	Windows    []Window `json:"windows"`
}

// Window is a numbered service window in a hall.
type Window struct {
	Number string `json:"number"`
	NameZh string `json:"name_zh"`
	NameEn string `json:"name_en"`
}

// Halls lists the service halls with their windows.
func (s *Store) Halls(ctx context.Context) ([]Hall, error) {
	type hallWindow struct {
		hall        Hall
		num, zh, en sql.NullString
	}
	rows, err := store.All(ctx, s.db, func(row store.Scanner) (hallWindow, error) {
		var r hallWindow
		err := row.Scan(&r.hall.ID, &r.hall.Code, &r.hall.RegionCode, &r.hall.NameZh, &r.hall.NameEn, &r.hall.Address, &r.num, &r.zh, &r.en)
		return r, err
	}, `SELECT h.id, h.code, h.region_code, h.name_zh, h.name_en, h.address, w.number, w.name_zh, w.name_en
		FROM halls h LEFT JOIN hall_windows w ON w.hall_id = h.id ORDER BY h.code, w.number`)
	if err != nil {
		return nil, fmt.Errorf("list halls: %w", err)
	}
	var out []Hall
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].ID != r.hall.ID {
			r.hall.Windows = []Window{}
			out = append(out, r.hall)
		}
		if r.num.Valid {
			last := &out[len(out)-1]
			last.Windows = append(last.Windows, Window{Number: r.num.String, NameZh: r.zh.String, NameEn: r.en.String})
		}
	}
	return out, nil
}

// PutHall creates or renames a hall in a region of the directory.
func (s *Store) PutHall(ctx context.Context, h Hall) error {
	if h.Code == "" || h.NameZh == "" {
		return apperr.New(apperr.Invalid, apperr.HallIncomplete, "a hall needs a code and a Chinese name")
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM regions WHERE code = $1`, h.RegionCode).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.Invalid, apperr.UnknownRegion, "region %q is not in the directory", h.RegionCode)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO halls (code, region_code, name_zh, name_en, address) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (code) DO UPDATE SET region_code = excluded.region_code, name_zh = excluded.name_zh, name_en = excluded.name_en, address = excluded.address`,
		h.Code, h.RegionCode, h.NameZh, h.NameEn, h.Address)
	return err
}

// PutWindow creates or renames a window of a hall.
func (s *Store) PutWindow(ctx context.Context, hallCode string, w Window) error {
	if w.Number == "" || w.NameZh == "" {
		return apperr.New(apperr.Invalid, apperr.WindowIncomplete, "a window needs a number and a Chinese name")
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO hall_windows (hall_id, number, name_zh, name_en)
		SELECT id, $2, $3, $4 FROM halls WHERE code = $1
		ON CONFLICT (hall_id, number) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en`, hallCode, w.Number, w.NameZh, w.NameEn)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, apperr.HallNotFound, "no hall has the code %q", hallCode)
	}
	return nil
}
