package application

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"slices"

	"yiwang/internal/apperr"
	"yiwang/internal/authz"
	"yiwang/internal/catalog"
	"yiwang/internal/workflow"
)

// Trust levels of a material: A comes from government data (an e-licence or
// a registry), B is a scan a clerk checked against the original at the
// window, C is what the applicant uploaded themselves.
const (
	TrustGovernment = "A"
	TrustVerified   = "B"
	TrustUploaded   = "C"
	// TrustCommitment is a signed pledge in place of the material (告知承诺).
	TrustCommitment = "D"
)

// MaterialFile is the stored file of an uploaded material.
type MaterialFile struct {
	Digest    string `json:"digest"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
}

// UploadMaterial stores a file for one material of an application. The
// applicant uploads while drafting, or when a correction asks for that
// material; the clerk of a window intake uploads scans, and verified says the
// clerk checked them against the originals (trust B instead of C).
func (s *Drafts) UploadMaterial(ctx context.Context, p authz.Principal, id, expect int64, materialID string, r io.Reader, verified bool) (Application, error) {
	a, err := s.get(ctx, p, id)
	if err != nil {
		return a, err
	}
	clerk := a.HallCode != "" && p.Can(authz.WindowIntake) && a.accountID == p.AccountID
	if verified && !clerk {
		return a, apperr.New(apperr.Forbidden, apperr.ClerksVerify, "only the clerk who took the application in at the window can mark a scan as checked against the original")
	}
	if err := s.canUpload(ctx, a, materialID); err != nil {
		return a, err
	}
	info, err := s.blobs.Put(ctx, r)
	if err != nil {
		return a, err
	}
	trust := TrustUploaded
	if verified {
		trust = TrustVerified
	}
	by := actor{"applicant", p.AccountID, p.Name}
	if clerk {
		by = staffActor(p)
	}
	err = s.attach(ctx, a, expect, materialID, by, "upload", func(_ *sql.Tx, m *Material) (map[string]any, error) {
		m.Attached, m.Source, m.Trust, m.Ref = true, "upload", trust, info.Digest
		m.File = &MaterialFile{Digest: info.Digest, MediaType: info.MediaType, Size: info.Size}
		return map[string]any{"material": materialID, "digest": info.Digest, "media_type": info.MediaType, "size": info.Size, "trust": trust}, nil
	})
	if err != nil {
		return a, err
	}
	return s.get(ctx, p, id)
}

// PledgeMaterial attaches a material the item accepts as a signed
// commitment (告知承诺, e.g. 住所（经营场所）信息申报承诺): the applicant pledges
// what the material would prove. The pledge is kept with the application's
// other signed commitments (who, when, the text and its digest), so a later
// inspection can hold them to it.
func (s *Drafts) PledgeMaterial(ctx context.Context, p authz.Principal, id, expect int64, materialID string) (Application, error) {
	a, err := s.get(ctx, p, id)
	if err != nil {
		return a, err
	}
	m, err := s.canSupply(ctx, a, materialID, func(ms catalog.MaterialSource) bool { return ms.Commitment },
		"「%s」 cannot be pledged: the item asks for the material itself")
	if err != nil {
		return a, err
	}
	if err := s.maySign(ctx, p, a); err != nil {
		return a, err
	}
	d, err := s.ids.PersonDetails(ctx, s.db, a.personID)
	if err != nil {
		return a, err
	}
	pledge := PledgeText(m)
	trust := m.Trust
	if trust == "" {
		trust = TrustCommitment
	}
	by := signedBy(p, a)
	err = s.attach(ctx, a, expect, materialID, by, "commitment_signed", func(tx *sql.Tx, am *Material) (map[string]any, error) {
		if _, err := s.sign(ctx, tx, a.ID, "material:"+materialID, p, d.Name, pledge); err != nil {
			return nil, err
		}
		am.Attached, am.Source, am.Trust, am.Ref, am.File = true, "commitment", trust, digest(pledge), nil
		data := map[string]any{"material": materialID, "pledge": pledge, "pledge_digest": digest(pledge)}
		if by.kind == "staff" {
			data["signed_at_window"] = a.HallCode
		}
		return data, nil
	})
	if err != nil {
		return a, err
	}
	return s.get(ctx, p, id)
}

// PledgeText is what an applicant signs to pledge material m in place of
// supplying it; the portal shows it before they sign.
func PledgeText(m catalog.Material) string {
	if m.Note != nil {
		return "本人承诺：" + m.Name.Zh + "——" + m.Note.Zh
	}
	return "本人承诺：" + m.Name.Zh
}

// attach changes one material of application a under the row lock, fails
// a stale action clearly, and records the event on the timeline.
func (s *core) attach(ctx context.Context, a Application, expect int64, materialID string, by actor, event string, set func(*sql.Tx, *Material) (map[string]any, error)) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		locked, err := s.lockForAction(ctx, tx, a.ID, expect)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(locked.Materials, func(m Material) bool { return m.ID == materialID })
		if locked.Status != a.Status || i < 0 {
			return apperr.New(apperr.Conflict, apperr.StaleApplication, "application %d changed meanwhile: reload it and try again", a.ID)
		}
		m := &locked.Materials[i]
		data, err := set(tx, m)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(locked.Materials)
		if err := s.save(ctx, tx, &locked, update{Materials: string(b)}); err != nil {
			return err
		}
		if err := s.supplied(ctx, tx, a.ID, materialID); err != nil {
			return err
		}
		note := m.Name
		if _, ok := data["signed_at_window"]; ok {
			note += atWindowNote
		}
		return s.record(ctx, tx, a.ID, by, event, locked.Status, locked.Status, note, data)
	})
}

// canUpload insists the material exists, accepts uploads and may change now.
func (s *core) canUpload(ctx context.Context, a Application, materialID string) error {
	_, err := s.canSupply(ctx, a, materialID, func(ms catalog.MaterialSource) bool { return ms.Upload },
		"「%s」 cannot be uploaded: the item takes it only from government data or a signed commitment")
	return err
}

// canSupply insists the material exists, may change now and is accepted the
// way accepts says; refusal is the message (with the material's name) when not.
func (s *core) canSupply(ctx context.Context, a Application, materialID string, accepts func(catalog.MaterialSource) bool, refusal string) (catalog.Material, error) {
	i := slices.IndexFunc(a.Materials, func(m Material) bool { return m.ID == materialID })
	if i < 0 {
		return catalog.Material{}, apperr.New(apperr.NotFound, apperr.MaterialNotFound, "application %d has no material %q", a.ID, materialID)
	}
	pending, err := s.pendingDeferral(ctx, a.ID, materialID)
	if err != nil {
		return catalog.Material{}, err
	}
	switch workflow.Status(a.Status) {
	case workflow.Draft:
	case workflow.Correction:
		if !pending && (a.Correction == nil || !slices.ContainsFunc(a.Correction.Items, func(it CorrectionItem) bool { return it.Material == materialID })) {
			return catalog.Material{}, apperr.New(apperr.Conflict, apperr.NotAsked, "the correction does not ask for %q", a.Materials[i].Name)
		}
	default:
		if !pending || workflow.Final(workflow.Status(a.Status)) { // a deferred material (容缺) is supplied later
			return catalog.Material{}, apperr.New(apperr.Conflict, apperr.NotEditable, "application %d is %s: its materials can no longer change", a.ID, a.Status)
		}
	}
	if a.Materials[i].Trust == TrustGovernment {
		return catalog.Material{}, apperr.New(apperr.Conflict, apperr.FromGovernmentData, "「%s」 is already attached from government data: there is nothing to supply", a.Materials[i].Name)
	}
	v, err := s.catalog.VersionByID(ctx, a.VersionID)
	if err != nil {
		return catalog.Material{}, err
	}
	for _, m := range v.Item.Materials {
		if m.ID == materialID && slices.ContainsFunc(m.Sources, accepts) {
			return m, nil
		}
	}
	return catalog.Material{}, apperr.New(apperr.Invalid, apperr.NotAccepted, refusal, a.Materials[i].Name)
}

// OpenMaterial returns an uploaded material's file to its applicant or to
// staff who may see the application.
func (s *Drafts) OpenMaterial(ctx context.Context, p authz.Principal, id int64, materialID string) (io.ReadCloser, MaterialFile, error) {
	a, err := s.get(ctx, p, id)
	if apperr.Is(err, apperr.NotFound) && p.Kind == "staff" {
		var v StaffView
		v, err = s.staffApplication(ctx, p, id)
		a = v.Application
	}
	if err != nil {
		return nil, MaterialFile{}, err
	}
	i := slices.IndexFunc(a.Materials, func(m Material) bool { return m.ID == materialID })
	switch {
	case i < 0:
		return nil, MaterialFile{}, apperr.New(apperr.NotFound, apperr.MaterialNotFound, "application %d has no material %q", id, materialID)
	case a.Materials[i].File == nil:
		return nil, MaterialFile{}, apperr.New(apperr.Conflict, apperr.NoFile, "「%s」 has no uploaded file: it is attached from government data, or not supplied yet", a.Materials[i].Name)
	}
	f := *a.Materials[i].File
	rc, err := s.blobs.Open(ctx, f.Digest)
	return rc, f, err
}
