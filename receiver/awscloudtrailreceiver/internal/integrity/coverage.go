package integrity

import (
	"sort"
	"time"
)

// Several trails may deliver to the same bucket and prefix: their log
// files share one folder, and each trail's digests (one chain per trail)
// list only its own files. A file no digest lists is unsigned only when
// every trail that was live at its time has had its say: coverage is
// counted per chain.

// spanTolerance is the gap allowed between consecutive digests' ranges.
const spanTolerance = time.Minute

// chainCover is what a sweep knows of one chain.
type chainCover struct {
	// spans are the ranges of its processed digests (valid or not), by start.
	spans []Span
	// first is the earliest start known (processed, or an hour before the
	// end of a digest listed and not processed yet); last the newest end of
	// a verified or pending digest. A digest that failed verification moves
	// neither: a forged digest must not invent a chain nor keep one alive.
	first, last time.Time
}

// covers reports whether the chain's processed digests cover [from, to].
func (c *chainCover) covers(from, to time.Time) bool {
	cur := from
	for _, sp := range c.spans {
		if !sp.End.After(from) {
			continue
		}
		if sp.Start.After(cur.Add(spanTolerance)) {
			return false
		}
		if sp.End.After(cur) {
			cur = sp.End
		}
		if !cur.Before(to) {
			return true
		}
	}
	return false
}

// chainOf returns the chain of a digest key (cached: keys are parsed once).
func (s *FolderState) chainOf(key string) string {
	if c, ok := s.chains[key]; ok {
		return c
	}
	c := ""
	if dk, ok := ParseDigestKey(key); ok {
		c = dk.Chain()
	}
	if s.chains == nil {
		s.chains = map[string]string{}
	}
	s.chains[key] = c
	return c
}

// covers returns what the processed and pending digests say of each chain
// (kept until Spans, Invalid or Pending change; read only).
func (s *FolderState) covers() map[string]*chainCover {
	if s.cover != nil && s.coverAt == s.coverGen {
		return s.cover
	}
	cs := coverSet{}
	s.cover, s.coverAt = cs, s.coverGen
	for k, sp := range s.Spans {
		_, invalid := s.Invalid[k]
		cs.add(s.chainOf(k), sp, !invalid)
	}
	for k, end := range s.Pending {
		cs.get(s.chainOf(k)).widen(end.Add(-time.Hour), end)
	}
	cs.sort()
	return cs
}

// coverSet is what is known of each chain, by chain.
type coverSet map[string]*chainCover

func (cs coverSet) get(chain string) *chainCover {
	cc := cs[chain]
	if cc == nil {
		cc = &chainCover{}
		cs[chain] = cc
	}
	return cc
}

// add adds a processed digest's span to its chain; only a verified one
// widens the chain's range.
func (cs coverSet) add(chain string, sp Span, verified bool) {
	cc := cs.get(chain)
	cc.spans = append(cc.spans, sp)
	if verified {
		cc.widen(sp.Start, sp.End)
	}
}

// sort sorts each chain's spans by start.
func (cs coverSet) sort() {
	for _, cc := range cs {
		sort.Slice(cc.spans, func(i, j int) bool { return cc.spans[i].Start.Before(cc.spans[j].Start) })
	}
}

func (cc *chainCover) widen(first, last time.Time) {
	if cc.first.IsZero() || first.Before(cc.first) {
		cc.first = first
	}
	if last.After(cc.last) {
		cc.last = last
	}
}

// unsigned reports whether a file read at fileTime that no digest listed
// is unsigned: its time and the grace period after it are covered by the
// digests of at least one chain and of every chain live then, and the
// digests of every chain have had the time to come.
//
//   - A chain is live for the file when its digests (verified, or listed
//     and not processed yet) reach past fileTime+grace and it began before
//     fileTime: a trail that started later, or whose digests stopped before
//     (trail stopped, logging or validation off), does not hold the file.
//   - Chains not seen yet (a trail whose first digest was not handled yet):
//     the check also waits until the newest verified digest of the folder
//     ends grace after fileTime+grace. CloudTrail writes the digest that
//     lists a file within grace of it, so a trail's digest is handled
//     before the other trails' digests reach that far unless it is handled
//     more than grace late (SQS redelivery; polling handles them in time
//     order). The same bound makes a chain that stopped producing digests
//     stop holding files after its last digest.
func unsigned(covers map[string]*chainCover, newest, fileTime time.Time, grace time.Duration) bool {
	due := fileTime.Add(grace)
	if newest.Before(due.Add(grace)) {
		return false
	}
	some := false
	for _, cc := range covers {
		ok := cc.covers(fileTime, due)
		some = some || ok
		live := !cc.last.Before(due) && !cc.first.After(fileTime.Add(spanTolerance))
		if live && !ok {
			return false
		}
	}
	return some
}

// Announce records a digest listed and not processed yet (polling lists a
// day of digests before processing them in time order): its chain holds
// the files of its range until it is processed. A digest that failed
// verification is not announced again: a forgery must not keep its chain
// alive.
func (s *FolderState) Announce(key string, end time.Time) {
	s.init()
	if _, done := s.Digests[key]; !done {
		set(s, fPending, s.Pending, key, end)
	}
}

// Forget drops a digest announced that no longer exists.
func (s *FolderState) Forget(key string) {
	del(s, fPending, s.Pending, key)
}
