package consult

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/store"
)

// FrequentAfter is how many similar answered questions about one item make
// a suggested FAQ entry.
const FrequentAfter = 3

// FAQSuggestion is a question asked often enough about one item to become one
// of its FAQ entries.
type FAQSuggestion struct {
	ItemCode string       `json:"item_code"`
	ItemName catalog.Text `json:"item_name"`
	Key      string       `json:"key"` // names the suggestion for dismissing it
	Question string       `json:"question"`
	Answer   string       `json:"answer"` // the latest answer given
	Count    int          `json:"count"`
	// YAML is the entry to paste under the item's faq: list.
	YAML string `json:"yaml"`
}

type answered struct {
	id         int64
	item, text string
	answer     string
}

// Suggestions lists the frequent questions not yet dismissed, nor already
// like one of the item's FAQs, most asked first.
func (s *Service) Suggestions(ctx context.Context, p authz.Principal) ([]FAQSuggestion, error) {
	if err := authz.Require(p, authz.CatalogManage); err != nil {
		return nil, err
	}
	// The answered questions about an item, each with its latest answer.
	rows, err := store.All(ctx, s.d.DB, func(r store.Scanner) (answered, error) {
		var a answered
		var text, reply string
		if err := r.Scan(&a.id, &a.item, &text, &reply); err != nil {
			return a, err
		}
		var err error
		if a.text, err = s.open(text, colText); err != nil {
			return a, err
		}
		a.answer, err = s.open(reply, colReply)
		return a, err
	}, `SELECT c.id, c.item_code, c.text_enc, r.text_enc FROM consultations c
		JOIN consultation_replies r ON r.id = (SELECT max(id) FROM consultation_replies WHERE consultation_id = c.id)
		WHERE c.kind = 'question' AND c.item_code <> '' AND c.status <> 'open' ORDER BY c.id DESC LIMIT 5000`)
	if err != nil {
		return nil, err
	}
	dismissed, err := store.All(ctx, s.d.DB, func(r store.Scanner) (string, error) {
		var item, key string
		err := r.Scan(&item, &key)
		return item + "/" + key, err
	}, `SELECT item_code, text_key FROM faq_suggestion_dismissals`)
	if err != nil {
		return nil, err
	}
	items, err := s.published(ctx)
	if err != nil {
		return nil, err
	}
	byCode := map[string]catalog.Item{}
	for _, it := range items {
		byCode[it.Code] = it
	}
	// Group each item's questions: a question joins the first group whose
	// first (newest) question it is like.
	type group struct {
		first answered
		n     int
	}
	groups := map[string][]*group{}
	for _, a := range rows {
		gs := groups[a.item]
		i := slices.IndexFunc(gs, func(g *group) bool { return similar(g.first.text, a.text) })
		if i < 0 {
			groups[a.item] = append(gs, &group{first: a, n: 1})
			continue
		}
		gs[i].n++
	}
	out := []FAQSuggestion{}
	for item, gs := range groups {
		it, ok := byCode[item]
		if !ok {
			continue // retired since
		}
		for _, g := range gs {
			key := s.d.Protector.Index("faq:" + normalise(g.first.text))
			if g.n < FrequentAfter || slices.Contains(dismissed, item+"/"+key) || hasFAQ(it, g.first.text) {
				continue
			}
			out = append(out, FAQSuggestion{ItemCode: item, ItemName: it.Name, Key: key, Question: g.first.text, Answer: g.first.answer, Count: g.n,
				YAML: faqYAML(g.first.text, g.first.answer)})
		}
	}
	slices.SortFunc(out, func(a, b FAQSuggestion) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.ItemCode+a.Key, b.ItemCode+b.Key)
	})
	return out, nil
}

// hasFAQ says whether the item has an FAQ entry like question already.
func hasFAQ(it catalog.Item, question string) bool {
	return slices.ContainsFunc(it.FAQ, func(f catalog.FAQ) bool { return similar(f.Q.Zh, question) })
}

// faqYAML is an FAQ entry as the catalogue's YAML writes it.
func faqYAML(q, a string) string {
	return fmt.Sprintf("  - q: {zh: %s}\n    a: {zh: %s}\n", yamlString(q), yamlString(a))
}

// yamlString quotes s as a YAML double-quoted scalar on one line.
func yamlString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "", "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// Dismiss stops suggesting the question key about item.
func (s *Service) Dismiss(ctx context.Context, p authz.Principal, item, key string) error {
	if err := authz.Require(p, authz.CatalogManage); err != nil {
		return err
	}
	if item == "" || key == "" {
		return apperr.New(apperr.Invalid, apperr.InvalidRequest, "name the item and the suggestion to dismiss")
	}
	return s.d.DB.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO faq_suggestion_dismissals (item_code, text_key, dismissed_by, dismissed_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (item_code, text_key) DO NOTHING`, item, key, p.AccountID, s.d.Now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: audit.Person("staff", p.AccountID, p.Name), Action: "faq_suggestion.dismiss",
			ObjectKind: "catalog_item", ObjectID: item, Detail: map[string]any{"key": key}})
	})
}
