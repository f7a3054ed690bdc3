package kiosk_test

import (
	"slices"
	"strings"
	"testing"

	democatalog "yiwang/catalog"
	"yiwang/internal/catalog"
	"yiwang/internal/kiosk"
)

// TestKioskOffersEveryItemItCanComplete: of the demo catalogue's items with
// the kiosk channel, the kiosk offers those a person completes alone by
// touch, and not those needing a co-party, an enterprise or an upload.
func TestKioskOffersEveryItemItCanComplete(t *testing.T) {
	schemas, err := catalog.CompileSchemas()
	if err != nil {
		t.Fatal(err)
	}
	c, problems := schemas.LoadFS(democatalog.Demo)
	if len(problems) > 0 {
		t.Fatalf("the demo catalogue has problems: %v", problems)
	}
	var offered, kioskChannel []string
	for _, it := range c.Items {
		if slices.Contains(it.Item.Channels, "kiosk") {
			kioskChannel = append(kioskChannel, it.Item.Name.Zh)
		}
		if kiosk.Offered(it.Item) {
			offered = append(offered, it.Item.Name.Zh)
		}
	}
	t.Logf("the kiosk offers %v of the kiosk-channel items %v", offered, kioskChannel)
	for _, want := range []string{"无房证明", "老年人优待证"} {
		if !slices.ContainsFunc(offered, func(n string) bool { return strings.Contains(n, want) }) {
			t.Errorf("the kiosk does not offer %s; it offers %v of %v", want, offered, kioskChannel)
		}
	}
	for _, not := range []string{"租赁", "公司"} { // co-parties (landlord and tenant); an enterprise's
		if slices.ContainsFunc(offered, func(n string) bool { return strings.Contains(n, not) }) {
			t.Errorf("the kiosk offers an item with %s, which it cannot complete: %v", not, offered)
		}
	}
}
