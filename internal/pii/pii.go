// Package pii protects residents' personal data: ID numbers, phone numbers,
// and whole columns that hold them (application forms, decision records).
//
// A value is stored encrypted (Protector.SealFor, bound to its column),
// found again through a keyed blind index (Protector.Index) so that no query
// ever needs the plaintext, shown masked to anyone without a need to see it
// (MaskIDNumber, MaskPhone, MaskName), and every time a staff member does see
// it unmasked the view is written to the access log (AccessLog), which
// auditors can list. The database keeps the key's fingerprint
// (CheckFingerprint), so that it is never used with two keys.
//
// The package reads no environment and keeps no global state: the caller
// parses the master key from its configuration and builds one Protector.
// Plaintext never appears in an error this package returns.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/crypto/hkdf"

	"yiwang/internal/apperr"
)

// KeySize is the length of a master key in bytes.
const KeySize = 32

// Key is a master key. Its formatting is redacted, so a key that reaches a
// log line or an error by mistake does not leak.
type Key [KeySize]byte

// Format prints a placeholder for every verb instead of the key's bytes.
func (Key) Format(f fmt.State, verb rune) { io.WriteString(f, "pii.Key(redacted)") }

// ParseKey parses a master key written as base64 (standard or URL alphabet,
// padded or not) of exactly 32 bytes, as NewKey makes. Surrounding spaces and
// newlines, as a key file usually ends with, are ignored. The error never
// repeats the key.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Key{}, apperr.New(apperr.Invalid, apperr.PIIKeyMissing,
			"no PII master key is configured: generate one (32 random bytes, base64, e.g. `openssl rand -base64 32`) and keep it with the other secrets")
	}
	var raw []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if raw, err = enc.Strict().DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return Key{}, apperr.New(apperr.Invalid, apperr.PIIKeyNotBase64,
			"the PII master key is not base64: give the 32-byte key in base64 exactly as it was generated (44 characters, or 43 without the trailing =); this one has %d", len(s))
	}
	if len(raw) != KeySize {
		return Key{}, apperr.New(apperr.Invalid, apperr.PIIKeyLength,
			"the PII master key decodes to %d bytes, but it must be exactly %d: check that the whole key was copied, or generate a new one (`openssl rand -base64 32`)", len(raw), KeySize)
	}
	return Key(raw), nil
}

// NewKey returns a new random master key in the base64 form ParseKey reads,
// for `yiwang` to print or write to a key file.
func NewKey() (string, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return "", apperr.Wrap(err, apperr.Internal, apperr.PIIKeyRandom, "cannot generate a PII master key: the system's random source failed")
	}
	return base64.StdEncoding.EncodeToString(k[:]), nil
}

// The HKDF info strings give each purpose its own subkey, so the blind index
// reveals nothing about the encryption key and neither can stand in for the
// other. Changing them changes every stored value: they are part of the format.
const (
	infoEncryption = "yiwang pii encryption v1"
	infoIndex      = "yiwang pii blind index v1"
	// infoFingerprint keys the HMAC of fingerprintLabel that identifies the
	// master key (Fingerprint) without revealing it or any other subkey.
	infoFingerprint  = "yiwang pii key fingerprint v1"
	fingerprintLabel = "yiwang data key fingerprint"
)

// sealVersion prefixes every sealed value, so the format (cipher, key
// derivation, encoding) can change later while old values still open.
const sealVersion = "v1:"

// indexHexLen is how much of the HMAC the blind index keeps: 128 bits are
// far beyond any collision a table of residents could produce.
const indexHexLen = 32

// Protector seals, opens and indexes personal data with subkeys derived from
// one master key. It is safe for concurrent use.
type Protector struct {
	aead        cipher.AEAD
	indexKey    []byte
	fingerprint string
}

// NewProtector derives the encryption and blind-index subkeys from master
// (HKDF-SHA256, no salt: the master key is already uniformly random).
func NewProtector(master Key) (*Protector, error) {
	encKey, err := derive(master, infoEncryption)
	if err != nil {
		return nil, err
	}
	indexKey, err := derive(master, infoIndex)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, apperr.PIICipher, "cannot set up PII encryption")
	}
	aead, err := cipher.NewGCM(block) // 12-byte nonce, 16-byte tag
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, apperr.PIICipher, "cannot set up PII encryption")
	}
	fpKey, err := derive(master, infoFingerprint)
	if err != nil {
		return nil, err
	}
	m := hmac.New(sha256.New, fpKey)
	io.WriteString(m, fingerprintLabel)
	return &Protector{aead: aead, indexKey: indexKey, fingerprint: hex.EncodeToString(m.Sum(nil))}, nil
}

