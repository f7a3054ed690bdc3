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
	rows, err := s.db.QueryContext(ctx, `SELECT code, COALESCE(parent_code, ''), level, name_zh, name_en FROM regions ORDER BY length(code), code`)
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	defer rows.Close()
	var out []Region
	for rows.Next() {
		var r Region
		if err := rows.Scan(&r.Code, &r.ParentCode, &r.Level, &r.NameZh, &r.NameEn); err != nil {
			return nil, fmt.Errorf("list regions: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Departments lists every department by code.
func (s *Store) Departments(ctx context.Context) ([]Department, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT code, region_code, name_zh, name_en FROM departments ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	defer rows.Close()
	var out []Department
	for rows.Next() {
		var d Department
		if err := rows.Scan(&d.Code, &d.RegionCode, &d.NameZh, &d.NameEn); err != nil {
			return nil, fmt.Errorf("list departments: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Department returns the department with code, or an apperr.NotFound error.
func (s *Store) Department(ctx context.Context, code string) (Department, error) {
	var d Department
	err := s.db.QueryRowContext(ctx, `SELECT code, region_code, name_zh, name_en FROM departments WHERE code = $1`, code).
		Scan(&d.Code, &d.RegionCode, &d.NameZh, &d.NameEn)
	if errors.Is(err, sql.ErrNoRows) {
		return d, apperr.New(apperr.NotFound, "department_not_found", "no department has the code %q", code)
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
