// Package seal keeps the departments' electronic seals (电子印章): one SM2 key
// pair per issuing department in use at a time, signing with SM2 over SM3
// (GB/T 32918, GB/T 32905) through github.com/emmansun/gmsm.
//
// Private keys are stored sealed (AES-256-GCM, bound to the key's id) under a
// subkey derived from the platform's personal-data master key, so there is
// one secret to keep, not two. Rotation retires a department's key without
// deleting it: every licence names the key that sealed it, and retired keys
// stay published so old licences verify.
package seal

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"yiwang/internal/apperr"
	"yiwang/internal/audit"
	"yiwang/internal/pii"
	"yiwang/internal/store"
)

// Algorithm names the signature scheme in licences and the key list: SM2
// with the default user ID 1234567812345678, i.e. an SM2 signature of
// SM3(Z_A || message) (GB/T 32918.2), DER-encoded.
const Algorithm = "SM2-SM3"

// keyPurpose derives the subkey that seals private keys from the master key;
// changing it makes every stored private key unreadable: it is part of the format.
const keyPurpose = "seal private keys v1"

// Key is a department's public seal key as published.
type Key struct {
	ID         string     `json:"id"`
	Department string     `json:"department"`
	Algorithm  string     `json:"algorithm"`
	PublicKey  string     `json:"public_key_pem"`
	CreatedAt  time.Time  `json:"created_at"`
	RetiredAt  *time.Time `json:"retired_at,omitempty"`
	pub        *ecdsa.PublicKey
}

// Keyring creates, rotates and uses the seal keys kept in the database. It is
// safe for concurrent use.
type Keyring struct {
	db     *store.DB
	sealer *pii.Protector
	now    func() time.Time

	mu   sync.Mutex
	priv map[string]*sm2.PrivateKey // by key id; a key id's key never changes
	pub  map[string]*Key
}

// NewKeyring returns the keyring whose private keys are sealed under a subkey
// of master.
func NewKeyring(db *store.DB, master pii.Key) (*Keyring, error) {
	sub, err := pii.DeriveKey(master, keyPurpose)
	if err != nil {
		return nil, err
	}
	sealer, err := pii.NewProtector(pii.Key(sub))
	if err != nil {
		return nil, err
	}
	return &Keyring{db: db, sealer: sealer, now: func() time.Time { return time.Now().UTC() },
		priv: map[string]*sm2.PrivateKey{}, pub: map[string]*Key{}}, nil
}

// Querier is a database or a transaction.
type Querier interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func privateContext(id string) string { return "seal_keys.private_key:" + id }

// newKeyID is the department code, the creation date and random hex, so a
// person reading a licence's key id sees whose and how old it is.
func newKeyID(dept string, now time.Time) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return dept + "-" + now.Format("20060102") + "-" + hex.EncodeToString(b[:]), nil
}

