package catalog

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/store"
)

// BundlesDir is the folder of a catalogue that holds its bundle files.
const BundlesDir = "bundles/"

// Bundle (一件事) joins several items behind one combined form, one consent,
// one submission and one number. Members apply as their own items, each
// under its own rules and approval mode; After orders a member behind
// those whose result it needs, and When limits it to some answers of the
// bundle's own situations.
type Bundle struct {
	Code       string      `yaml:"code" json:"code"`
	Demo       bool        `yaml:"demo,omitempty" json:"demo,omitempty"`
	Name       Text        `yaml:"name" json:"name"`
	Target     string      `yaml:"target" json:"target"`
	Summary    Text        `yaml:"summary" json:"summary"`
	TimeLimit  BundleLimit `yaml:"time_limit" json:"time_limit"`
	Situations []Situation `yaml:"situations,omitempty" json:"situations,omitempty"`
	Members    []Member    `yaml:"members" json:"members"`
	Keywords   []string    `yaml:"keywords,omitempty" json:"keywords,omitempty"`
}

// BundleLimit is a bundle's promised time limit in working days, counted
// from its submission until its last member is done.
type BundleLimit struct {
	PromisedDays int `yaml:"promised_days" json:"promised_days"`
}

// Member is one item of a bundle.
type Member struct {
	ID    string   `yaml:"id" json:"id"`
	Item  string   `yaml:"item" json:"item"`
	After []string `yaml:"after,omitempty" json:"after,omitempty"`
	When  When     `yaml:"when,omitempty" json:"when,omitempty"`
	Note  *Text    `yaml:"note,omitempty" json:"note,omitempty"`
	// ActsFor names the member whose approval establishes the enterprise
	// this member is applied for (企业设立登记 sets up the company the seal
	// filing is for): the applicant then acts for that enterprise.
	ActsFor string `yaml:"acts_for,omitempty" json:"acts_for,omitempty"`
}

// LoadedBundle is a bundle together with where it came from.
type LoadedBundle struct {
	Bundle
	Source
}

// Applies reports which members apply under the bundle's answers.
func (b Bundle) Applies(answers map[string]string) []Member {
	var out []Member
	for _, m := range b.Members {
		if m.When.Matches(answers) {
			out = append(out, m)
		}
	}
	return out
}

// Member returns the member with id.
func (b Bundle) Member(id string) (Member, bool) {
	i := slices.IndexFunc(b.Members, func(m Member) bool { return m.ID == id })
	if i < 0 {
		return Member{}, false
	}
	return b.Members[i], true
}

// checkBundles runs the semantic checks of the catalogue's bundles: unique
// codes, members that are items of the catalogue and fit the bundle's
// target, an order without cycles, conditions that name the bundle's own
// situations, and member situations asked the same way everywhere.
func (c *Catalogue) checkBundles() []Problem {
	var ps []Problem
	licences := map[string]LicenceType{}
	for _, l := range c.Licences {
		licences[l.Code] = l
	}
	items := map[string]*LoadedItem{}
	for _, it := range c.Items {
		items[it.Code] = it
	}
	codes := map[string]string{}
	for _, b := range c.Bundles {
		add := func(ptr, zh, en string, args ...any) { ps = append(ps, b.problem(ptr, zh, en, args...)) }
		if other, dup := codes[b.Code]; dup {
			add("/code", "一件事编码%s已被%s使用", "bundle code %s is also used by %s", b.Code, other)
		}
		codes[b.Code] = b.File
		answers := map[string][]string{}
		for i, s := range b.Situations {
			if _, dup := answers[s.ID]; dup {
				add("/situations/"+strconv.Itoa(i)+"/id", "情形%q重复声明", "situation %q is declared twice", s.ID)
			}
			for _, a := range s.Answers {
				answers[s.ID] = append(answers[s.ID], a.Value)
			}
		}
		ids := map[string]int{}
		used := map[string]bool{}
		asked := map[string]Situation{} // member situations, by id
		for i, m := range b.Members {
			ptr := "/members/" + strconv.Itoa(i)
			if _, dup := ids[m.ID]; dup {
				add(ptr+"/id", "成员%q重复声明", "member %q is declared twice", m.ID)
			}
			ids[m.ID] = i
			it, ok := items[m.Item]
			if !ok {
				add(ptr+"/item", "事项%s不在本事项库中", "item %s is not in the catalogue", m.Item)
			} else {
				target := b.Target
				if m.ActsFor != "" {
					target = "enterprise"
				}
				if it.Target != target && it.Target != "both" {
					add(ptr+"/item", "事项%s面向%s，而本成员的申请人是%s", "item %s is for a %s, but this member is applied for by a %s", m.Item, it.Target, target)
				}
				for _, s := range it.Situations {
					if _, clash := answers[s.ID]; clash {
						add(ptr+"/item", "事项%s的情形%q与一件事自身的情形同名", "item %s asks situation %q, which the bundle itself declares", m.Item, s.ID)
					}
					if prev, seen := asked[s.ID]; seen && !sameAnswers(prev, s) {
						add(ptr+"/item", "事项%s的情形%q与其他成员同名但选项不同，合并表单无法只问一次", "item %s asks situation %q with other answers than another member, so the combined form cannot ask it once", m.Item, s.ID)
					}
					asked[s.ID] = s
				}
			}
			for sit, vals := range m.When {
				known, ok := answers[sit]
				if !ok {
					add(ptr+"/when/"+sit, "条件引用的情形%q未在本一件事中声明", "the condition names situation %q, which the bundle does not declare", sit)
					continue
				}
				used[sit] = true
				for _, v := range vals {
					if !slices.Contains(known, v) {
						add(ptr+"/when/"+sit, "情形%s没有选项%q", "situation %s has no answer %q", sit, v)
					}
				}
			}
		}
		for i, m := range b.Members {
			if m.ActsFor != "" {
				ptr := "/members/" + strconv.Itoa(i) + "/acts_for"
				j, ok := ids[m.ActsFor]
				switch {
				case !slices.Contains(m.After, m.ActsFor):
					add(ptr, "acts_for须是本成员的前序成员（after）之一", "acts_for must be one of the members this one comes after")
				case ok && !establishes(items[b.Members[j].Item], licences):
					add(ptr, "成员%q的结果不是企业持有的证照，不会设立企业", "member %q does not issue a licence held by an enterprise, so it establishes none", m.ActsFor)
				}
			}
			for j, a := range m.After {
				if _, ok := ids[a]; !ok || a == m.ID {
					add("/members/"+strconv.Itoa(i)+"/after/"+strconv.Itoa(j), "前序成员%q未在本一件事中声明", "member %q it comes after is not another member of the bundle", a)
				}
			}
		}
		if cycle := orderCycle(b.Members); cycle != nil {
			add("/members/"+strconv.Itoa(ids[cycle[0]])+"/after", "成员的先后顺序成环：%s", "the members' order has a cycle: %s", strings.Join(cycle, " → "))
		}
		for i, s := range b.Situations {
			if !used[s.ID] {
				w := b.problem("/situations/"+strconv.Itoa(i)+"/id", "情形%q没有成员以它为条件", "no member depends on situation %q", s.ID)
				w.Warning = true
				ps = append(ps, w)
			}
		}
	}
	return ps
}

