package licence

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/store"
)

// Share is a time-limited link to a watermarked copy of a licence.
type Share struct {
	ID        int64     `json:"id"`
	LicenceID int64     `json:"licence_id"`
	Recipient string    `json:"recipient"`
	Purpose   string    `json:"purpose"`
	ExpiresAt time.Time `json:"expires_at"`
	// WithdrawnAt is when the holder withdrew the link, if they did.
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
	Token       string     `json:"token,omitempty"` // shown once, when made
	URL         string     `json:"url,omitempty"`
}

// MaxShare bounds how long a share link lives.
const MaxShare = 90 * 24 * time.Hour

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateShare makes a share link of the holder's licence id, valid for ttl.
func (s *Service) CreateShare(ctx context.Context, h Holder, licenceID, accountID int64, recipient, purpose string, ttl time.Duration) (Share, error) {
	recipient, purpose = strings.TrimSpace(recipient), strings.TrimSpace(purpose)
	var problems []apperr.Detail
	if recipient == "" || len([]rune(recipient)) > 60 {
		problems = append(problems, apperr.Detail{Subject: "recipient", Words: apperr.Words{
			Zh: "请填写接收方名称（不超过60个字），副本水印上会显示接收方。", En: "Name the recipient (up to 60 characters): the copy's watermark names them."}})
	}
	if purpose == "" || len([]rune(purpose)) > 200 {
		problems = append(problems, apperr.Detail{Subject: "purpose", Words: apperr.Words{
			Zh: "请填写副本的用途（不超过200个字）。", En: "Say what the copy is for (up to 200 characters)."}})
	}
	if ttl <= 0 || ttl > MaxShare {
		problems = append(problems, apperr.Detail{Subject: "ttl", Words: apperr.Words{
			Zh: "分享链接的有效期须在1小时至90天之间。", En: "A share link lasts from one hour to 90 days."}})
	}
	if len(problems) > 0 {
		return Share{}, apperr.New(apperr.Invalid, apperr.BadShare, "cannot share the licence: %s", apperr.JoinEnglish(problems)).WithDetails(problems)
	}
	l, err := s.holderLicence(ctx, h, licenceID)
	if err != nil {
		return Share{}, err
	}
	if l.Status != Valid || l.Expired(s.now()) {
		return Share{}, apperr.New(apperr.Conflict, apperr.LicenceNotInForce, "licence %s is no longer in force and cannot be shared", l.Content.Number)
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Share{}, err
	}
	sh := Share{LicenceID: l.ID, Recipient: recipient, Purpose: purpose, ExpiresAt: s.now().Add(ttl).Truncate(time.Second),
		Token: base64.RawURLEncoding.EncodeToString(raw[:])}
	if err := s.db.QueryRowContext(ctx, `INSERT INTO licence_shares (licence_id, token_hash, recipient, purpose, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, l.ID, tokenHash(sh.Token), recipient, purpose, accountID, s.now(), sh.ExpiresAt).Scan(&sh.ID); err != nil {
		return Share{}, err
	}
	sh.URL = s.site + "/shared/licences/" + sh.Token
	return sh, nil
}

// holderLicence returns licence id if h holds it, else a not-found.
func (s *Service) holderLicence(ctx context.Context, h Holder, id int64) (Licence, error) {
	l, err := s.get(ctx, s.db, `WHERE id = $1`, id)
	if err != nil || l.Content.Holder.Kind != string(h.Kind) || l.Content.Holder.ID != h.ID {
		return Licence{}, apperr.New(apperr.NotFound, apperr.LicenceNotFound, "no such licence among yours")
	}
	return l, nil
}

// ErrShareGone is returned for a share link that expired or whose licence was revoked.
var ErrShareGone = errors.New("share link expired or licence revoked")

// Shared opens a share link: the licence and the share, or ErrShareGone
// (with what is known) when it expired or the licence was revoked.
func (s *Service) Shared(ctx context.Context, token string) (Licence, Share, error) {
	var sh Share
	var withdrawn sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT id, licence_id, recipient, purpose, expires_at, withdrawn_at FROM licence_shares WHERE token_hash = $1`, tokenHash(token)).
		Scan(&sh.ID, &sh.LicenceID, &sh.Recipient, &sh.Purpose, &sh.ExpiresAt, &withdrawn)
	if withdrawn.Valid {
		at := withdrawn.Time.UTC()
		sh.WithdrawnAt = &at
	}
	if errors.Is(err, sql.ErrNoRows) {
		return Licence{}, Share{}, apperr.New(apperr.NotFound, apperr.ShareNotFound, "no such share link: check that the whole address was copied")
	}
	if err != nil {
		return Licence{}, Share{}, err
	}
	sh.ExpiresAt = sh.ExpiresAt.UTC()
	l, err := s.get(ctx, s.db, `WHERE id = $1`, sh.LicenceID)
	if err != nil {
		return Licence{}, Share{}, err
	}
	if sh.WithdrawnAt != nil || !s.now().Before(sh.ExpiresAt) || l.Status != Valid || l.Expired(s.now()) {
		return l, sh, ErrShareGone
	}
	return l, sh, nil
}

