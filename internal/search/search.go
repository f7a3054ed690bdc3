// Package search finds published service items by what people type — in
// Chinese or English — and counts what they type, so the portal can show hot
// words and catalogue administrators can see which searches find nothing.
//
// The index lives in memory and is rebuilt from the catalogue with Replace:
// the catalogue holds at most a few thousand items, so a rebuild is cheaper
// and simpler than keeping a persistent index in step with the database.
// Every process of a PostgreSQL deployment therefore keeps its own index; the
// query counts live in the shared database.
package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"yiwang/internal/apperr"
)

// Limits on what a caller may ask for.
const (
	MaxQueryRunes = 100 // longer queries are refused: nobody types a paragraph into a search box
	DefaultLimit  = 20  // results or hot words returned when no limit is given
	MaxLimit      = 100 // the most results or hot words one call returns
)

// normalize returns the form in which a query is counted: trimmed, runs of
// white space (including the ideographic space U+3000) collapsed to one
// space, and Latin letters lower-cased, so "Senior  Card" and "senior card"
// are one hot word. Chinese has no case and is left alone.
func normalize(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Latin, r) {
			return unicode.ToLower(r)
		}
		return r
	}, q)
}

// checkQuery normalises q and refuses an empty or overlong one.
func checkQuery(q string) (string, error) {
	q = normalize(q)
	if q == "" {
		return "", apperr.New(apperr.Invalid, apperr.EmptyQuery, "the search query is empty: type a word to search for, for example 落户 or senior")
	}
	if n := utf8.RuneCountInString(q); n > MaxQueryRunes {
		return "", apperr.New(apperr.Invalid, apperr.QueryTooLong, "the search query is %d characters long; shorten it to at most %d", n, MaxQueryRunes)
	}
	return q, nil
}

// clampLimit turns a missing or excessive limit into one the index and the
// database can serve; the HTTP layer refuses bad limits before they get here.
func clampLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultLimit
	case limit > MaxLimit:
		return MaxLimit
	}
	return limit
}
