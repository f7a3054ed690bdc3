package hub

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// The hand-written encoder must give the bytes json.Marshal gives, so that
// records sealed in bulk are the records Put seals.
func TestAppendRecordIsJSONMarshal(t *testing.T) {
	recs := []Record{
		nil,
		{},
		{"name": "张三", "id_number": "91010219600315123X", "alive": true, "children_count": 2, "area": 96.5},
		{"n64": int64(-7), "zero": 0.0, "neg0": math.Copysign(0, -1), "tiny": 1e-7, "huge": 1e22, "big": 123456789012.25, "third": 1.0 / 3},
		{"list": []string{"a", "<b>", "c\"d"}, "empty": []string{}, "none": []string(nil), "null": nil},
		{"html": "<a href='x'>&</a>", "ctl": "tab\there\nnew\x01", "back": `C:\dir`, "sep": "a\u2028b\u2029c", "bad": "a\xffb"},
		{"<key>": "v", "键": "值", "b": "2", "a": "1"},
		{"other": map[string]any{"x": 1}, "t": time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC), "ints": []int{1, 2}},
	}
	var keys []string
	for _, rec := range recs {
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendRecord([]byte("prefix"), &keys, rec)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "prefix"+string(want) {
			t.Errorf("appendRecord(%v) = %s, want %s", rec, got[len("prefix"):], want)
		}
	}
	if _, err := appendRecord(nil, &keys, Record{"nan": math.NaN()}); err == nil {
		t.Error("appendRecord encoded NaN")
	}
}
