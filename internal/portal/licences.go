package portal

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/hub"
	"yiwang/internal/licence"
)

// licenceRow is a licence in my licences.
type licenceRow struct {
	licence.Licence
	State     string // valid, revoked or expired, as of now
	VerifyURL string // where the QR code points
	QR        string // the QR code's image, drawn when the browser asks for it
}

type licencesData struct {
	Licences []licenceRow
	Shared   *licence.Share // the link just made, shown once
	SharedID int64
	// Shares are the links that still work, by licence id, each with a
	// button to withdraw it; Withdrawn says one was just withdrawn.
	Shares    map[int64][]licence.Share
	Withdrawn bool
}

// holder is whose licences the principal sees: the enterprise they act
// for, or themself (as the licence pages decide it).
func (h *Handler) holder(ctx context.Context, p authz.Principal) (licence.Holder, error) {
	if p.ActingFor != nil {
		return licence.Holder{Kind: hub.Enterprise, ID: p.ActingFor.CreditCode, Name: p.ActingFor.Name}, nil
	}
	if p.PersonID == 0 {
		return licence.Holder{}, apperr.New(apperr.Forbidden, apperr.PersonsOnly, "licences are held by people and enterprises: sign in as one")
	}
	d, err := h.Identities.PersonDetails(ctx, h.Identities.DB(), p.PersonID)
	if err != nil {
		return licence.Holder{}, err
	}
	return licence.Holder{Kind: hub.Person, ID: d.IDNumber, Name: d.Name}, nil
}

func (h *Handler) myLicences(w http.ResponseWriter, r *http.Request) {
	h.showLicences(w, r, nil, 0)
}

func (h *Handler) showLicences(w http.ResponseWriter, r *http.Request, shared *licence.Share, sharedID int64) {
	ctx := r.Context()
	hd, err := h.holder(ctx, authz.From(ctx))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ls, err := h.Licences.ForHolder(ctx, hd)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	shares, err := h.Licences.ActiveShares(ctx, hd)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := licencesData{Shared: shared, SharedID: sharedID, Shares: map[int64][]licence.Share{}, Withdrawn: r.URL.Query().Get("withdrawn") == "1"}
	for _, sh := range shares {
		d.Shares[sh.LicenceID] = append(d.Shares[sh.LicenceID], sh)
	}
	now := time.Now()
	for _, l := range ls {
		row := licenceRow{Licence: l, State: l.Status, VerifyURL: h.Licences.VerifyURL(l.Content.Number)}
		if row.State == licence.Valid && l.Expired(now) {
			row.State = licence.Expired
		}
		// Drawing every QR code into the page took most of its time (1.6 ms
		// a licence): the browser fetches each as it comes into view.
		row.QR = licence.QRPath(l.Content.Number)
		d.Licences = append(d.Licences, row)
	}
	h.pages.Render(w, r, http.StatusOK, "licences.html", title(w, r, "我的证照", "My licences"), d)
}

// share makes a time-limited, watermarked link to one licence.
func (h *Handler) share(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := authz.From(ctx)
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hd, err := h.holder(ctx, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	days, err := strconv.Atoi(r.PostFormValue("days"))
	if err != nil {
		days = 7
	}
	sh, err := h.Licences.CreateShare(ctx, hd, id, p.AccountID, r.PostFormValue("recipient"), r.PostFormValue("purpose"), time.Duration(days)*24*time.Hour)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.showLicences(w, r, &sh, id)
}

// withdrawShare ends one of the holder's share links before it expires;
// the licences page then says so. Only the holder's own links can be
// withdrawn (licence.Service.RevokeShare checks).
func (h *Handler) withdrawShare(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	share, err := pathID(r, "share")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hd, err := h.holder(ctx, authz.From(ctx))
	if err == nil {
		err = h.Licences.RevokeShare(ctx, hd, id, share, authz.From(ctx).AccountID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/me/licences?withdrawn=1", http.StatusSeeOther)
}
