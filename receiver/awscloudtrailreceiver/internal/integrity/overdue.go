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

// overdue takes the expected files due for a check of their existence:
// those whose digest ended before cut (they leave the state) and, once,
// those the reader should have read by now because it verified a file
// delivered more than grace after the digest that lists them ended.
func (s *FolderState) overdue(grace time.Duration, cut time.Time) []Overdue {
	var out []Overdue
	for k, e := range s.Expected {
		expired := e.End.Before(cut)
		if !expired && (e.Checked || s.Latest.Before(e.End.Add(grace))) {
			continue
		}
		bucket, key := split(k)
		out = append(out, Overdue{Bucket: bucket, Key: key, Expected: e, Expired: expired})
		if expired {
			del(s, fExpected, s.Expected, k)
		} else {
			e.Checked = true
			set(s, fExpected, s.Expected, k, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
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
// missing; a failed check is made again at a later sweep, for at most
// twice the window (kept is false when it is given up).
func (s *FolderState) Confirm(o Overdue, res Existence, window time.Duration) (out Outcome, kept bool) {
	s.init()
	k := id(o.Bucket, o.Key)
	switch res {
	case Gone:
		del(s, fExpected, s.Expected, k)
		return Outcome{Findings: []Finding{Missing(o.Bucket, o.Key, o.Digest, o.Start, o.End)}}, true
	case Unknown:
		if o.End.Before(s.now().Add(-2 * window)) {
			del(s, fExpected, s.Expected, k)
			return Outcome{}, false
		}
		e := o.Expected
		e.Checked = false
		set(s, fExpected, s.Expected, k, e)
	}
	return Outcome{}, true
}
