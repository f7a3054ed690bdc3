package ident

import (
	"strings"
	"testing"
	"time"
)

func TestParseIDNumber(t *testing.T) {
	tests := []struct {
		id, want string // want: "" valid, else part of the error
		sex      string
		birth    string
	}{
		{"11010519491231002X", "", "female", "1949-12-31"}, // the standard's own example
		{"11010519491231002x", "", "female", "1949-12-31"},
		{"110105194912310021", "check character", "", ""},
		{"11010519491331002X", "birth date", "", ""},
		{"11010518491231002X", "not plausible", "", ""},
		{"1101051949123100", "18 characters", "", ""},
		{"1101051949A231002X", "must be a digit", "", ""},
	}
	for _, tt := range tests {
		p, err := ParseIDNumber(tt.id)
		if tt.want == "" {
			if err != nil || p.Sex != tt.sex || p.BirthDate.Format("2006-01-02") != tt.birth || p.Region != "110105" {
				t.Errorf("%s: %+v, %v", tt.id, p, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.id, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), tt.id[:10]) {
			t.Errorf("error repeats the number: %v", err)
		}
	}
}

func TestAgeOn(t *testing.T) {
	p, _ := ParseIDNumber("11010519491231002X")
	if got := p.AgeOn(time.Date(2009, 12, 30, 0, 0, 0, 0, time.UTC)); got != 59 {
		t.Errorf("age the day before the 60th birthday = %d", got)
	}
	if got := p.AgeOn(time.Date(2009, 12, 31, 0, 0, 0, 0, time.UTC)); got != 60 {
		t.Errorf("age on the 60th birthday = %d", got)
	}
}

func FuzzParseIDNumber(f *testing.F) {
	f.Add("11010519491231002X")
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := ParseIDNumber(s); err == nil {
			c, _ := IDNumberCheck(s[:17])
			if last := NormalizeIDNumber(s)[17]; last != c {
				t.Errorf("accepted %q with a wrong check character", s)
			}
		}
	})
}