// create makes and stores a new active key for dept inside q.
func (k *Keyring) create(ctx context.Context, q Querier, dept string) (string, error) {
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return "", apperr.Wrap(err, apperr.Internal, apperr.SealKeygen, "cannot generate a seal key: the system's random source failed")
	}
	now := k.now()
	id, err := newKeyID(dept, now)
	if err != nil {
		return "", err
	}
	der, err := smx509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return "", err
	}
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	sealed, err := k.sealer.SealFor(hex.EncodeToString(priv.D.FillBytes(make([]byte, 32))), privateContext(id))
	if err != nil {
		return "", err
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO seal_keys (id, department, public_key, private_key, created_at) VALUES ($1, $2, $3, $4, $5)`,
		id, dept, pubPEM, sealed, now); err != nil {
		return "", fmt.Errorf("store the seal key of %s: %w", dept, err)
	}
	return id, nil
}

// Active returns the id of dept's key in use, creating the department's first
// key if it has none. Two processes creating one at once: the unique index on
// active keys lets one win, and the other reads the winner's.
func (k *Keyring) Active(ctx context.Context, dept string) (string, error) {
	var id string
	err := k.db.QueryRowContext(ctx, `SELECT id FROM seal_keys WHERE department = $1 AND retired_at IS NULL`, dept).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	id, err = k.create(ctx, k.db, dept)
	if err == nil {
		return id, nil
	}
	if err2 := k.db.QueryRowContext(ctx, `SELECT id FROM seal_keys WHERE department = $1 AND retired_at IS NULL`, dept).Scan(&id); err2 == nil {
		return id, nil
	}
	return "", err
}

// ActiveTx is Active inside the caller's transaction (the issuing one): a
// department without a key gets one that commits with the licence.
func (k *Keyring) ActiveTx(ctx context.Context, tx *sql.Tx, dept string) (string, error) {
	var id string
	err := tx.QueryRowContext(ctx, `SELECT id FROM seal_keys WHERE department = $1 AND retired_at IS NULL`, dept).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return k.create(ctx, tx, dept)
	}
	return id, err
}

// Rotate retires dept's key in use (if any) and makes a new one, in one
// transaction. Licences sealed with the old key still verify.
func (k *Keyring) Rotate(ctx context.Context, dept string) (oldID, newID string, err error) {
	err = k.db.InTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM seal_keys WHERE department = $1 AND retired_at IS NULL`, dept).Scan(&oldID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if oldID != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE seal_keys SET retired_at = $1 WHERE id = $2`, k.now(), oldID); err != nil {
				return err
			}
		}
		if newID, err = k.create(ctx, tx, dept); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{Actor: audit.Automatic(audit.System, "command line"), Action: "config.seal_rotate",
			ObjectKind: "seal_key", ObjectID: newID, Detail: map[string]any{"department": dept, "retired": oldID}})
	})
	return oldID, newID, err
}

// Digest is the SM3 digest of message, hex-encoded: what a licence records as
// the fingerprint of its canonical content.
func Digest(message []byte) string {
	sum := sm3.Sum(message)
	return hex.EncodeToString(sum[:])
}

// Sign seals message with key id (read within q, which may be the issuing
// transaction that just created it), returning the base64 DER signature.
func (k *Keyring) Sign(ctx context.Context, q Querier, id string, message []byte) (string, error) {
	priv, err := k.private(ctx, q, id)
	if err != nil {
		return "", err
	}
	sig, err := priv.SignWithSM2(rand.Reader, nil, message)
	if err != nil {
		return "", apperr.Wrap(err, apperr.Internal, apperr.SealSign, "cannot seal the licence")
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

func (k *Keyring) private(ctx context.Context, q Querier, id string) (*sm2.PrivateKey, error) {
	k.mu.Lock()
	priv, ok := k.priv[id]
	k.mu.Unlock()
	if ok {
		return priv, nil
	}
	var sealed string
	var retired sql.NullTime
	if err := q.QueryRowContext(ctx, `SELECT private_key, retired_at FROM seal_keys WHERE id = $1`, id).Scan(&sealed, &retired); err != nil {
		return nil, fmt.Errorf("seal key %s: %w", id, err)
	}
	if retired.Valid {
		return nil, apperr.New(apperr.Conflict, apperr.SealKeyRetired, "seal key %s was retired on %s: seal with the department's current key", id, retired.Time.Format("2006-01-02"))
	}
	plain, err := k.sealer.OpenFor(sealed, privateContext(id))
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, apperr.SealKeySealed, fmt.Sprintf("the private seal key %s cannot be opened: it was sealed under another data key (YIWANG_DATA_KEY) or altered", id))
	}
	d, err := hex.DecodeString(plain)
	if err != nil {
		return nil, fmt.Errorf("seal key %s: malformed", id)
	}
	priv, err = sm2.NewPrivateKey(d)
	if err != nil {
		return nil, fmt.Errorf("seal key %s: %w", id, err)
	}
	k.mu.Lock()
	k.priv[id] = priv
	k.mu.Unlock()
	return priv, nil
}

// Public returns the published key id, or an apperr.NotFound.
func (k *Keyring) Public(ctx context.Context, id string) (*Key, error) {
	k.mu.Lock()
	key, ok := k.pub[id]
	k.mu.Unlock()
	if ok && key.RetiredAt != nil {
		return key, nil // a retired key never changes again
	}
	keys, err := k.list(ctx, `WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, apperr.New(apperr.NotFound, apperr.SealKeyNotFound, "no seal key %q was ever used here", id)
	}
	return &keys[0], nil
}

// Keys lists every seal key, in use and retired, for the well-known list.
func (k *Keyring) Keys(ctx context.Context) ([]Key, error) { return k.list(ctx, "") }

func (k *Keyring) list(ctx context.Context, where string, args ...any) ([]Key, error) {
	keys, err := store.All(ctx, k.db, func(row store.Scanner) (Key, error) {
		var key Key
		var retired sql.NullTime
		if err := row.Scan(&key.ID, &key.Department, &key.PublicKey, &key.CreatedAt, &retired); err != nil {
			return key, err
		}
		key.Algorithm, key.CreatedAt = Algorithm, key.CreatedAt.UTC()
		if retired.Valid {
			t := retired.Time.UTC()
			key.RetiredAt = &t
		}
		var err error
		if key.pub, err = ParsePublicKey(key.PublicKey); err != nil {
			return key, fmt.Errorf("seal key %s: %w", key.ID, err)
		}
		return key, nil
	}, `SELECT id, department, public_key, created_at, retired_at FROM seal_keys `+where+` ORDER BY department, created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	if keys == nil {
		keys = []Key{}
	}
	k.mu.Lock()
	for i := range keys {
		k.pub[keys[i].ID] = &keys[i]
	}
	k.mu.Unlock()
	return keys, nil
}

// ParsePublicKey reads a PEM "PUBLIC KEY" block holding an SM2 key.
func ParsePublicKey(pemText string) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(pemText)))
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM public key")
	}
	pub, err := smx509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("not an SM2 public key")
	}
	return ec, nil
}

// Verify reports whether sig (base64 DER) is key's SM2 signature of message.
func (key *Key) Verify(message []byte, sig string) bool {
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || key.pub == nil {
		return false
	}
	return sm2.VerifyASN1WithSM2(key.pub, nil, message, raw)
}

// SignAs signs message inside tx with owner's key in use (a department's, or
// the platform's audit key), creating it on first use, and returns the key's
// id with the signature: for records signed after sealing, such as a
// licence's status or the audit chain's head.
func (k *Keyring) SignAs(ctx context.Context, tx *sql.Tx, owner string, message []byte) (keyID, signature string, err error) {
	if keyID, err = k.ActiveTx(ctx, tx, owner); err != nil {
		return "", "", err
	}
	signature, err = k.Sign(ctx, tx, keyID, message)
	return keyID, signature, err
}

// VerifyWith reports whether signature is key keyID's signature of message;
// a key never used here does not verify anything.
func (k *Keyring) VerifyWith(ctx context.Context, keyID string, message []byte, signature string) (bool, error) {
	key, err := k.Public(ctx, keyID)
	if apperr.Is(err, apperr.NotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return key.Verify(message, signature), nil
}
