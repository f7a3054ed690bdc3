package workday

import (
	"embed"
	"fmt"
	"io/fs"
)

// data holds the years shipped with yiwang, one file per year (YYYY.yaml),
// copied from the State Council's notices.
//
//go:embed data/*.yaml
var data embed.FS

// Embedded returns the years shipped with yiwang, checked as an
// administrator's file would be.
func Embedded() ([]Year, error) {
	files, err := fs.Glob(data, "data/*.yaml")
	if err != nil {
		return nil, err
	}
	var years []Year
	for _, f := range files {
		b, err := data.ReadFile(f)
		if err != nil {
			return nil, err
		}
		n, err := ParseYAML(b)
		if err != nil {
			return nil, fmt.Errorf("embedded %s: %w", f, err)
		}
		y, err := n.Parse()
		if err != nil {
			return nil, fmt.Errorf("embedded %s: %w", f, err)
		}
		if want := f[len("data/") : len(f)-len(".yaml")]; fmt.Sprint(y.Year) != want {
			return nil, fmt.Errorf("embedded %s holds the year %d", f, y.Year)
		}
		y.Origin = OriginEmbedded
		years = append(years, y)
	}
	return years, nil
}

// Where a year's arrangement came from.
const (
	OriginEmbedded = "embedded" // shipped with yiwang
	OriginLoaded   = "loaded"   // loaded by an administrator
)

// Shipped is the calendar of the embedded years alone: for tools and tests
// that count working days without a database.
func Shipped() (*Calendar, error) {
	years, err := Embedded()
	if err != nil {
		return nil, err
	}
	return NewCalendar(years...)
}
