package catalog

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/org"
	"yiwang/internal/store"
)

// Version statuses. A draft may change; everything else is frozen.
const (
	StatusDraft      = "draft"
	StatusPublished  = "published"  // the version new applications use
	StatusSuperseded = "superseded" // was published; a newer version replaced it
	StatusRetired    = "retired"    // was published; the item no longer takes applications
)

// Version is one stored version of an item. Applications pin ID.
type Version struct {
	ID          int64      `json:"id"`
	ItemCode    string     `json:"item_code"`
	Version     int        `json:"version"`
	Status      string     `json:"status"`
	ContentHash string     `json:"content_hash"`
	SourceFile  string     `json:"source_file"`
	ImportedBy  string     `json:"imported_by"`
	ImportedAt  time.Time  `json:"imported_at"`
	PublishedBy string     `json:"published_by,omitempty"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	Item        Item       `json:"item"`
	SourceYAML  string     `json:"-"`
}

// Store keeps the catalogue in the database.
type Store struct {
	db *store.DB

	// terms holds versions that have left draft, by ID. Their content can no
	// longer change (a trigger refuses it), so every process may keep them:
	// an application reads its version on each step, and decoding it each
	// time, or asking the pool for it inside a transaction, cost more than
	// the step itself.
	terms sync.Map // int64 → Version
}

// NewStore returns a catalogue store on db.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

// ImportResult says what an import changed.
type ImportResult struct {
	Created   []VersionRef `json:"created"`   // new draft versions
	Updated   []VersionRef `json:"updated"`   // existing drafts whose content changed
	Unchanged int          `json:"unchanged"` // items identical to their latest version
	// Warnings are the catalogue's warnings (Catalogue.Warnings): imported
	// all the same, shown so that someone fixes them.
	Warnings []Problem `json:"warnings"`
}

// VersionRef names one version of one item.
type VersionRef struct {
	Code    string `json:"code"`
	Version int    `json:"version"`
	Name    string `json:"name"`
}

// Import stores a validated catalogue in one transaction: departments and
// licence types are upserted, and every item whose content differs from its
// latest version gets a new draft version (or, if its latest version is
// still a draft, that draft is replaced). Nothing is published.
func (s *Store) Import(ctx context.Context, c *Catalogue, actor string) (ImportResult, error) {
	// Empty lists, not null: the API documents both as arrays.
	res := ImportResult{Created: []VersionRef{}, Updated: []VersionRef{}, Warnings: append([]Problem{}, c.Warnings...)}
	now := time.Now().UTC()
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, r := range c.Regions {
			if err := org.PutRegion(ctx, tx, org.Region{Code: r.Code, ParentCode: r.Parent, Level: r.Level, NameZh: r.Name.Zh, NameEn: r.Name.In("en")}); err != nil {
				return err
			}
		}
		for _, d := range c.Departments {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM regions WHERE code = $1`, d.Region).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return apperr.New(apperr.Invalid, apperr.UnknownRegion, "department %s is in region %s, which is not in the directory: declare it under regions: in departments.yaml", d.Code, d.Region)
			}
			if err := org.PutDepartment(ctx, tx, org.Department{Code: d.Code, RegionCode: d.Region, NameZh: d.Name.Zh, NameEn: d.Name.In("en")}); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE departments SET credit_code = $1 WHERE code = $2`, d.CreditCode, d.Code); err != nil {
				return err
			}
		}
		for _, h := range c.Halls {
			// The file names the hall; its windows, address and the
			// accounts posted to it stay as the directory has them.
			if _, err := tx.ExecContext(ctx, `INSERT INTO halls (code, region_code, name_zh, name_en) VALUES ($1, $2, $3, $4)
				ON CONFLICT (code) DO UPDATE SET region_code = excluded.region_code, name_zh = excluded.name_zh, name_en = excluded.name_en`,
				h.Code, h.Region, h.Name.Zh, h.Name.In("en")); err != nil {
				return fmt.Errorf("hall %s: %w", h.Code, err)
			}
		}
		for _, l := range c.Licences {
			spec, err := json.Marshal(l.LicenceSpec)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO licence_types (code, name_zh, name_en, issuer, holder, spec) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en, issuer = excluded.issuer, holder = excluded.holder, spec = excluded.spec`,
				l.Code, l.Name.Zh, l.Name.In("en"), l.Issuer, l.Holder, string(spec)); err != nil {
				return fmt.Errorf("licence type %s: %w", l.Code, err)
			}
		}
		for _, it := range c.Items {
			content, hash, err := canonical(it.Item)
			if err != nil {
				return err
			}
			var latestID int64
			var latestVersion int
			var latestStatus, latestHash string
			err = tx.QueryRowContext(ctx, `SELECT id, version, status, content_hash FROM catalog_versions WHERE item_code = $1 ORDER BY version DESC LIMIT 1`, it.Code).
				Scan(&latestID, &latestVersion, &latestStatus, &latestHash)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if _, err := tx.ExecContext(ctx, `INSERT INTO catalog_items (code, department_code, created_at, updated_at) VALUES ($1, $2, $3, $3)`, it.Code, it.Department, now); err != nil {
					return fmt.Errorf("item %s: %w", it.Code, err)
				}
			case err != nil:
				return err
			case latestHash == hash:
				res.Unchanged++
				continue
			case latestStatus == StatusDraft:
				if _, err := tx.ExecContext(ctx, `UPDATE catalog_versions SET content_hash = $1, content_json = $2, source_yaml = $3, source_file = $4,
					name_zh = $5, name_en = $6, kind = $7, approval_mode = $8, imported_by = $9, imported_at = $10 WHERE id = $11`,
					hash, content, string(it.Raw), it.File, it.Name.Zh, it.Name.In("en"), it.Kind, it.Approval.Mode, actor, now, latestID); err != nil {
					return fmt.Errorf("item %s: %w", it.Code, err)
				}
				res.Updated = append(res.Updated, VersionRef{it.Code, latestVersion, it.Name.Zh})
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE catalog_items SET department_code = $1, updated_at = $2 WHERE code = $3`, it.Department, now, it.Code); err != nil {
				return err
			}
			v := latestVersion + 1
			if _, err := tx.ExecContext(ctx, `INSERT INTO catalog_versions (item_code, version, status, content_hash, content_json, source_yaml, source_file,
				name_zh, name_en, kind, approval_mode, imported_by, imported_at) VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
				it.Code, v, hash, content, string(it.Raw), it.File, it.Name.Zh, it.Name.In("en"), it.Kind, it.Approval.Mode, actor, now); err != nil {
				return fmt.Errorf("item %s: %w", it.Code, err)
			}
			res.Created = append(res.Created, VersionRef{it.Code, v, it.Name.Zh})
		}
		for _, b := range c.Bundles {
			if err := putBundle(ctx, tx, b, actor, now); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// canonical encodes an item as the JSON stored and hashed: same content,
// same bytes, whatever the YAML's layout or comments.
func canonical(it Item) (string, string, error) {
	b, err := json.Marshal(it)
	if err != nil {
		return "", "", fmt.Errorf("encode item %s: %w", it.Code, err)
	}
	sum := sha256.Sum256(b)
	return string(b), hex.EncodeToString(sum[:]), nil
}

// Publish makes a draft version the one new applications use. version 0
// means the latest draft. The previously published version is superseded,
// and a retired item is back in service.
func (s *Store) Publish(ctx context.Context, code string, version int, actor string) (VersionRef, error) {
	var ref VersionRef
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		q := `SELECT version, status, name_zh FROM catalog_versions WHERE item_code = $1 AND version = $2`
		args := []any{code, version}
		if version == 0 {
			q = `SELECT version, status, name_zh FROM catalog_versions WHERE item_code = $1 AND status = 'draft' ORDER BY version DESC LIMIT 1`
			args = args[:1]
		}
		var status string
		err := tx.QueryRowContext(ctx, q, args...).Scan(&ref.Version, &status, &ref.Name)
		if errors.Is(err, sql.ErrNoRows) {
			if version == 0 {
				return apperr.New(apperr.NotFound, apperr.NoDraft, "item %s has no draft to publish: import a changed version first", code)
			}
			return apperr.New(apperr.NotFound, apperr.VersionNotFound, "item %s has no version %d", code, version)
		}
		if err != nil {
			return err
		}
		if status != StatusDraft {
			return apperr.New(apperr.Conflict, apperr.NotADraft, "version %d of %s is %s; only drafts can be published", ref.Version, code, status)
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE catalog_versions SET status = 'superseded' WHERE item_code = $1 AND status IN ('published', 'retired')`, code); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE catalog_versions SET status = 'published', published_by = $1, published_at = $2 WHERE item_code = $3 AND version = $4`,
			actor, now, code, ref.Version); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE catalog_items SET current_version = $1, retired_at = NULL, updated_at = $2 WHERE code = $3`, ref.Version, now, code); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: audit.ParseActor(actor), Action: "catalog.publish", ObjectKind: "catalog_item", ObjectID: code,
			Detail: map[string]any{"version": ref.Version}})
	})
	ref.Code = code
	return ref, err
}

// PublishAllDrafts publishes the latest draft of every item that has one.
func (s *Store) PublishAllDrafts(ctx context.Context, actor string) ([]VersionRef, error) {
	codes, err := store.All(ctx, s.db, store.Value[string], `SELECT DISTINCT item_code FROM catalog_versions WHERE status = 'draft' ORDER BY item_code`)
	if err != nil {
		return nil, err
	}
	var out []VersionRef
	for _, c := range codes {
		ref, err := s.Publish(ctx, c, 0, actor)
		if err != nil {
			return out, err
		}
		out = append(out, ref)
	}
	return out, nil
}

// Retire stops an item taking new applications. Its versions stay readable,
// so applications made under them keep their terms.
func (s *Store) Retire(ctx context.Context, code, actor string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var cur sql.NullInt64
		var retired sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT current_version, retired_at FROM catalog_items WHERE code = $1`, code).Scan(&cur, &retired)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, apperr.ItemNotFound, "no item has the code %s", code)
		}
		if err != nil {
			return err
		}
		if retired.Valid {
			return apperr.New(apperr.Conflict, apperr.AlreadyRetired, "item %s is already retired", code)
		}
		if !cur.Valid {
			return apperr.New(apperr.Conflict, apperr.NeverPublished, "item %s was never published, so there is nothing to retire", code)
		}
		now := time.Now().UTC()
		if _, err := tx.ExecContext(ctx, `UPDATE catalog_versions SET status = 'retired' WHERE item_code = $1 AND version = $2`, code, cur.Int64); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE catalog_items SET retired_at = $1, updated_at = $1 WHERE code = $2`, now, code); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: audit.ParseActor(actor), Action: "catalog.retire", ObjectKind: "catalog_item", ObjectID: code,
			Detail: map[string]any{"version": cur.Int64}})
	})
}

const versionColumns = `id, item_code, version, status, content_hash, source_file, imported_by, imported_at, COALESCE(published_by, ''), published_at, content_json, source_yaml`

func scanVersion(row store.Scanner) (Version, error) {
	var v Version
	var content string
	var published sql.NullTime
	if err := row.Scan(&v.ID, &v.ItemCode, &v.Version, &v.Status, &v.ContentHash, &v.SourceFile, &v.ImportedBy, &v.ImportedAt,
		&v.PublishedBy, &published, &content, &v.SourceYAML); err != nil {
		return v, err
	}
	if published.Valid {
		t := published.Time
		v.PublishedAt = &t
	}
	if err := json.Unmarshal([]byte(content), &v.Item); err != nil {
		return v, fmt.Errorf("stored item %s v%d is unreadable: %w", v.ItemCode, v.Version, err)
	}
	return v, nil
}

// Current returns the version new applications of code must use: published
// and not retired.
//
// Only the id and publication are read from the database, so a publication
// by any process is seen at once; the content comes from VersionByID's
// memory.
func (s *Store) Current(ctx context.Context, code string) (Version, error) {
	var id int64
	var by string
	var at *time.Time
	err := s.db.QueryRowContext(ctx, `SELECT id, COALESCE(published_by, ''), published_at FROM catalog_versions WHERE item_code = $1 AND status = 'published'`, code).Scan(&id, &by, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Version{}, apperr.New(apperr.NotFound, apperr.ItemNotFound, "no item in service has the code %s", code)
	}
	if err != nil {
		return Version{}, err
	}
	v, err := s.VersionByID(ctx, id)
	v.Status, v.PublishedBy, v.PublishedAt = "published", by, at
	return v, err
}

// VersionByID returns a version by its ID, whatever its status: how an
// application reads the terms it was made under. A version past draft comes
// from memory after its first read, so it costs no connection; its Status is
// the one it had then, so read the status with Version or Current.
func (s *Store) VersionByID(ctx context.Context, id int64) (Version, error) {
	if v, ok := s.terms.Load(id); ok {
		return v.(Version), nil
	}
	v, err := scanVersion(s.db.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM catalog_versions WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, apperr.New(apperr.NotFound, apperr.VersionNotFound, "no catalogue version has the id %d", id)
	}
	if err == nil && v.Status != "draft" {
		s.terms.Store(id, v)
	}
	return v, err
}

// Version returns version n of code.
func (s *Store) Version(ctx context.Context, code string, n int) (Version, error) {
	v, err := scanVersion(s.db.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM catalog_versions WHERE item_code = $1 AND version = $2`, code, n))
	if errors.Is(err, sql.ErrNoRows) {
		return v, apperr.New(apperr.NotFound, apperr.VersionNotFound, "item %s has no version %d", code, n)
	}
	return v, err
}

