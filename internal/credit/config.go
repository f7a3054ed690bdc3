package credit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// configFile is the YAML an operator writes (--credit-config): any part
// left out keeps its default (DefaultConfig). The blacklist's count of
// overdue supplements is --blacklist-after, not part of the file.
type configFile struct {
	Weights         map[string]float64 `yaml:"weights"`
	HalfLifeDays    *int               `yaml:"half_life_days"`
	Levels          *levelsFile        `yaml:"levels"`
	RedListYears    *int               `yaml:"red_list_years"`
	RepairAfterDays map[string]int     `yaml:"repair_after_days"`
}

type levelsFile struct {
	B float64 `yaml:"B"`
	C float64 `yaml:"C"`
	D float64 `yaml:"D"`
}

// kinds are the credit records' kinds a file may weigh.
var kinds = []string{FalseCommitment, SpotCheckFailed, OverdueSupplement}

// LoadConfig reads the credit configuration from path over the defaults;
// an empty path is the defaults. Every problem is named with its key.
func LoadConfig(path string) (Config, error) {
	c := DefaultConfig()
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("credit configuration: %w", err)
	}
	c, err = ParseConfig(b)
	if err != nil {
		return c, fmt.Errorf("credit configuration %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig reads a credit configuration file's content over the defaults.
func ParseConfig(b []byte) (Config, error) {
	c := DefaultConfig()
	var f configFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return c, err
	}
	var problems []error
	for kind, w := range f.Weights {
		if !slices.Contains(kinds, kind) {
			problems = append(problems, fmt.Errorf("weights: %q is not a kind of credit record (%v)", kind, kinds))
		} else if w < 0 {
			problems = append(problems, fmt.Errorf("weights.%s: %v is below 0", kind, w))
		} else {
			c.Weights[kind] = w
		}
	}
	if f.HalfLifeDays != nil {
		if *f.HalfLifeDays < 1 {
			problems = append(problems, fmt.Errorf("half_life_days: %d; a record's weight halves after at least 1 day", *f.HalfLifeDays))
		}
		c.HalfLife = time.Duration(*f.HalfLifeDays) * 24 * time.Hour
	}
	if l := f.Levels; l != nil {
		if !(0 < l.B && l.B < l.C && l.C < l.D) {
			problems = append(problems, fmt.Errorf("levels: B %v, C %v, D %v must rise from above 0", l.B, l.C, l.D))
		}
		c.B, c.C, c.D = l.B, l.C, l.D
	}
	if f.RedListYears != nil {
		if *f.RedListYears < 0 {
			problems = append(problems, fmt.Errorf("red_list_years: %d is below 0", *f.RedListYears))
		}
		c.RedListYears = *f.RedListYears
	}
	for kind, days := range f.RepairAfterDays {
		if !slices.Contains(kinds, kind) {
			problems = append(problems, fmt.Errorf("repair_after_days: %q is not a kind of credit record (%v)", kind, kinds))
		} else if days < 0 {
			problems = append(problems, fmt.Errorf("repair_after_days.%s: %d is below 0", kind, days))
		} else {
			c.RepairAfter[kind] = time.Duration(days) * 24 * time.Hour
		}
	}
	return c, errors.Join(problems...)
}
