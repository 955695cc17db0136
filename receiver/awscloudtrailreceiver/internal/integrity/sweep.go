package integrity

import "time"

// Sweep reports as unsigned the files read that no digest listed although
// the digests cover their time and the grace period after it (see
// unsigned), returns the listed files due for a check of their existence
// (Outcome.Overdue, see overdue), returns the files read older than the
// window whose digests the caller must look up (Outcome.Stale, see
// Resolve), and forgets entries older than the window (back from the
// newest digest or file).
func (s *FolderState) Sweep(grace, window time.Duration) Outcome {
	s.init()
	cut := s.now().Add(-window)
	seenCut := s.seenClock().Add(-window)
	var out Outcome
	var stale []StaleFile
	if len(s.Seen) > 0 {
		covers := s.covers()
		future := futureLimit()
		for k, seen := range s.Seen {
			// Dated ahead of the wall clock: no digest can cover it within
			// the window (see the README). Older than the window: the file
			// left Verified or the digests that listed it may have (read
			// again at the window's edge, or first read late): its digests
			// are looked up (stale.go), unless no digest was verified in
			// the folder (a trail without validation: nothing to look up).
			if old := seen.FileTime.Before(seenCut); (old && s.now().IsZero()) || seen.FileTime.After(future) {
				del(s, fSeen, s.Seen, k)
				continue
			} else if old {
				bucket, key := split(k)
				stale = append(stale, StaleFile{Bucket: bucket, Key: key, FileTime: seen.FileTime, Hash: seen.Hash, Fails: seen.Fails})
				continue
			}
			if _, vouched := s.Vouched[k]; !vouched && unsigned(covers, s.Newest, seen.FileTime, grace) {
				bucket, key := split(k)
				out.Findings = append(out.Findings, unsignedFinding(bucket, key, seen))
				del(s, fSeen, s.Seen, k)
			}
		}
	}
	out.Stale, out.Abandoned = s.stale(stale)
	out.Overdue = s.overdue(grace, cut)
	if s.verifiedFloor.IsZero() || s.verifiedFloor.Before(cut) {
		var floor time.Time
		for k, v := range s.Verified {
			switch {
			case v.Time.Before(cut):
				del(s, fVerified, s.Verified, k)
			case floor.IsZero() || v.Time.Before(floor):
				floor = v.Time
			}
		}
		s.verifiedFloor = floor
	}
	for _, fm := range [...]struct {
		f field
		m map[string]time.Time
	}{{fDigests, s.Digests}, {fInvalid, s.Invalid}, {fPending, s.Pending}, {fVouched, s.Vouched}} {
		for k, t := range fm.m {
			if t.Before(cut) {
				del(s, fm.f, fm.m, k)
			}
		}
	}
	for k := range s.Tags {
		if _, ok := s.Invalid[k]; !ok {
			del(s, fTags, s.Tags, k)
		}
	}
	for k, sp := range s.Spans {
		if sp.End.Before(cut) {
			del(s, fSpans, s.Spans, k)
		}
	}
	for k := range s.chains {
		_, span := s.Spans[k]
		_, pending := s.Pending[k]
		if !span && !pending {
			delete(s.chains, k)
		}
	}
	return out
}

// seenClock is the clock the files read and not listed expire on: the
// state's clock, or, while no digest was verified (a trail without log
// file validation: nothing can be decided), the newest time of a file read
// that is not ahead of the wall clock, so that the state stays bounded.
func (s *FolderState) seenClock() time.Time {
	if now := s.now(); !now.IsZero() {
		return now
	}
	limit := time.Now().Add(time.Hour)
	var c time.Time
	for _, seen := range s.Seen {
		if seen.FileTime.After(c) && !seen.FileTime.After(limit) {
			c = seen.FileTime
		}
	}
	return c
}

// now is the state's clock: the newest end of a verified digest or time of
// a verified file, on the trail's own clock.
func (s *FolderState) now() time.Time {
	if s.Latest.After(s.Newest) {
		return s.Latest
	}
	return s.Newest
}
