package portal

import (
	"testing"

	"yiwang/internal/catalog"
)

func TestLocalPathKeepsRedirectsOnTheSite(t *testing.T) {
	for _, tc := range []struct{ next, want string }{
		{"/me/applications?lang=en", "/me/applications?lang=en"},
		{"", "/"},
		{"https://evil.example/", "/"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"me", "/"},
	} {
		if got := localPath(tc.next, "/"); got != tc.want {
			t.Errorf("localPath(%q) = %q, want %q", tc.next, got, tc.want)
		}
	}
}

func TestParseValueByFieldType(t *testing.T) {
	table := catalog.Field{ID: "rows", Type: "table", Columns: []catalog.Field{{ID: "name", Type: "text"}, {ID: "share", Type: "number"}}}
	for _, tc := range []struct {
		f       catalog.Field
		in      string
		want    string // formValue of the result
		ok, bad bool
	}{
		{catalog.Field{Type: "text"}, "  张三 ", "张三", true, false},
		{catalog.Field{Type: "text"}, "  ", "", false, false},
		{catalog.Field{Type: "number"}, "12.5", "12.5", true, false},
		{catalog.Field{Type: "number", Label: catalog.Text{Zh: "金额"}}, "twelve", "", false, true},
		{catalog.Field{Type: "bool"}, "true", "true", true, false},
		{catalog.Field{Type: "bool"}, "", "false", true, false},
		{table, "张三, 60\n李四，40\n", "张三, 60\n李四, 40", true, false},
	} {
		v, ok, err := tc.f.ParsePosted(tc.in)
		if (err != nil) != tc.bad || ok != tc.ok {
			t.Errorf("ParsePosted(%s, %q) = %v, %v, %v", tc.f.Type, tc.in, v, ok, err)
			continue
		}
		if got := formValue(v); ok && got != tc.want {
			t.Errorf("ParsePosted(%s, %q) shows as %q, want %q", tc.f.Type, tc.in, got, tc.want)
		}
	}
}
