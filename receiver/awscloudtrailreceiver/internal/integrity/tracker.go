package integrity

import (
	"encoding/json"
	"time"
)

// Values of the aws.cloudtrail.integrity.status attribute.
const (
	StatusValid        = "valid"
	StatusModified     = "modified"
	StatusMissing      = "missing"
	StatusUnsigned     = "unsigned"
	StatusBadSignature = "bad_signature"
	StatusChainBroken  = "chain_broken"
)

// damaged stands for the hash of a log file that could not be read to the
// end (corrupt gzip or JSON): it matches no digest.
const damaged = "damaged"

// Finding is one integrity problem. Bucket and Key name the log file (or,
// for bad_signature and chain_broken, the digest file).
type Finding struct {
	Status      string
	Bucket, Key string
	// DigestKey is the digest that lists the file or that failed.
	DigestKey string
	// Start and End are the digest's time range (for unsigned files, the
	// file's time).
	Start, End time.Time
	Reason     string
}

// Expected is a log file listed in a verified digest, not read yet.
type Expected struct {
	Hash   string    `json:"h"`
	Digest string    `json:"d"`
	Start  time.Time `json:"s"`
	End    time.Time `json:"e"`
	// Checked: it was found to exist when it became overdue; it is checked
	// again when it expires.
	Checked bool `json:"c,omitempty"`
	// Fails counts the checks of its existence that failed in a row; the
	// next check waits until Retry (on the state's clock), backing off.
	Fails int       `json:"f,omitempty"`
	Retry time.Time `json:"r,omitempty"`
}

// Overdue is a log file a verified digest lists that was not read in time:
// the caller checks that it exists and tells the state (Confirm).
type Overdue struct {
	Bucket, Key string
	Expected
	// Expired: it leaves the state (the window passed) unless its check fails.
	Expired bool
}

// VerifiedFile is a log file whose hash matched its digest, with the
// file's time. Hash "" marks the files of a digest that failed
// verification, which are not checked.
type VerifiedFile struct {
	Hash string    `json:"h,omitempty"`
	Time time.Time `json:"t"`
}

// UnmarshalJSON also reads the earlier format of a verified file: its time.
func (v *VerifiedFile) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		*v = VerifiedFile{}
		return json.Unmarshal(b, &v.Time)
	}
	type plain VerifiedFile
	return json.Unmarshal(b, (*plain)(v))
}

// Seen is a log file read (with its hash), not listed in a digest yet.
type Seen struct {
	Hash     string    `json:"h"`
	FileTime time.Time `json:"t"`
	// Fails counts the lookups of its digests that failed (a stale file,
	// see stale.go); the next waits until Retry (on the state's clock).
	Fails int       `json:"f,omitempty"`
	Retry time.Time `json:"r,omitempty"`
}

// FolderState is the integrity state of one log folder (account and
// region), kept in the storage extension. Every entry expires after the
// window (Sweep), so the state stays bounded. Its maps are changed only by
// its methods (they record the changes and keep the sweep's caches).
type FolderState struct {
	// Expected, Seen and Verified are keyed by "bucket/key".
	Expected map[string]Expected `json:"expected"`
	Seen     map[string]Seen     `json:"seen"`
	// Verified holds the files whose hash matched, so that reading one
	// again (a restart before its checkpoint was saved) raises nothing,
	// unless it was modified since.
	Verified map[string]VerifiedFile `json:"verified"`
	// Digests holds the processed digest keys with their end.
	Digests map[string]time.Time `json:"digests"`
	// Spans holds the time range of each processed digest: a file is
	// reported unsigned only once digests cover its time and the grace
	// period after it (digests may be processed out of order in SQS mode).
	Spans map[string]Span `json:"spans"`
	// Invalid holds the digests that failed verification (reported once:
	// the next digest's chain check does not report them again).
	Invalid map[string]time.Time `json:"invalid"`
	// Tags holds the object version (ETag) of each digest in Invalid: the
	// key is processed again when its object changes (CloudTrail writing
	// the genuine digest over a forgery placed at its key).
	Tags map[string]string `json:"tags,omitempty"`
	// Vouched holds the files listed by a digest that failed verification,
	// with its end: they are not reported unsigned (the bad_signature
	// finding covers them), and nothing else changes for them, so a
	// verified digest listing them still compares their hashes.
	Vouched map[string]time.Time `json:"vouched,omitempty"`
	// Unread holds the digests that could not be read, until they are read
	// or reported (the receiver reads them again): kept here so that one
	// whose notification was given up is still reported after a restart.
	Unread map[string]Unread `json:"unread,omitempty"`
	// Links is the last verified digest of each chain.
	Links map[string]Link `json:"links"`
	// Pending holds the digests listed and not processed yet, with their
	// end: their chains count as live before they are processed.
	Pending map[string]time.Time `json:"pending,omitempty"`
	// Newest is the newest end of a verified (non-backfill) digest.
	Newest time.Time `json:"newest"`
	// Latest is the newest time of a log file verified. The window is measured
	// back from the later of Newest and Latest, on the trail's own clock, so
	// that a backfill of old files keeps its state as long as a live trail.
	Latest time.Time `json:"latest"`

	// chains caches the chain of each digest key (not saved).
	chains map[string]string
	// changes records the entries changed since they were last saved
	// (nil: not tracked).
	changes *changeSet
	// verifiedFloor is a time no verified file is older than (zero:
	// unknown): Sweep looks for expired ones only once the window passes it.
	verifiedFloor time.Time
	// coverGen counts the changes to Spans, Invalid and Pending; cover is
	// covers() as of coverAt (nil: none).
	coverGen, coverAt uint64
	cover             map[string]*chainCover
}

