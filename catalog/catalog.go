// Package catalog embeds the bundled demo catalogue — departments.yaml,
// licences.yaml, items/ and bundles/ — so that `yiwang serve` can seed an empty
// database with it. The files are ordinary catalogue files: validate them
// with `yiwang catalog validate catalog`. Everything in them is fictional
// demonstration content.
package catalog

import "embed"

// Demo is the demo catalogue folder.
//
//go:embed departments.yaml licences.yaml items bundles
var Demo embed.FS