func derive(master Key, info string) ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := io.ReadFull(hkdf.New(sha256.New, master[:], nil, []byte(info)), k); err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, apperr.PIIKeyDerivation, "cannot derive the PII subkeys")
	}
	return k, nil
}

// Seal encrypts plaintext with no context; see SealFor.
func (p *Protector) Seal(plaintext string) (string, error) { return p.SealFor(plaintext, "") }

// SealFor encrypts plaintext (AES-256-GCM, random nonce) bound to context,
// such as the column it is stored in ("persons.id_number"): it opens only
// with the same context, so a ciphertext copied into another column, where
// it would be shown under a different meaning, fails to open. The result is
// "v1:" followed by base64url(nonce || ciphertext || tag).
func (p *Protector) SealFor(plaintext, context string) (string, error) {
	sealed, err := p.AppendSealFor(nil, new([]byte), []byte(plaintext), context)
	return string(sealed), err
}

// AppendSealFor appends to dst what SealFor returns for plaintext, keeping
// the ciphertext in *scratch (grown as needed). Bulk loaders seal millions
// of values with it, reusing both buffers instead of allocating four a value.
func (p *Protector) AppendSealFor(dst []byte, scratch *[]byte, plaintext []byte, context string) ([]byte, error) {
	ns := p.aead.NonceSize()
	*scratch = slices.Grow((*scratch)[:0], ns+len(plaintext)+p.aead.Overhead())
	buf := (*scratch)[:ns]
	if _, err := rand.Read(buf); err != nil {
		return dst, apperr.Wrap(err, apperr.Internal, apperr.PIISeal, "cannot encrypt personal data: the system's random source failed")
	}
	buf = p.aead.Seal(buf, buf[:ns], plaintext, []byte(context))
	*scratch = buf
	dst = append(dst, sealVersion...)
	return base64.RawURLEncoding.AppendEncode(dst, buf), nil
}

// Open decrypts a value sealed by Seal; see OpenFor.
func (p *Protector) Open(sealed string) (string, error) { return p.OpenFor(sealed, "") }

// OpenFor decrypts a value sealed by SealFor with the same context. It fails
// with an apperr.Internal error for an unknown format version, a malformed
// value, or one sealed under another key or context or altered since; the
// error repeats neither the value nor anything derived from it, because what
// reaches Open is sometimes plaintext that was never sealed.
func (p *Protector) OpenFor(sealed, context string) (string, error) {
	body, ok := strings.CutPrefix(sealed, sealVersion)
	if !ok {
		return "", apperr.New(apperr.Internal, apperr.PIIUnknownVersion,
			"an encrypted personal-data value is not in a format this version knows (expected the %q prefix): it was written by a newer version or was never encrypted", sealVersion)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return "", apperr.New(apperr.Internal, apperr.PIIMalformed,
			"an encrypted personal-data value is not valid base64url: it was truncated or altered in storage")
	}
	ns := p.aead.NonceSize()
	if len(raw) < ns+p.aead.Overhead() {
		return "", apperr.New(apperr.Internal, apperr.PIIMalformed,
			"an encrypted personal-data value is too short to hold a nonce and tag: it was truncated in storage")
	}
	plain, err := p.aead.Open(nil, raw[:ns], raw[ns:], []byte(context))
	if err != nil {
		// The GCM error says only "message authentication failed"; it is not
		// wrapped, to keep this package's errors free of anything but our words.
		return "", apperr.New(apperr.Internal, apperr.PIICannotOpen,
			"an encrypted personal-data value cannot be opened: it was sealed with another master key or for another field, or altered since; check the configured PII key")
	}
	return string(plain), nil
}

// Index returns the blind index of value: an HMAC-SHA256 under the index
// subkey of the value trimmed of surrounding spaces and upper-cased (so an ID
// number ending in x finds one stored with X), hex-encoded and cut to 32
// characters. Equal values give equal indexes, so a column of indexes can be
// searched for exact matches; without the key an index reveals nothing, not
// even which of the few billion ID numbers it came from.
func (p *Protector) Index(value string) string {
	m := hmac.New(sha256.New, p.indexKey)
	io.WriteString(m, normalize(value))
	var sum [sha256.Size]byte
	return hex.EncodeToString(m.Sum(sum[:0]))[:indexHexLen]
}

// normalize is what Index hashes: the spelling differences that do not make
// a different value (surrounding spaces, letter case) are removed.
func normalize(value string) string { return strings.ToUpper(strings.TrimSpace(value)) }

// DeriveKey returns a 32-byte key for another purpose (e.g. sealing sign-in
// state cookies), derived from master so that every process sharing the
// master key agrees on it and nothing more needs storing.
func DeriveKey(master Key, purpose string) ([]byte, error) {
	return derive(master, "yiwang "+purpose)
}