// NewFolderState returns an empty state.
func NewFolderState() *FolderState {
	s := &FolderState{}
	s.init()
	return s
}

func (s *FolderState) init() {
	if s.Expected == nil {
		s.Expected = map[string]Expected{}
	}
	if s.Seen == nil {
		s.Seen = map[string]Seen{}
	}
	if s.Verified == nil {
		s.Verified = map[string]VerifiedFile{}
	}
	if s.Digests == nil {
		s.Digests = map[string]time.Time{}
	}
	if s.Links == nil {
		s.Links = map[string]Link{}
	}
	if s.Invalid == nil {
		s.Invalid = map[string]time.Time{}
	}
	if s.Spans == nil {
		s.Spans = map[string]Span{}
	}
	if s.Pending == nil {
		s.Pending = map[string]time.Time{}
	}
	if s.Tags == nil {
		s.Tags = map[string]string{}
	}
	if s.Vouched == nil {
		s.Vouched = map[string]time.Time{}
	}
	if s.Unread == nil {
		s.Unread = map[string]Unread{}
	}
}

// Unread is a digest that could not be read.
type Unread struct {
	Bucket string    `json:"b"`
	End    time.Time `json:"e"`
	// Reason is the last error code.
	Reason string `json:"r,omitempty"`
	// Failures counts the reads that failed.
	Failures int `json:"f"`
}

// NoteUnread records a digest that could not be read.
func (s *FolderState) NoteUnread(key string, u Unread) {
	s.init()
	set(s, fUnread, s.Unread, key, u)
}

// ForgetUnread forgets an unreadable digest (read, reported, or expired).
func (s *FolderState) ForgetUnread(key string) {
	s.init()
	del(s, fUnread, s.Unread, key)
}

// Span is the time range of a digest.
type Span struct {
	Start time.Time `json:"s"`
	End   time.Time `json:"e"`
}

// Outcome is what a state change concluded.
type Outcome struct {
	Findings []Finding
	// FilesVerified counts the log files whose hash matched their digest.
	FilesVerified int
	// Overdue are the listed files the caller must check (Sweep).
	Overdue []Overdue
	// Stale are the files read older than the window whose digests the
	// caller must look up (Sweep, see Resolve); Abandoned are those given
	// up unlooked-up because too many wait (the caller logs and counts them).
	Stale, Abandoned []StaleFile
}

func id(bucket, key string) string { return bucket + "/" + key }

// FileRead records the hash (hex SHA-256 of the uncompressed content) of a
// log file read to the end; hash "" means it could not be read to the end.
func (s *FolderState) FileRead(bucket, key string, fileTime time.Time, hash string) Outcome {
	s.init()
	if hash == "" {
		hash = damaged
	}
	k := id(bucket, key)
	if e, ok := s.Expected[k]; ok {
		del(s, fExpected, s.Expected, k)
		return s.match(bucket, key, hash, e, fileTime)
	}
	if v, ok := s.Verified[k]; ok && (v.Hash == hash || (v.Hash == "" && hash != damaged)) {
		return Outcome{}
	} else if ok && v.Hash != "" {
		// Read again (a restart, a lookback) after it was modified.
		return s.match(bucket, key, hash, Expected{Hash: v.Hash, Start: v.Time, End: v.Time}, fileTime)
	}
	set(s, fSeen, s.Seen, k, Seen{Hash: hash, FileTime: fileTime})
	return Outcome{}
}

