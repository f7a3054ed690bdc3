package consult

import (
	"context"
	"slices"
	"strings"
	"sync"
	"unicode"

	"yiwang/internal/catalog"
	"yiwang/internal/search"
)

// FAQMatch is a catalogue FAQ that answers a question.
type FAQMatch struct {
	ItemCode   string       `json:"item_code"`
	ItemName   catalog.Text `json:"item_name"`
	Department string       `json:"department"`
	Q          catalog.Text `json:"q"`
	A          catalog.Text `json:"a"`
	Score      float64      `json:"score"`
}

// Matches are what the catalogue already says about a question: FAQ
// answers first, then guides.
type Matches struct {
	FAQs   []FAQMatch   `json:"faqs"`
	Guides []search.Hit `json:"guides"`
}

// faqCache holds the published items' FAQs, rebuilt when the catalogue's
// generation changes.
type faqCache struct {
	mu    sync.Mutex
	gen   string
	items []catalog.Item
}

func (s *Service) published(ctx context.Context) ([]catalog.Item, error) {
	gen, err := s.d.Catalog.Generation(ctx)
	if err != nil {
		return nil, err
	}
	s.faqs.mu.Lock()
	defer s.faqs.mu.Unlock()
	if gen == s.faqs.gen {
		return s.faqs.items, nil
	}
	vs, err := s.d.Catalog.Published(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]catalog.Item, 0, len(vs))
	for _, v := range vs {
		items = append(items, v.Item)
	}
	s.faqs.gen, s.faqs.items = gen, items
	return items, nil
}

// minFAQScore is how much of a question an FAQ's question must share to
// be shown: a third of its words (Chinese character pairs).
const minFAQScore = 0.34

// Match finds the FAQs whose question is like q, best first (at most 5),
// and the guides the search index finds for it.
func (s *Service) Match(ctx context.Context, q string) (Matches, error) {
	out := Matches{FAQs: []FAQMatch{}, Guides: []search.Hit{}}
	q = strings.TrimSpace(q)
	if q == "" {
		return out, nil
	}
	items, err := s.published(ctx)
	if err != nil {
		return out, err
	}
	qt := tokens(q)
	for _, it := range items {
		for _, f := range it.FAQ {
			score := max(overlap(qt, tokens(f.Q.Zh)), overlap(qt, tokens(f.Q.En)))
			if score >= minFAQScore {
				out.FAQs = append(out.FAQs, FAQMatch{ItemCode: it.Code, ItemName: it.Name, Department: it.Department, Q: f.Q, A: f.A, Score: score})
			}
		}
	}
	slices.SortStableFunc(out.FAQs, func(a, b FAQMatch) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ItemCode, b.ItemCode)
	})
	out.FAQs = out.FAQs[:min(len(out.FAQs), 5)]
	if s.d.Index != nil {
		// A question the index refuses (too long) just finds no guides.
		if hits, err := s.d.Index.Search(ctx, q, 5); err == nil {
			out.Guides = hits
		}
	}
	return out, nil
}

// normalise keeps a text's letters and digits, lower-case: how two people
// asking the same thing are told apart from punctuation and spacing.
func normalise(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// tokens are a text's words for comparing: pairs of adjacent Chinese
// characters (the search index's way too), and other words whole.
func tokens(s string) map[string]bool {
	out := map[string]bool{}
	var han []rune
	flush := func() {
		if len(han) == 1 {
			out[string(han)] = true
		}
		for i := 0; i+1 < len(han); i++ {
			out[string(han[i:i+2])] = true
		}
		han = han[:0]
	}
	var word strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.Is(unicode.Han, r):
			if word.Len() > 0 {
				out[word.String()] = true
				word.Reset()
			}
			han = append(han, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flush()
			word.WriteRune(r)
		default:
			flush()
			if word.Len() > 0 {
				out[word.String()] = true
				word.Reset()
			}
		}
	}
	flush()
	if word.Len() > 0 {
		out[word.String()] = true
	}
	return out
}

// overlap is the share of a's tokens that b has too.
func overlap(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n := 0
	for t := range a {
		if b[t] {
			n++
		}
	}
	return float64(n) / float64(len(a))
}

// similar says whether two questions ask the same thing: the same
// normalised text, or most words shared both ways.
func similar(a, b string) bool {
	if normalise(a) == normalise(b) {
		return true
	}
	ta, tb := tokens(a), tokens(b)
	return min(overlap(ta, tb), overlap(tb, ta)) >= 0.6
}
