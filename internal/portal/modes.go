package portal

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"yiwang/internal/apperr"
	"yiwang/internal/application"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
)

// The wizard's side of the approval modes (docs/WORKFLOW.md, "Approval
// modes"): the applicant signs an item's commitment at the last step,
// pledges a material the item takes as a commitment, supplies a deferrable
// material later (容缺) and names the other parties of a joint item. Each
// is the service's own action, so what is signed is recorded with the
// application, not only ticked on the page.

// textDigest is the SHA-256 of a text the page shows for signing: the form
// posts it back, so the applicant signs the text they read and not one
// changed meanwhile.
func textDigest(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:])
}

// signCommitment signs the item's commitment before submission when the
// item is approved on commitment and returns the revision to submit at. A
// commitment signed already (a submission that failed after it) stands.
func (h *Handler) signCommitment(r *http.Request, a application.Application, rev int64) (int64, error) {
	if m := a.Modes; m == nil || m.CommitmentText == "" || m.Commitment != nil && m.Commitment.Text == m.CommitmentText {
		return rev, nil
	}
	if r.PostFormValue("commitment") != "yes" {
		return 0, apperr.New(apperr.Invalid, apperr.NoCommitment, "this item is approved on your signed commitment (告知承诺): tick the box to sign it")
	}
	text := a.Modes.CommitmentText
	if r.PostFormValue("commitment_digest") != textDigest(text) {
		return 0, apperr.New(apperr.Conflict, apperr.CommitmentChanged, "the commitment's wording changed since the page was shown: read it again and sign")
	}
	signed, err := h.Modes.SignCommitment(r.Context(), authz.From(r.Context()), a.ID, rev, text)
	if err != nil {
		return 0, err
	}
	if rev == 0 {
		return 0, nil
	}
	return signed.Revision, nil
}

// nameParties is the parties step of a joint item (一事多人): the role the
// applicant takes and, for every other role, the person's ID number and name.
func (h *Handler) nameParties(w http.ResponseWriter, r *http.Request) {
	a, it, ok := h.load(w, r)
	if !ok {
		return
	}
	own := r.PostFormValue("own_role")
	var parties []application.PartyRequest
	for _, ip := range it.Parties {
		pr := application.PartyRequest{Role: ip.Role, IDNumber: r.PostFormValue("party_" + ip.Role + "_id"), Name: r.PostFormValue("party_" + ip.Role + "_name")}
		if ip.Role == own || pr.IDNumber+pr.Name == "" { // left empty: the service says who is missing
			continue
		}
		parties = append(parties, pr)
	}
	if _, err := h.Modes.NameParties(r.Context(), authz.From(r.Context()), a.ID, 0, own, parties); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/me/applications/%d?step=materials", a.ID), http.StatusSeeOther)
}

// pledge signs the pledge of one material the item takes as a commitment.
func (h *Handler) pledge(w http.ResponseWriter, r *http.Request) {
	a, it, ok := h.load(w, r)
	if !ok {
		return
	}
	id := r.PathValue("material")
	i := slices.IndexFunc(it.Materials, func(m catalog.Material) bool { return m.ID == id })
	switch {
	case r.PostFormValue("pledge") != "yes":
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.NoPledge, "tick “I pledge” to make the pledge"))
		return
	case i >= 0 && r.PostFormValue("pledge_digest") != textDigest(application.PledgeText(it.Materials[i])):
		h.fail(w, r, apperr.New(apperr.Conflict, apperr.CommitmentChanged, "the pledge's wording changed since the page was shown: read it again and sign"))
		return
	}
	if _, err := h.Drafts.PledgeMaterial(r.Context(), authz.From(r.Context()), a.ID, 0, id); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, afterMaterial(a), http.StatusSeeOther)
}

// deferMaterial supplies a deferrable material later (容缺): the due date
// and the signed deferral commitment.
func (h *Handler) deferMaterial(w http.ResponseWriter, r *http.Request) {
	a, _, ok := h.load(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("pledge") != "yes" {
		h.fail(w, r, apperr.New(apperr.Invalid, apperr.NoPledge, "tick the box to commit to supplying it by the date"))
		return
	}
	if _, err := h.Modes.DeferMaterial(r.Context(), authz.From(r.Context()), a.ID, 0, r.PathValue("material"), r.PostFormValue("due")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, afterMaterial(a), http.StatusSeeOther)
}

// afterMaterial is where the page goes back to once a material changed.
func afterMaterial(a application.Application) string {
	if a.Status == "draft" {
		return fmt.Sprintf("/me/applications/%d?step=materials", a.ID)
	}
	return "/me/applications/" + strconv.FormatInt(a.ID, 10)
}
