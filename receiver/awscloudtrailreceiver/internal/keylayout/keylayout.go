// Package keylayout knows how CloudTrail names its log files in S3:
// [prefix/]AWSLogs/[o-id/]ACCOUNT/CloudTrail[-Insight]/REGION/YYYY/MM/DD/
// ACCOUNT_CloudTrail[-Insight]_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz
package keylayout

import (
	"path"
	"strings"
	"time"
)

// Kinds of CloudTrail folders.
const (
	KindLog     = "CloudTrail"
	KindInsight = "CloudTrail-Insight"
	KindDigest  = "CloudTrail-Digest"
)

// Root returns the folder that holds a trail's AWSLogs tree, with a
// trailing slash: "[prefix/]AWSLogs/".
func Root(prefix string) string {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return "AWSLogs/"
	}
	return prefix + "/AWSLogs/"
}

// Prefix is the folder of one account, kind and region: the unit that is
// listed incrementally and checkpointed.
type Prefix struct {
	// Root is "[prefix/]AWSLogs/" as returned by Root.
	Root string
	// Org is the organization ID for organization trails, else empty.
	Org     string
	Account string
	Kind    string
	Region  string
}

// String returns the S3 key prefix of the folder, ending in '/'.
func (p Prefix) String() string {
	var b strings.Builder
	b.Grow(len(p.Root) + len(p.Org) + 64)
	b.WriteString(p.Root)
	if p.Org != "" {
		b.WriteString(p.Org)
		b.WriteByte('/')
	}
	b.WriteString(p.Account)
	b.WriteByte('/')
	b.WriteString(p.Kind)
	b.WriteByte('/')
	b.WriteString(p.Region)
	b.WriteByte('/')
	return b.String()
}

// StartAfter returns a key that sorts just before every file of this
// folder delivered at or after t (to the minute).
func (p Prefix) StartAfter(t time.Time) string {
	t = t.UTC()
	return p.String() + t.Format("2006/01/02/") + p.Account + "_" + p.Kind + "_" + p.Region + "_" + t.Format("20060102T1504") + "Z"
}

// FileTime returns the delivery time encoded in a log file's name.
func FileTime(key string) (time.Time, bool) {
	name := path.Base(key)
	parts := strings.Split(name, "_")
	if len(parts) < 5 {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T1504Z", parts[3])
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// IsLogFile reports whether a key names a CloudTrail log file (gzipped or
// plain JSON) rather than a folder marker or another object.
func IsLogFile(key string) bool {
	return strings.HasSuffix(key, ".json.gz") || strings.HasSuffix(key, ".json")
}

// Parse reads the folder and delivery time of a CloudTrail log file key:
// [prefix/]AWSLogs/[o-id/]ACCOUNT/KIND/REGION/YYYY/MM/DD/FILE. ok is false
// for keys of another shape (digest files included: their kind is
// CloudTrail-Digest, which callers check).
func Parse(key string) (p Prefix, fileTime time.Time, ok bool) {
	i := strings.Index(key, "AWSLogs/")
	if i < 0 || (i > 0 && key[i-1] != '/') {
		return Prefix{}, time.Time{}, false
	}
	p.Root = key[:i+len("AWSLogs/")]
	parts := strings.Split(key[len(p.Root):], "/")
	if len(parts) > 0 && strings.HasPrefix(parts[0], "o-") {
		p.Org, parts = parts[0], parts[1:]
	}
	if len(parts) != 7 {
		return Prefix{}, time.Time{}, false
	}
	p.Account, p.Kind, p.Region = parts[0], parts[1], parts[2]
	fileTime, ok = FileTime(key)
	return p, fileTime, ok && p.Account != "" && p.Kind != "" && p.Region != ""
}
