package credit_test

import (
	"strings"
	"testing"
	"time"

	"yiwang/internal/credit"
)

// TestConfigFile: an operator's file changes what it names and keeps the
// defaults for the rest; a wrong key or value is refused, naming it.
func TestConfigFile(t *testing.T) {
	c, err := credit.ParseConfig([]byte("weights: {overdue_supplement: 25}\nhalf_life_days: 180\nlevels: {B: 5, C: 20, D: 50}\nrepair_after_days: {false_commitment: 365}\n"))
	if err != nil {
		t.Fatal(err)
	}
	def := credit.DefaultConfig()
	if c.Weights[credit.OverdueSupplement] != 25 || c.Weights[credit.FalseCommitment] != def.Weights[credit.FalseCommitment] {
		t.Errorf("weights %v", c.Weights)
	}
	if c.HalfLife != 180*24*time.Hour || c.B != 5 || c.C != 20 || c.D != 50 || c.RedListYears != def.RedListYears {
		t.Errorf("config %+v", c)
	}
	if c.RepairAfter[credit.FalseCommitment] != 365*24*time.Hour || c.RepairAfter[credit.OverdueSupplement] != def.RepairAfter[credit.OverdueSupplement] {
		t.Errorf("repair after %v", c.RepairAfter)
	}
	for _, bad := range []struct{ file, want string }{
		{"weights: {speeding: 10}", `"speeding" is not a kind`},
		{"weights: {false_commitment: -1}", "weights.false_commitment"},
		{"half_life_days: 0", "half_life_days"},
		{"levels: {B: 30, C: 20, D: 50}", "must rise"},
		{"red_list_years: -1", "red_list_years"},
		{"repair_after_days: {spot_check_failed: -5}", "repair_after_days.spot_check_failed"},
		{"halflife: 3", "field halflife not found"},
	} {
		if _, err := credit.ParseConfig([]byte(bad.file)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want an error naming %q", bad.file, err, bad.want)
		}
	}
	if c, err := credit.LoadConfig(""); err != nil || c.B != def.B {
		t.Errorf("no file: %+v %v", c, err)
	}
}
