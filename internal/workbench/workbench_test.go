package workbench

import (
	"reflect"
	"testing"

	"yiwang/internal/application"
	"yiwang/internal/catalog"
)

func TestLightsAreWords(t *testing.T) {
	two, over := 2, -3
	tests := []struct {
		light application.Light
		left  any
		lang  string
		want  string
	}{
		{application.Yellow, &two, "zh", "黄灯：剩 2 个工作日"},
		{application.Red, over, "zh", "红灯：已超期 3 个工作日"},
		{application.Red, &over, "en", "Red: 3 working day(s) overdue"},
		{application.Paused, nil, "zh", "暂停计时"},
		{"", nil, "en", "No deadline"},
	}
	for _, tt := range tests {
		if got := lightText(tt.lang, tt.light, tt.left); got != tt.want {
			t.Errorf("lightText(%s, %s, %v) = %q, want %q", tt.lang, tt.light, tt.left, got, tt.want)
		}
	}
}

func TestTableRowsRoundTrip(t *testing.T) {
	f := catalog.Field{ID: "buyers", Label: catalog.Text{Zh: "受让人"}, Type: "table", Columns: []catalog.Field{
		{ID: "name", Type: "text"}, {ID: "id_number", Type: "text"}, {ID: "share", Type: "number"}}}
	rows, _, problem := f.ParsePosted("王五,110101198801013457,60\n\n 赵六 ， 110101199001011234 ，40 \n")
	if problem != nil {
		t.Fatal(problem)
	}
	want := []any{
		map[string]any{"name": "王五", "id_number": "110101198801013457", "share": 60.0},
		map[string]any{"name": "赵六", "id_number": "110101199001011234", "share": 40.0},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("ParsePosted = %v, want %v", rows, want)
	}
	if got := tableText(f, rows); got != "王五,110101198801013457,60\n赵六,110101199001011234,40" {
		t.Errorf("tableText = %q", got)
	}
	if _, _, problem := f.ParsePosted("王五,1,sixty"); problem == nil {
		t.Error("a share that is not a number was accepted")
	}
}

// TestModeTasksHaveTheirOwnForms: the inspection and an objection's review
// are told from the steps of the decision by their step ids.
func TestModeTasksHaveTheirOwnForms(t *testing.T) {
	for step, want := range map[string]string{"inspection": "inspection", "objection:7": "objection", "registration_review": "step", "accept": "step"} {
		if got := taskKind(application.Task{StepID: step}); got != want {
			t.Errorf("taskKind(%q) = %q, want %q", step, got, want)
		}
	}
}
