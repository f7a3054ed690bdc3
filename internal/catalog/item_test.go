package catalog_test

import (
	"testing"

	"yiwang/internal/catalog"
)

// TestFieldShown: pages show a form value by the catalogue's words, never
// by its code or as a Go value.
func TestFieldShown(t *testing.T) {
	ownership := catalog.Field{ID: "ownership", Options: []catalog.Answer{{Value: "sole", Label: catalog.Text{Zh: "单独所有", En: "Sole"}}}}
	buyers := catalog.Field{ID: "buyers", Columns: []catalog.Field{
		{ID: "name", Label: catalog.Text{Zh: "姓名", En: "Name"}}, {ID: "share", Label: catalog.Text{Zh: "份额", En: "Share"}}}}
	for _, tt := range []struct {
		f    catalog.Field
		v    any
		lang string
		want string
	}{
		{ownership, "sole", "zh", "单独所有"},
		{ownership, "sole", "en", "Sole"},
		{ownership, "joint", "zh", "joint"}, // not an option: as typed
		{catalog.Field{}, 96.5, "zh", "96.5"},
		{catalog.Field{}, true, "zh", "是"},
		{catalog.Field{}, nil, "zh", ""},
		{buyers, []any{map[string]any{"share": 100.0, "name": "王五"}}, "zh", "姓名：王五，份额：100"},
	} {
		if got := tt.f.Shown(tt.v, tt.lang); got != tt.want {
			t.Errorf("%s.Shown(%v, %s) = %q, want %q", tt.f.ID, tt.v, tt.lang, got, tt.want)
		}
	}
}
