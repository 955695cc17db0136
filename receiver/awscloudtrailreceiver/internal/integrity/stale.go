package integrity

import (
	"sort"
	"time"
)

// A log file read once its time is older than the window (on the trail's
// clock) cannot be decided from the state: the digests that list it, or
// cover its time, have left it. In SQS mode every object created is read
// (a file injected now with a name dated in the past); in polling mode a
// lookback or start_time backfill reads old files; a file verified long
// ago may be read again (a notification redelivered). Such a file is
// stale: Sweep returns it (Outcome.Stale), the caller looks up the digests
// that cover its time in S3 and tells the state what they say (Resolve).

// maxStale bounds the stale files a folder keeps waiting for their
// lookup; beyond it the newest are given up (Outcome.Abandoned).
const maxStale = 4096

// maxLookups bounds the lookups one sweep asks for (the sweep holds the
// folder's lock): the others are asked for by the next sweeps, the oldest
// first.
const maxLookups = 64

// maxLookupFails is how many lookups of one stale file may fail (backing
// off on the state's clock, as existence checks do) before it is given up.
const maxLookupFails = 5

// StaleFile is a log file read that no digest in the state lists, whose
// time is older than the window: the caller looks up the digests that
// cover its time and answers with Resolve.
type StaleFile struct {
	Bucket, Key string
	FileTime    time.Time
	Hash        string
	// Fails counts its lookups that failed.
	Fails int
}

// CoveringDigest is a digest found in S3 whose range is near a stale
// file's time.
type CoveringDigest struct {
	Key        string
	Start, End time.Time
	// Invalid: it failed verification; its range counts as covered (as for
	// a digest in the state) but what it lists is not trusted.
	Invalid bool
	// Listed: it lists the file, with Hash.
	Listed bool
	Hash   string
}

// Lookup is what the lookup of a stale file's digests found.
type Lookup struct {
	// Failed: the digests could not be listed, read or verified (a
	// throttled or denied call, public keys not fetched): nothing is
	// concluded, the lookup is made again later.
	Failed bool
	// Digests are the digests whose range meets the file's time and the
	// grace period after it, of every trail of the folder.
	Digests []CoveringDigest
}

// stale collects the stale files of the sweep (Seen entries older than
// the window, while digests were verified in the folder): it returns those
// due for a lookup, at most maxLookups, the oldest first, and gives up the
// newest beyond maxStale.
func (s *FolderState) stale(files []StaleFile) (due, abandoned []StaleFile) {
	sort.Slice(files, func(i, j int) bool {
		if !files[i].FileTime.Equal(files[j].FileTime) {
			return files[i].FileTime.Before(files[j].FileTime)
		}
		return files[i].Key < files[j].Key
	})
	if len(files) > maxStale {
		abandoned = files[maxStale:]
		files = files[:maxStale]
		for _, f := range abandoned {
			del(s, fSeen, s.Seen, id(f.Bucket, f.Key))
		}
	}
	now := s.now()
	for _, f := range files {
		if len(due) == maxLookups {
			break
		}
		if !now.Before(s.Seen[id(f.Bucket, f.Key)].Retry) {
			due = append(due, f)
		}
	}
	return due, abandoned
}

// Resolve records the lookup of a stale file's digests: a verified digest
// listing it with its hash verifies it; with another hash, it is reported
// modified; a digest that failed verification listing it vouches for it
// (the bad_signature finding covers it); listed by none while the digests
// cover its time as Sweep requires (unsigned), it is reported unsigned;
// otherwise (no digest covers it: a trail without validation then) nothing
// is concluded. A failed lookup is made again at a later sweep, backing off
// (twice grace, then doubling, at most the window); after maxLookupFails
// it is given up (kept is false) without a finding. The file leaves the
// state unless its lookup is made again.
func (s *FolderState) Resolve(f StaleFile, l Lookup, grace, window time.Duration) (out Outcome, kept bool) {
	s.init()
	k := id(f.Bucket, f.Key)
	seen, ok := s.Seen[k]
	if !ok || seen.Hash != f.Hash || !seen.FileTime.Equal(f.FileTime) {
		// Decided or read again meanwhile.
		return Outcome{}, true
	}
	if l.Failed {
		seen.Fails++
		if seen.Fails >= maxLookupFails {
			del(s, fSeen, s.Seen, k)
			return Outcome{}, false
		}
		seen.Retry = s.now().Add(backoff(seen.Fails, grace, window))
		set(s, fSeen, s.Seen, k, seen)
		return Outcome{}, true
	}
	del(s, fSeen, s.Seen, k)
	var listed *CoveringDigest
	vouched := false
	for i, d := range l.Digests {
		switch {
		case !d.Listed:
		case d.Invalid:
			vouched = true
		case listed == nil || d.Hash == seen.Hash:
			listed = &l.Digests[i]
		}
	}
	if listed != nil {
		return s.match(f.Bucket, f.Key, seen.Hash, Expected{Hash: listed.Hash, Digest: listed.Key, Start: listed.Start, End: listed.End}, seen.FileTime), true
	}
	if _, ok := s.Vouched[k]; vouched || ok {
		return Outcome{}, true
	}
	if unsigned(lookupCovers(l.Digests), s.Newest, seen.FileTime, grace) {
		out.Findings = append(out.Findings, unsignedFinding(f.Bucket, f.Key, seen))
	}
	return out, true
}

// lookupCovers is covers() of the digests a lookup found.
func lookupCovers(ds []CoveringDigest) map[string]*chainCover {
	cs := coverSet{}
	for _, d := range ds {
		c := ""
		if dk, ok := ParseDigestKey(d.Key); ok {
			c = dk.Chain()
		}
		cs.add(c, Span{Start: d.Start, End: d.End}, !d.Invalid)
	}
	cs.sort()
	return cs
}

// unsignedFinding is the finding of a file read that no digest lists.
func unsignedFinding(bucket, key string, seen Seen) Finding {
	reason := "no digest lists this log file (injected, or written by something other than CloudTrail)"
	if seen.Hash == damaged {
		reason = "no digest lists this log file, which cannot be read to the end"
	}
	return Finding{Status: StatusUnsigned, Bucket: bucket, Key: key, Start: seen.FileTime, End: seen.FileTime, Reason: reason}
}

// DigestEnds is the range of digest ends (the time in a digest's key) the
// lookup of f reads: the digests that may list f or cover its time and the
// grace period after it.
func (f StaleFile) DigestEnds(grace time.Duration) (from, to time.Time) {
	return f.FileTime.Add(-spanTolerance), f.FileTime.Add(grace + time.Hour + spanTolerance)
}