// Watermark is the line printed across a shared copy, as the share form
// promises: whom it is for and what for, and until when, in the viewer's
// language (lang "en", else Chinese); until is a date (YYYY-MM-DD).
func Watermark(lang, recipient, purpose, until string) string {
	t, err := time.Parse(time.DateOnly, until)
	if lang == "en" {
		w := "Only for " + recipient + ", for " + purpose
		if err == nil {
			w += "; valid until " + t.Format("2 January 2006")
		}
		return w
	}
	w := "仅供 " + recipient + " 用于 " + purpose
	if err == nil {
		w += "，有效期至" + t.Format("2006") + "年" + t.Format("1") + "月" + t.Format("2") + "日"
	}
	return w
}

// ActiveShares lists the share links of h's licences that still work,
// soonest to end first, for the holder to see and withdraw.
func (s *Service) ActiveShares(ctx context.Context, h Holder) ([]Share, error) {
	ls, err := s.ForHolder(ctx, h)
	if err != nil || len(ls) == 0 {
		return []Share{}, err
	}
	args := []any{s.now()}
	var in []string
	for _, l := range ls {
		args = append(args, l.ID)
		in = append(in, "$"+strconv.Itoa(len(args)))
	}
	out, err := store.All(ctx, s.db, func(row store.Scanner) (Share, error) {
		var sh Share
		err := row.Scan(&sh.ID, &sh.LicenceID, &sh.Recipient, &sh.Purpose, &sh.ExpiresAt)
		sh.ExpiresAt = sh.ExpiresAt.UTC()
		return sh, err
	}, `SELECT id, licence_id, recipient, purpose, expires_at FROM licence_shares
		WHERE expires_at > $1 AND withdrawn_at IS NULL AND licence_id IN (`+strings.Join(in, ", ")+`) ORDER BY expires_at, id`, args...)
	if out == nil {
		out = []Share{}
	}
	return out, err
}

// RevokeShare ends share link id of h's licence licenceID now, before it
// would expire: the link then answers that the holder withdrew it.
// Ownership is checked before the one write; another holder's share, or one
// of another licence, is not found, and a link that has already ended is a
// conflict. Who withdrew it and when are kept on the link and on the audit
// trail, in one transaction.
func (s *Service) RevokeShare(ctx context.Context, h Holder, licenceID, id, by int64) error {
	l, err := s.holderLicence(ctx, h, licenceID)
	if err != nil {
		return err
	}
	now := s.now()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE licence_shares SET withdrawn_at = $1, withdrawn_by = $2
			WHERE id = $3 AND licence_id = $4 AND expires_at > $1 AND withdrawn_at IS NULL`, now, by, id, l.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			if err != nil {
				return err
			}
			return audit.Record(ctx, tx, audit.Event{Actor: audit.Person("holder", by, ""), Action: "licence.share_withdrawn",
				ObjectKind: "licence_share", ObjectID: strconv.FormatInt(id, 10), Detail: map[string]any{"licence": l.Content.Number}, At: now})
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM licence_shares WHERE id = $1 AND licence_id = $2)`, id, l.ID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return apperr.New(apperr.NotFound, apperr.ShareNotFound, "licence %s has no share link %d", l.Content.Number, id)
		}
		return apperr.New(apperr.Conflict, apperr.ShareEnded, "share link %d of licence %s has already ended", id, l.Content.Number)
	})
}
