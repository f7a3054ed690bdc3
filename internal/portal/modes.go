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
		return 0, apperr.New(apperr.Invalid, "no_commitment", "this item is approved on your signed commitment (告知承诺): tick the box to sign it")
	}
	text := a.Modes.CommitmentText
	if r.PostFormValue("commitment_digest") != textDigest(text) {
		return 0, apperr.New(apperr.Conflict, "commitment_changed", "the commitment's wording changed since the page was shown: read it again and sign")
	}
	signed, err := h.Applications.SignCommitment(r.Context(), authz.From(r.Context()), a.ID, rev, text)
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
	if _, err := h.Applications.NameParties(r.Context(), authz.From(r.Context()), a.ID, 0, own, parties); err != nil {
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
		h.fail(w, r, apperr.New(apperr.Invalid, "no_pledge", "tick “I pledge” to make the pledge"))
		return
	case i >= 0 && r.PostFormValue("pledge_digest") != textDigest(application.PledgeText(it.Materials[i])):
		h.fail(w, r, apperr.New(apperr.Conflict, "commitment_changed", "the pledge's wording changed since the page was shown: read it again and sign"))
		return
	}
	if _, err := h.Applications.PledgeMaterial(r.Context(), authz.From(r.Context()), a.ID, 0, id); err != nil {
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
		h.fail(w, r, apperr.New(apperr.Invalid, "no_pledge", "tick the box to commit to supplying it by the date"))
		return
	}
	if _, err := h.Applications.DeferMaterial(r.Context(), authz.From(r.Context()), a.ID, 0, r.PathValue("material"), r.PostFormValue("due")); err != nil {
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

// errorTexts are the Chinese words for the service errors the wizard meets,
// by apperr code; any other error shows its own (English) message.
var errorTexts = map[string]string{
	"no_consent":              "请勾选同意读取您的数据；不同意则无法为您自动填写表单。",
	"no_commitment":           "本事项实行告知承诺制，请勾选并签署告知承诺书后再提交。",
	"commitment_unsigned":     "本事项实行告知承诺制，请先签署告知承诺书再提交。",
	"commitment_text":         "承诺书内容与事项规定的不一致，请刷新页面后重新签署。",
	"commitment_changed":      "承诺内容在您阅读后已更新，请重新阅读后签署。",
	"no_pledge":               "请勾选“我承诺”后再提交。",
	"bad_parties":             "当事人信息有误，请按下列提示修改：",
	"parties_missing":         "请先填写全部当事人，再提交申请。",
	"name_mismatch":           "当事人姓名与该身份证号码登记的姓名不一致。",
	"no_parties":              "本事项没有其他当事人。",
	"not_deferrable":          "该材料不能容缺，请现在提供。",
	"due_passed":              "补交日期须晚于今天。",
	"bad_date":                "请按“年-月-日”选择补交日期。",
	"attached":                "该材料已提供，无需容缺。",
	"not_accepted":            "该材料不能以这种方式提供。",
	"not_editable":            "办件已进入办理环节，材料不能再修改。",
	"not_asked":               "补正通知没有要求补交该材料。",
	"from_government_data":    "该材料已从部门数据自动调取，无需再提供。",
	"material_not_found":      "本办件没有这项材料。",
	"not_a_draft":             "办件已提交，不能再修改。",
	"already_decided":         "办件已办结。",
	"stale_application":       "办件在此期间已有变化，请刷新页面后重试。",
	"incomplete":              "还有必填内容未填写：",
	"bad_form":                "以下内容未能识别，请修改：",
	"no_file":                 "请选择要上传的文件（不超过32MB）。",
	"no_correction":           "本办件没有待补正的内容。",
	"real_name_level_too_low": "本事项要求更高的实名认证等级：请到政务服务大厅窗口核验身份，或在自助终端刷脸认证后再办理。",
	"not_finished":            "办件办结后才能评价。",
}

// errorText is an error's message in the page's language.
func errorText(lang string, e *apperr.Error) string {
	if zh, ok := errorTexts[e.Code]; ok && lang != "en" {
		return zh
	}
	return e.Message
}
