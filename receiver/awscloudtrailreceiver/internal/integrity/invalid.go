package integrity

import "time"

// Digests that fail verification (bad_signature).

// Processed reports whether a digest was processed already.
func (s *FolderState) Processed(digestKey string) bool {
	_, ok := s.Digests[digestKey]
	return ok
}

// MarkInvalid records a digest that failed verification (already reported
// as such) as processed. The files it lists are not checked further: their
// hashes cannot be trusted, and reporting them unsigned would repeat the
// finding.
func (s *FolderState) MarkInvalid(key string, start, end time.Time, files []LogFile) {
	s.init()
	// Its range is not signed: a forged digest claiming years would make
	// every file read look covered (and unsigned). At most its hour counts.
	if hour := end.Add(-time.Hour); start.Before(hour) || start.After(end) {
		start = hour
	}
	set(s, fDigests, s.Digests, key, end)
	set(s, fSpans, s.Spans, key, Span{Start: start, End: end})
	set(s, fInvalid, s.Invalid, key, end)
	del(s, fPending, s.Pending, key)
	for _, f := range files {
		k := id(f.S3Bucket, f.S3Object)
		del(s, fSeen, s.Seen, k)
		del(s, fExpected, s.Expected, k)
		s.verify(k, VerifiedFile{Time: end})
	}
}
