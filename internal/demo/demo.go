// Package demo fills an empty database with a demonstration government — a
// fictional city and district (region codes in the unused 91 range), its
// streets, communities and departments — so that a fresh `yiwang serve` shows
// a working platform. Everything it creates is fictional and marked as demo.
package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"yiwang/internal/org"
	"yiwang/internal/store"
)

// seededKey is the settings key recording when demo data was seeded.
const seededKey = "demo_seeded_at"

// Seed fills db with demo data if it is empty, in one transaction, and
// reports whether it did. A database that has ever been seeded, or that holds
// departments of its own, is left alone.
func Seed(ctx context.Context, db *store.DB) (bool, error) {
	seeded := false
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var marker string
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, seededKey).Scan(&marker)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM departments`).Scan(&n); err != nil || n > 0 {
			return err
		}
		for _, r := range Regions {
			if err := org.PutRegion(ctx, tx, r); err != nil {
				return err
			}
		}
		for _, d := range Departments {
			if err := org.PutDepartment(ctx, tx, d); err != nil {
				return err
			}
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)`, seededKey, now.Format(time.RFC3339), now); err != nil {
			return err
		}
		seeded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("seed demo data: %w", err)
	}
	return seeded, nil
}

// District is the demo district's region code; its departments sit there.
const District = "910102"

// Regions is the demo city's administrative tree.
var Regions = []org.Region{
	{Code: "910100", Level: "city", NameZh: "示范市（演示）", NameEn: "Demo City (demo)"},
	{Code: District, ParentCode: "910100", Level: "district", NameZh: "明德区", NameEn: "Mingde District"},
	{Code: "910102001", ParentCode: District, Level: "street", NameZh: "福安街道", NameEn: "Fu'an Street"},
	{Code: "910102002", ParentCode: District, Level: "street", NameZh: "华强街道", NameEn: "Huaqiang Street"},
	{Code: "910102003", ParentCode: District, Level: "street", NameZh: "南园街道", NameEn: "Nanyuan Street"},
	{Code: "910102001001", ParentCode: "910102001", Level: "community", NameZh: "福安社区", NameEn: "Fu'an Community"},
	{Code: "910102001002", ParentCode: "910102001", Level: "community", NameZh: "新洲社区", NameEn: "Xinzhou Community"},
	{Code: "910102002001", ParentCode: "910102002", Level: "community", NameZh: "华强北社区", NameEn: "Huaqiang North Community"},
	{Code: "910102003001", ParentCode: "910102003", Level: "community", NameZh: "南园社区", NameEn: "Nanyuan Community"},
}

// Departments are the demo district's departments.
var Departments = []org.Department{
	{Code: "gsdb", RegionCode: District, NameZh: "明德区政务服务数据管理局", NameEn: "Government Services and Data Administration"},
	{Code: "psb", RegionCode: District, NameZh: "明德公安分局", NameEn: "Public Security Sub-bureau"},
	{Code: "traffic", RegionCode: District, NameZh: "明德交通警察大队（车管所）", NameEn: "Traffic Police Brigade (Vehicle Administration)"},
	{Code: "amr", RegionCode: District, NameZh: "明德区市场监督管理局", NameEn: "Administration for Market Regulation"},
	{Code: "hrss", RegionCode: District, NameZh: "明德区人力资源和社会保障局", NameEn: "Human Resources and Social Security Bureau"},
	{Code: "civil", RegionCode: District, NameZh: "明德区民政局", NameEn: "Civil Affairs Bureau"},
	{Code: "health", RegionCode: District, NameZh: "明德区卫生健康局", NameEn: "Health Commission"},
	{Code: "housing", RegionCode: District, NameZh: "明德区住房和建设局", NameEn: "Housing and Construction Bureau"},
	{Code: "planning", RegionCode: District, NameZh: "明德区规划和自然资源局", NameEn: "Planning and Natural Resources Bureau"},
	{Code: "realestate", RegionCode: District, NameZh: "明德区不动产登记中心", NameEn: "Real Estate Registration Centre"},
	{Code: "tax", RegionCode: District, NameZh: "国家税务总局明德区税务局", NameEn: "Taxation Bureau"},
	{Code: "transport", RegionCode: District, NameZh: "明德区交通运输局", NameEn: "Transport Bureau"},
	{Code: "eco", RegionCode: District, NameZh: "明德区生态环境局", NameEn: "Ecology and Environment Bureau"},
	{Code: "medins", RegionCode: District, NameZh: "明德区医疗保障局", NameEn: "Healthcare Security Bureau"},
	{Code: "fund", RegionCode: District, NameZh: "示范市住房公积金管理中心明德分中心", NameEn: "Housing Provident Fund Centre, Mingde Branch"},
	{Code: "disabled", RegionCode: District, NameZh: "明德区残疾人联合会", NameEn: "Disabled Persons' Federation"},
	{Code: "drc", RegionCode: District, NameZh: "明德区发展和改革局", NameEn: "Development and Reform Bureau"},
	{Code: "drug", RegionCode: District, NameZh: "明德区药品监督管理所", NameEn: "Drug Administration Office"},
}