func (s *FolderState) match(bucket, key, hash string, e Expected, fileTime time.Time) Outcome {
	if hash == e.Hash {
		// Only a file a digest signed moves the clock: the time in the
		// name of an injected file (years ahead) would expire everything.
		if fileTime.After(s.Latest) {
			s.Latest = fileTime
			s.touchClock()
		}
		s.verify(id(bucket, key), VerifiedFile{Hash: hash, Time: fileTime})
		return Outcome{FilesVerified: 1}
	}
	reason := "the SHA-256 of the file's uncompressed content differs from the hash its digest lists"
	if hash == damaged {
		reason = "the file cannot be read to the end (corrupt gzip or JSON)"
	}
	return Outcome{Findings: []Finding{{Status: StatusModified, Bucket: bucket, Key: key, DigestKey: e.Digest, Start: e.Start, End: e.End, Reason: reason}}}
}

// FileGone records that a log file was found deleted while reading it.
func (s *FolderState) FileGone(bucket, key string) Outcome {
	s.init()
	k := id(bucket, key)
	e, ok := s.Expected[k]
	if !ok {
		return Outcome{}
	}
	del(s, fExpected, s.Expected, k)
	return Outcome{Findings: []Finding{Missing(bucket, key, e.Digest, e.Start, e.End)}}
}

// Missing is the finding of a log file a digest lists that does not exist.
func Missing(bucket, key, digest string, start, end time.Time) Finding {
	return Finding{Status: StatusMissing, Bucket: bucket, Key: key, DigestKey: digest, Start: start, End: end,
		Reason: "the digest lists this log file but it does not exist (deleted)"}
}

// ApplyDigest applies a verified digest: the files it lists that were read
// are compared; it returns the others (unseen), which the caller checks
// for existence (Missing, or Expect when they exist).
func (s *FolderState) ApplyDigest(sd Signed, dk DigestKey) (out Outcome, unseen []LogFile) {
	s.init()
	d := sd.Digest
	set(s, fDigests, s.Digests, sd.Key, d.End)
	set(s, fSpans, s.Spans, sd.Key, Span{Start: d.Start, End: d.End})
	del(s, fPending, s.Pending, sd.Key)
	// A genuine digest written over a forgery at its key.
	del(s, fInvalid, s.Invalid, sd.Key)
	del(s, fTags, s.Tags, sd.Key)
	if l, ok := s.Links[dk.Chain()]; !dk.Backfill && (!ok || !d.End.Before(l.End)) {
		// A digest handled late (out of order) does not move the chain back.
		set(s, fLinks, s.Links, dk.Chain(), LinkOf(sd))
		if d.End.After(s.Newest) {
			s.Newest = d.End
			s.touchClock()
		}
	}
	for _, f := range d.LogFiles {
		k := id(f.S3Bucket, f.S3Object)
		e := Expected{Hash: f.HashValue, Digest: sd.Key, Start: d.Start, End: d.End}
		if seen, ok := s.Seen[k]; ok {
			del(s, fSeen, s.Seen, k)
			o := s.match(f.S3Bucket, f.S3Object, seen.Hash, e, seen.FileTime)
			out.Findings = append(out.Findings, o.Findings...)
			out.FilesVerified += o.FilesVerified
			continue
		}
		if _, ok := s.Verified[k]; ok {
			continue
		}
		unseen = append(unseen, f)
	}
	return out, unseen
}

// Expect records a listed log file that exists and was not read yet.
func (s *FolderState) Expect(f LogFile, sd Signed) {
	s.init()
	set(s, fExpected, s.Expected, id(f.S3Bucket, f.S3Object), Expected{Hash: f.HashValue, Digest: sd.Key, Start: sd.Digest.Start, End: sd.Digest.End})
}

// split cuts "bucket/key" (bucket names hold no '/').
func split(k string) (bucket, key string) {
	for i := 0; i < len(k); i++ {
		if k[i] == '/' {
			return k[:i], k[i+1:]
		}
	}
	return k, ""
}

// verify records a verified file.
func (s *FolderState) verify(k string, v VerifiedFile) {
	set(s, fVerified, s.Verified, k, v)
	if v.Time.Before(s.verifiedFloor) {
		s.verifiedFloor = v.Time
	}
}
