package integrity

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Signature metadata of a digest object (x-amz-meta-signature and
// x-amz-meta-signature-algorithm; the SDK returns them without the prefix).
const (
	MetaSignature          = "signature"
	MetaSignatureAlgorithm = "signature-algorithm"
	// Algorithm is the only signature algorithm CloudTrail uses.
	Algorithm = "SHA256withRSA"
)

// Reasons a digest fails verification.
var (
	// ErrUnsigned: the object has no signature metadata.
	ErrUnsigned = errors.New("digest object has no x-amz-meta-signature")
	// ErrMoved: the digest names another bucket/key than where it was read.
	ErrMoved = errors.New("digest was moved from its original location")
	// ErrUnknownKey: no public key with the digest's fingerprint is valid at its end time.
	ErrUnknownKey = errors.New("no public key for the digest's fingerprint at its time")
	// ErrBadSignature: the signature does not match the digest.
	ErrBadSignature = errors.New("signature verification failed")
)

// PublicKey is a regional CloudTrail public key from ListPublicKeys.
type PublicKey struct {
	Fingerprint string
	Key         *rsa.PublicKey
	// Start and End bound the key's validity (End zero: still valid).
	Start, End time.Time
}

// ParsePublicKey reads a ListPublicKeys entry (DER, PKCS#1).
func ParsePublicKey(fingerprint string, der []byte, start, end time.Time) (PublicKey, error) {
	k, err := x509.ParsePKCS1PublicKey(der)
	if err != nil {
		return PublicKey{}, fmt.Errorf("public key %s: %w", fingerprint, err)
	}
	return PublicKey{Fingerprint: fingerprint, Key: k, Start: start, End: end}, nil
}

// Keyring holds public keys by fingerprint.
type Keyring struct {
	keys map[string][]PublicKey
}

// Add adds keys to the ring (a key seen again is kept once).
func (r *Keyring) Add(keys ...PublicKey) {
	if r.keys == nil {
		r.keys = map[string][]PublicKey{}
	}
next:
	for _, k := range keys {
		for _, have := range r.keys[k.Fingerprint] {
			if have.Start.Equal(k.Start) && have.End.Equal(k.End) {
				continue next
			}
		}
		r.keys[k.Fingerprint] = append(r.keys[k.Fingerprint], k)
	}
}

// Lookup returns the key with fingerprint valid at t.
func (r *Keyring) Lookup(fingerprint string, t time.Time) (PublicKey, bool) {
	for _, k := range r.keys[fingerprint] {
		if !t.Before(k.Start) && (k.End.IsZero() || !t.After(k.End)) {
			return k, true
		}
	}
	return PublicKey{}, false
}

// SigningString is the data signing string of a digest: its end time, its
// S3 path, the hex SHA-256 of its uncompressed content and the previous
// digest's signature ("null" for the first digest of a chain), one per line.
func SigningString(d Digest, raw []byte) []byte {
	sum := sha256.Sum256(raw)
	prev := "null"
	if d.PreviousDigestSignature != nil {
		prev = *d.PreviousDigestSignature
	}
	return []byte(d.DigestEndTime + "\n" + d.DigestS3Bucket + "/" + d.DigestS3Object + "\n" + hex.EncodeToString(sum[:]) + "\n" + prev)
}

// Signed is a digest read from S3 with its signature metadata.
type Signed struct {
	// Bucket and Key are where it was read.
	Bucket, Key string
	Digest      Digest
	// Raw is the uncompressed content.
	Raw []byte
	// Signature (hex) and Algorithm are the object's metadata.
	Signature, Algorithm string
}

// Hash returns the hex SHA-256 of the digest's uncompressed content, which
// the next digest names as previousDigestHashValue.
func (s Signed) Hash() string {
	sum := sha256.Sum256(s.Raw)
	return hex.EncodeToString(sum[:])
}

// Verify checks a digest's location and signature. The returned error
// wraps ErrUnsigned, ErrMoved, ErrUnknownKey or ErrBadSignature.
func Verify(s Signed, keys *Keyring) error {
	d := s.Digest
	if s.Signature == "" {
		return ErrUnsigned
	}
	if d.DigestS3Bucket != s.Bucket || d.DigestS3Object != s.Key {
		return fmt.Errorf("%w: it names s3://%s/%s", ErrMoved, d.DigestS3Bucket, d.DigestS3Object)
	}
	alg := s.Algorithm
	if alg == "" {
		alg = d.DigestSignatureAlgorithm
	}
	if !strings.EqualFold(alg, Algorithm) {
		return fmt.Errorf("%w: unsupported signature algorithm %q", ErrBadSignature, alg)
	}
	k, ok := keys.Lookup(d.DigestPublicKeyFingerprint, d.End)
	if !ok {
		return fmt.Errorf("%w: fingerprint %s at %s", ErrUnknownKey, d.DigestPublicKeyFingerprint, d.DigestEndTime)
	}
	sig, err := hex.DecodeString(s.Signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not hex", ErrBadSignature)
	}
	h := sha256.Sum256(SigningString(d, s.Raw))
	if err := rsa.VerifyPKCS1v15(k.Key, crypto.SHA256, h[:], sig); err != nil {
		return ErrBadSignature
	}
	return nil
}
