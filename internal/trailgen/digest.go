package trailgen

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/md5" //nolint:gosec // the fingerprint's format, not a security use
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// SignatureAlgorithm is the only algorithm CloudTrail signs digests with.
const SignatureAlgorithm = "SHA256withRSA"

// KeyPair is a regional CloudTrail signing key, valid from Start to End.
type KeyPair struct {
	Private     *rsa.PrivateKey
	Fingerprint string
	Start, End  time.Time
}

// NewKeyPair generates a 2048-bit RSA signing key valid from start to end.
func NewKeyPair(start, end time.Time) (*KeyPair, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	kp := &KeyPair{Private: k, Start: start.UTC(), End: end.UTC()}
	sum := md5.Sum(kp.PublicDER()) //nolint:gosec
	kp.Fingerprint = hex.EncodeToString(sum[:])
	return kp, nil
}

// PublicDER is the public key as ListPublicKeys returns it: DER, PKCS#1.
func (k *KeyPair) PublicDER() []byte { return x509.MarshalPKCS1PublicKey(&k.Private.PublicKey) }

// DigestKey returns the S3 key of a digest file ending at end; backfill
// digests carry the _backfill suffix.
func DigestKey(prefix, org, account, region, trail, homeRegion string, end time.Time, backfill bool) string {
	b := awsLogs(prefix, org)
	end = end.UTC()
	fmt.Fprintf(b, "%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_%s_%s_%s", account, region, end.Format("2006/01/02"),
		account, region, trail, homeRegion, end.Format("20060102T150405Z"))
	if backfill {
		b.WriteString("_backfill")
	}
	b.WriteString(".json.gz")
	return b.String()
}

// DigestLogFile is one log file a digest lists.
type DigestLogFile struct {
	Bucket, Key string
	// Content is the log file's uncompressed content (its hash is listed).
	Content                []byte
	OldestEvent, NewestEvt time.Time
}

// DigestSpec describes a digest file to sign.
type DigestSpec struct {
	Bucket, Key, Account string
	Start, End           time.Time
	// Previous is the previous digest of the chain; nil starts a chain
	// (previousDigestSignature null).
	Previous *SignedDigest
	LogFiles []DigestLogFile
}

// SignedDigest is a digest file as CloudTrail stores it.
type SignedDigest struct {
	Bucket, Key string
	// Body is the stored object (gzipped JSON); Raw its uncompressed content.
	Body, Raw []byte
	// Signature is the hex signature (x-amz-meta-signature).
	Signature string
}

// Metadata returns the object's user metadata as gofakes3 stores it.
func (d SignedDigest) Metadata() map[string]string {
	return map[string]string{"X-Amz-Meta-Signature": d.Signature, "X-Amz-Meta-Signature-Algorithm": SignatureAlgorithm}
}

type digestLogJSON struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

// Sign writes and signs a digest file as CloudTrail does: the signature
// is SHA256withRSA over "digestEndTime\nbucket/key\nhex(sha256(raw))\n
// previousSignature" (previous "null" for the first of a chain).
func (k *KeyPair) Sign(spec DigestSpec) (SignedDigest, error) {
	files := make([]digestLogJSON, 0, len(spec.LogFiles))
	var oldest, newest time.Time
	for _, f := range spec.LogFiles {
		sum := sha256.Sum256(f.Content)
		files = append(files, digestLogJSON{S3Bucket: f.Bucket, S3Object: f.Key, HashValue: hex.EncodeToString(sum[:]), HashAlgorithm: "SHA-256",
			NewestEventTime: f.NewestEvt.UTC().Format(EventTimeLayout), OldestEventTime: f.OldestEvent.UTC().Format(EventTimeLayout)})
		if oldest.IsZero() || f.OldestEvent.Before(oldest) {
			oldest = f.OldestEvent
		}
		if f.NewestEvt.After(newest) {
			newest = f.NewestEvt
		}
	}
	doc := map[string]any{
		"awsAccountId": spec.Account, "digestStartTime": spec.Start.UTC().Format(EventTimeLayout), "digestEndTime": spec.End.UTC().Format(EventTimeLayout),
		"digestS3Bucket": spec.Bucket, "digestS3Object": spec.Key, "digestPublicKeyFingerprint": k.Fingerprint, "digestSignatureAlgorithm": SignatureAlgorithm,
		"previousDigestS3Bucket": nil, "previousDigestS3Object": nil, "previousDigestHashValue": nil, "previousDigestHashAlgorithm": nil, "previousDigestSignature": nil,
		"logFiles": files,
	}
	if len(files) > 0 {
		doc["oldestEventTime"] = oldest.UTC().Format(EventTimeLayout)
		doc["newestEventTime"] = newest.UTC().Format(EventTimeLayout)
	}
	prevSig := "null"
	if p := spec.Previous; p != nil {
		sum := sha256.Sum256(p.Raw)
		doc["previousDigestS3Bucket"], doc["previousDigestS3Object"] = p.Bucket, p.Key
		doc["previousDigestHashValue"], doc["previousDigestHashAlgorithm"] = hex.EncodeToString(sum[:]), "SHA-256"
		doc["previousDigestSignature"] = p.Signature
		prevSig = p.Signature
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return SignedDigest{}, err
	}
	sum := sha256.Sum256(raw)
	toSign := fmt.Sprintf("%s\n%s/%s\n%s\n%s", spec.End.UTC().Format(EventTimeLayout), spec.Bucket, spec.Key, hex.EncodeToString(sum[:]), prevSig)
	h := sha256.Sum256([]byte(toSign))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.Private, crypto.SHA256, h[:])
	if err != nil {
		return SignedDigest{}, err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	return SignedDigest{Bucket: spec.Bucket, Key: spec.Key, Body: gz.Bytes(), Raw: raw, Signature: hex.EncodeToString(sig)}, nil
}
