package integrity

import (
	"sort"
	"time"
)

// A log file that a verified digest lists and that existed then is
// expected until the reader reads it. If it is deleted before the reader
// lists it (the reader is behind, or in SQS mode its notification never
// comes), nothing reads it and nothing finds it gone: the expectation
// becomes overdue and the caller checks that the file still exists. That
// costs nothing for the files read in time.

// maxChecks bounds the existence checks one sweep asks for (the sweep
// holds the folder's lock): the others are asked for by the next sweeps,
// the oldest first.
const maxChecks = 256

// overdue takes the expected files due for a check of their existence:
// those whose digest ended before cut (they leave the state) and, once,
// those the reader should have read by now because it verified a file
// delivered more than grace after the digest that lists them ended. A
// file whose last check failed waits until its Retry.
func (s *FolderState) overdue(grace time.Duration, cut time.Time) []Overdue {
	now := s.now()
	var out []Overdue
	for k, e := range s.Expected {
		if now.Before(e.Retry) {
			continue
		}
		expired := e.End.Before(cut)
		if !expired && (e.Checked || s.Latest.Before(e.End.Add(grace))) {
			continue
		}
		bucket, key := split(k)
		out = append(out, Overdue{Bucket: bucket, Key: key, Expected: e, Expired: expired})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].End.Equal(out[j].End) {
			return out[i].End.Before(out[j].End)
		}
		return out[i].Key < out[j].Key
	})
	if len(out) > maxChecks {
		out = out[:maxChecks]
	}
	for _, o := range out {
		k := id(o.Bucket, o.Key)
		if o.Expired {
			del(s, fExpected, s.Expected, k)
		} else {
			e := o.Expected
			e.Checked = true
			set(s, fExpected, s.Expected, k, e)
		}
	}
	return out
}

// Existence is what the check of an overdue file found.
type Existence int

const (
	// Exists: the file is there (not read yet, read by another collector,
	// or before start_time).
	Exists Existence = iota
	// Gone: the file does not exist.
	Gone
	// Unknown: the check failed; it is made again at a later sweep.
	Unknown
)

// Confirm records the check of an overdue file: a file gone is reported
// missing; a failed check is made again at a later sweep, backing off
// (twice grace, then doubling, at most the window), for at most twice the
// window: then it is given up (kept is false) and reported missing, as a
// file whose existence cannot be checked.
func (s *FolderState) Confirm(o Overdue, res Existence, grace, window time.Duration) (out Outcome, kept bool) {
	s.init()
	k := id(o.Bucket, o.Key)
	switch res {
	case Gone:
		del(s, fExpected, s.Expected, k)
		return Outcome{Findings: []Finding{Missing(o.Bucket, o.Key, o.Digest, o.Start, o.End)}}, true
	case Unknown:
		now := s.now()
		if o.End.Before(now.Add(-2 * window)) {
			del(s, fExpected, s.Expected, k)
			f := Missing(o.Bucket, o.Key, o.Digest, o.Start, o.End)
			f.Reason = "the digest lists this log file, which was never read, and whether it exists cannot be checked: " +
				"HeadObject kept failing (S3 answers 403 AccessDenied, not 404, for a missing key when s3:ListBucket is not granted on the log prefix)"
			return Outcome{Findings: []Finding{f}}, false
		}
		e := o.Expected
		e.Checked = false
		e.Fails++
		e.Retry = now.Add(backoff(e.Fails, grace, window))
		set(s, fExpected, s.Expected, k, e)
	case Exists:
		if o.Fails > 0 && !o.Expired {
			e := o.Expected
			e.Checked, e.Fails, e.Retry = true, 0, time.Time{}
			set(s, fExpected, s.Expected, k, e)
		}
	}
	return Outcome{}, true
}

// backoff is the wait after the fails-th failed check in a row.
func backoff(fails int, grace, window time.Duration) time.Duration {
	d := 2 * grace
	for i := 1; i < fails && d < window; i++ {
		d *= 2
	}
	return min(d, window)
}