// establishes reports whether a person's application of it sets up an
// enterprise: its licence is held by an enterprise.
func establishes(it *LoadedItem, licences map[string]LicenceType) bool {
	return it != nil && it.Target == "person" && it.Output != nil && licences[it.Output.Licence].Holder == "enterprise"
}

// sameAnswers reports whether two situations offer the same answer values.
func sameAnswers(a, b Situation) bool {
	if len(a.Answers) != len(b.Answers) {
		return false
	}
	for i := range a.Answers {
		if a.Answers[i].Value != b.Answers[i].Value {
			return false
		}
	}
	return true
}

// orderCycle returns the members of a cycle in the After order, first
// repeated last, or nil.
func orderCycle(ms []Member) []string {
	after := map[string][]string{}
	for _, m := range ms {
		after[m.ID] = m.After
	}
	state := map[string]int{} // 1 visiting, 2 done
	var path []string
	var visit func(id string) []string
	visit = func(id string) []string {
		switch state[id] {
		case 1:
			i := slices.Index(path, id)
			return append(slices.Clone(path[i:]), id)
		case 2:
			return nil
		}
		state[id] = 1
		path = append(path, id)
		for _, a := range after[id] {
			if _, ok := after[a]; !ok {
				continue
			}
			if c := visit(a); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		state[id] = 2
		return nil
	}
	for _, m := range ms {
		if c := visit(m.ID); c != nil {
			return c
		}
	}
	return nil
}

// putBundle stores bundle b as the catalogue's current definition of its
// code. A bundle has no versions of its own: each of its members pins
// its item's version when it is applied for, and a bundle case keeps the
// definition it was submitted under.
func putBundle(ctx context.Context, tx *sql.Tx, b *LoadedBundle, actor string, now time.Time) error {
	content, err := json.Marshal(b.Bundle)
	if err != nil {
		return fmt.Errorf("encode bundle %s: %w", b.Code, err)
	}
	sum := sha256.Sum256(content)
	_, err = tx.ExecContext(ctx, `INSERT INTO catalog_bundles (code, name_zh, name_en, content_json, content_hash, source_file, imported_by, imported_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, content_json = excluded.content_json,
			content_hash = excluded.content_hash, source_file = excluded.source_file, imported_by = excluded.imported_by, imported_at = excluded.imported_at
		WHERE catalog_bundles.content_hash <> excluded.content_hash`,
		b.Code, b.Name.Zh, b.Name.In("en"), string(content), hex.EncodeToString(sum[:]), b.File, actor, now)
	if err != nil {
		return fmt.Errorf("bundle %s: %w", b.Code, err)
	}
	return nil
}

// Bundles lists the catalogue's bundles, by code.
func (s *Store) Bundles(ctx context.Context) ([]Bundle, error) {
	return store.All(ctx, s.db, scanBundle, `SELECT content_json FROM catalog_bundles ORDER BY code`)
}

// Bundle returns the bundle with code.
func (s *Store) Bundle(ctx context.Context, code string) (Bundle, error) {
	b, err := scanBundle(s.db.QueryRowContext(ctx, `SELECT content_json FROM catalog_bundles WHERE code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return b, apperr.New(apperr.NotFound, apperr.BundleNotFound, "there is no bundle %q", code)
	}
	return b, err
}

func scanBundle(row store.Scanner) (Bundle, error) {
	var raw string
	var b Bundle
	if err := row.Scan(&raw); err != nil {
		return b, err
	}
	return b, json.Unmarshal([]byte(raw), &b)
}

// MatchBundles returns the bundles a search for q finds: those whose name,
// summary or keywords hold q, or whose keyword q holds (开公司要办哪些手续
// finds 企业开办 by its keyword 开公司).
func MatchBundles(bs []Bundle, q string) []Bundle {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return nil
	}
	var out []Bundle
	for _, b := range bs {
		hay := strings.ToLower(b.Name.Zh + " " + b.Name.En + " " + b.Summary.Zh + " " + b.Summary.En)
		found := strings.Contains(hay, q)
		for _, k := range b.Keywords {
			k = strings.ToLower(k)
			found = found || strings.Contains(k, q) || strings.Contains(q, k)
		}
		if found {
			out = append(out, b)
		}
	}
	return out
}
