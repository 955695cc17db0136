package integrity

import "time"

// Digests that fail verification (bad_signature). Anyone who can write to
// the bucket can write one, so what it lists is not trusted: it must not
// switch off the check of the files a verified digest lists (a forged
// digest listing a file the attacker modified or deleted), nor keep the
// genuine digest at its key from being checked (a forgery written there
// before CloudTrail writes the genuine one).

// Processed reports whether a digest was processed already: verified, or
// failed verification as the object version tag (its ETag; "" when not
// known yet: a digest that failed verification is then fetched again).
func (s *FolderState) Processed(digestKey, tag string) bool {
	if _, ok := s.Digests[digestKey]; !ok {
		return false
	}
	if _, invalid := s.Invalid[digestKey]; !invalid {
		return true
	}
	return tag != "" && s.Tags[digestKey] == tag
}

// futureLimit is the latest time a CloudTrail object can be dated: the
// wall clock, with an hour for clock skew.
func futureLimit() time.Time { return time.Now().Add(time.Hour) }

// MarkInvalid records a digest that failed verification (already reported
// as such) as processed, with the version tag of its object. The files it
// lists are vouched for: they are not reported unsigned, which would
// repeat the finding; their hashes are still compared when a verified
// digest lists them, and their existence checked.
func (s *FolderState) MarkInvalid(key, tag string, start, end time.Time, files []LogFile) {
	s.init()
	// A digest dated ahead of the wall clock is not CloudTrail's: it vouches
	// for nothing, and it is kept as if it ended now, so that it leaves the
	// state with the window.
	future := end.After(futureLimit())
	if future {
		end = futureLimit()
	}
	// Its range is not signed: a forged digest claiming years would make
	// every file read look covered (and unsigned). At most its hour counts.
	if hour := end.Add(-time.Hour); start.Before(hour) || start.After(end) {
		start = hour
	}
	set(s, fDigests, s.Digests, key, end)
	set(s, fSpans, s.Spans, key, Span{Start: start, End: end})
	set(s, fInvalid, s.Invalid, key, end)
	set(s, fTags, s.Tags, key, tag)
	del(s, fPending, s.Pending, key)
	if future {
		return
	}
	for _, f := range files {
		k := id(f.S3Bucket, f.S3Object)
		if t, ok := s.Vouched[k]; !ok || end.After(t) {
			set(s, fVouched, s.Vouched, k, end)
		}
	}
}