// VersionSummary describes a version without its content.
type VersionSummary struct {
	ID          int64      `json:"id"`
	Version     int        `json:"version"`
	Status      string     `json:"status"`
	NameZh      string     `json:"name_zh"`
	ContentHash string     `json:"content_hash"`
	ImportedBy  string     `json:"imported_by"`
	ImportedAt  time.Time  `json:"imported_at"`
	PublishedBy string     `json:"published_by,omitempty"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
}

// Versions lists every version of code, newest first.
func (s *Store) Versions(ctx context.Context, code string) ([]VersionSummary, error) {
	out, err := store.All(ctx, s.db, func(row store.Scanner) (VersionSummary, error) {
		var v VersionSummary
		var published sql.NullTime
		err := row.Scan(&v.ID, &v.Version, &v.Status, &v.NameZh, &v.ContentHash, &v.ImportedBy, &v.ImportedAt, &v.PublishedBy, &published)
		if published.Valid {
			t := published.Time
			v.PublishedAt = &t
		}
		return v, err
	}, `SELECT id, version, status, name_zh, content_hash, imported_by, imported_at, COALESCE(published_by, ''), published_at
		FROM catalog_versions WHERE item_code = $1 ORDER BY version DESC`, code)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, apperr.New(apperr.NotFound, apperr.ItemNotFound, "no item has the code %s", code)
	}
	return out, nil
}

// Names returns the name of every item in service, by code, without
// decoding the items: for lists that name an item on every row.
func (s *Store) Names(ctx context.Context) (map[string]Text, error) {
	type name struct {
		code string
		Text
	}
	list, err := store.All(ctx, s.db, func(row store.Scanner) (name, error) {
		var n name
		return n, row.Scan(&n.code, &n.Zh, &n.En)
	}, `SELECT item_code, name_zh, name_en FROM catalog_versions WHERE status = 'published'`)
	out := make(map[string]Text, len(list))
	for _, n := range list {
		out[n.code] = n.Text
	}
	return out, err
}

// Published returns the current version of every item in service, by code.
func (s *Store) Published(ctx context.Context) ([]Version, error) {
	return store.All(ctx, s.db, scanVersion, `SELECT `+versionColumns+` FROM catalog_versions WHERE status = 'published' ORDER BY item_code`)
}

// Generation changes whenever the set of published versions changes, so a
// process can tell cheaply that its search index is stale.
func (s *Store) Generation(ctx context.Context) (string, error) {
	var n int
	var maxID sql.NullInt64
	var retired int
	err := s.db.QueryRowContext(ctx, `SELECT count(*), max(id), (SELECT count(*) FROM catalog_items WHERE retired_at IS NOT NULL)
		FROM catalog_versions WHERE status = 'published'`).Scan(&n, &maxID, &retired)
	return fmt.Sprintf("%d/%d/%d", n, maxID.Int64, retired), err
}
