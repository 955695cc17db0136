// Package integrity verifies CloudTrail log file integrity validation
// digests as AWS documents it ("Custom implementations of CloudTrail log
// file integrity validation"): the digest file's RSA signature (SHA256withRSA
// over the data signing string, key chosen by fingerprint among the keys of
// cloudtrail:ListPublicKeys), the chain of digests (each names the previous
// one's key, hash and signature), and the SHA-256 of each log file's
// uncompressed content. It does no I/O: callers hand it objects and keys.
package integrity

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
)

// TimeLayout is the format of the digest's times (UTC extended format).
const TimeLayout = "2006-01-02T15:04:05Z"

// MaxDigestBytes bounds a digest file's uncompressed size. An hour of an
// account and region lists at most a few thousand log files (~300 bytes each).
const MaxDigestBytes = 64 << 20

// Digest is a parsed digest file. Times are kept as written: the data
// signing string uses digestEndTime verbatim.
type Digest struct {
	AWSAccountID                string    `json:"awsAccountId"`
	DigestStartTime             string    `json:"digestStartTime"`
	DigestEndTime               string    `json:"digestEndTime"`
	DigestS3Bucket              string    `json:"digestS3Bucket"`
	DigestS3Object              string    `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string    `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string    `json:"digestSignatureAlgorithm"`
	PreviousDigestS3Bucket      *string   `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string   `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string   `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string   `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string   `json:"previousDigestSignature"`
	LogFiles                    []LogFile `json:"logFiles"`

	// Start and End are DigestStartTime and DigestEndTime parsed.
	Start, End time.Time `json:"-"`
}

// LogFile is one log file a digest lists, with the hex SHA-256 of its
// uncompressed content.
type LogFile struct {
	S3Bucket      string `json:"s3Bucket"`
	S3Object      string `json:"s3Object"`
	HashValue     string `json:"hashValue"`
	HashAlgorithm string `json:"hashAlgorithm"`
}

// ErrFormat is wrapped by the errors of a digest that cannot be read.
var ErrFormat = errors.New("invalid digest format")

// ParseDigest reads a digest object (gzipped, or plain JSON) and returns
// it with its uncompressed content, which the signature covers.
func ParseDigest(body []byte) (Digest, []byte, error) {
	raw := body
	if len(body) >= 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return Digest{}, nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		raw, err = io.ReadAll(io.LimitReader(zr, MaxDigestBytes+1))
		if err != nil {
			return Digest{}, nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		if len(raw) > MaxDigestBytes {
			return Digest{}, nil, fmt.Errorf("%w: larger than %d bytes", ErrFormat, MaxDigestBytes)
		}
	}
	var d Digest
	if err := json.Unmarshal(raw, &d); err != nil {
		return Digest{}, nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	var err error
	if d.Start, err = time.Parse(TimeLayout, d.DigestStartTime); err != nil {
		return Digest{}, nil, fmt.Errorf("%w: digestStartTime: %v", ErrFormat, err)
	}
	if d.End, err = time.Parse(TimeLayout, d.DigestEndTime); err != nil {
		return Digest{}, nil, fmt.Errorf("%w: digestEndTime: %v", ErrFormat, err)
	}
	if d.DigestS3Bucket == "" || d.DigestS3Object == "" || d.DigestPublicKeyFingerprint == "" {
		return Digest{}, nil, fmt.Errorf("%w: digestS3Bucket, digestS3Object and digestPublicKeyFingerprint are required", ErrFormat)
	}
	return d, raw, nil
}

// DigestKey is what a digest file's key says: its folder, trail and end.
type DigestKey struct {
	// Folder is the digest folder ([prefix/]AWSLogs/[o-id/]ACCOUNT/CloudTrail-Digest/REGION/).
	Folder keylayout.Prefix
	// Trail and HomeRegion name the trail that wrote it.
	Trail, HomeRegion string
	End               time.Time
	// Backfill digests list log files an earlier digest missed; they are
	// outside the chain.
	Backfill bool
}

// ParseDigestKey reads a digest key:
// [prefix/]AWSLogs/[o-id/]ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/
// ACCOUNT_CloudTrail-Digest_REGION_TRAIL_HOMEREGION_YYYYMMDDTHHMMSSZ[_backfill].json.gz.
// Trail names may hold underscores, so the name is read from both ends.
func ParseDigestKey(key string) (DigestKey, bool) {
	i := strings.Index(key, "AWSLogs/")
	if i < 0 || (i > 0 && key[i-1] != '/') {
		return DigestKey{}, false
	}
	var dk DigestKey
	p := &dk.Folder
	p.Root = key[:i+len("AWSLogs/")]
	parts := strings.Split(key[len(p.Root):], "/")
	if len(parts) > 0 && strings.HasPrefix(parts[0], "o-") {
		p.Org, parts = parts[0], parts[1:]
	}
	if len(parts) != 7 || parts[1] != keylayout.KindDigest {
		return DigestKey{}, false
	}
	p.Account, p.Kind, p.Region = parts[0], parts[1], parts[2]
	name, ok := strings.CutSuffix(path.Base(key), ".json.gz")
	if !ok {
		return DigestKey{}, false
	}
	name, dk.Backfill = strings.CutSuffix(name, "_backfill")
	head := p.Account + "_" + keylayout.KindDigest + "_" + p.Region + "_"
	rest, ok := strings.CutPrefix(name, head)
	if !ok {
		return DigestKey{}, false
	}
	j := strings.LastIndexByte(rest, '_')
	if j < 0 {
		return DigestKey{}, false
	}
	end, err := time.Parse("20060102T150405Z", rest[j+1:])
	if err != nil {
		return DigestKey{}, false
	}
	dk.End = end
	rest = rest[:j]
	j = strings.LastIndexByte(rest, '_')
	if j <= 0 || j == len(rest)-1 {
		return DigestKey{}, false
	}
	dk.Trail, dk.HomeRegion = rest[:j], rest[j+1:]
	return dk, p.Account != "" && p.Region != ""
}

// Chain names the chain a digest belongs to: one trail's digests for one
// account and region.
func (k DigestKey) Chain() string {
	return k.Folder.String() + k.Trail + "_" + k.HomeRegion
}

// LogFolder returns the folder of the log files this digest's folder covers.
func (k DigestKey) LogFolder() keylayout.Prefix {
	p := k.Folder
	p.Kind = keylayout.KindLog
	return p
}
