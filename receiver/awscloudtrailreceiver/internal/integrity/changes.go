package integrity

import "time"

// A folder's state is saved as a snapshot and a journal of the changes
// made since: each change (a file read, a digest) is saved as the entries
// it changed, so that saving costs the size of the change, not of the
// state. TrackChanges makes the state record which entries change.

// Changes are the entries of a FolderState changed since changes were
// last taken, with their new values (nil: deleted). Applying them to the
// state as it was then gives the state as it is now; applying them again,
// or after later ones were applied, changes nothing they did not set.
type Changes struct {
	Expected map[string]*Expected     `json:"x,omitempty"`
	Seen     map[string]*Seen         `json:"s,omitempty"`
	Verified map[string]*VerifiedFile `json:"v,omitempty"`
	Digests  map[string]*time.Time    `json:"d,omitempty"`
	Spans    map[string]*Span         `json:"p,omitempty"`
	Invalid  map[string]*time.Time    `json:"i,omitempty"`
	Links    map[string]*Link         `json:"l,omitempty"`
	Pending  map[string]*time.Time    `json:"n,omitempty"`
	Tags     map[string]*string       `json:"g,omitempty"`
	Vouched  map[string]*time.Time    `json:"o,omitempty"`
	Unread   map[string]*Unread       `json:"u,omitempty"`
	Newest   *time.Time               `json:"newest,omitempty"`
	Latest   *time.Time               `json:"latest,omitempty"`
}

// field names a map of FolderState.
type field int

const (
	fExpected field = iota
	fSeen
	fVerified
	fDigests
	fSpans
	fInvalid
	fLinks
	fPending
	fTags
	fVouched
	fUnread
	nFields
)

// changeSet is what changed since changes were last taken.
type changeSet struct {
	keys  [nFields]map[string]struct{}
	clock bool // Newest or Latest
}

func (cs *changeSet) empty() bool {
	for _, ks := range cs.keys {
		if len(ks) > 0 {
			return false
		}
	}
	return !cs.clock
}

// TrackChanges makes the state record the entries that change, for
// TakeChanges; a state that is not saved does not track them.
func (s *FolderState) TrackChanges() {
	if s.changes == nil {
		s.changes = &changeSet{}
	}
}

// touch records that the entry k of a map changed.
func (s *FolderState) touch(f field, k string) {
	switch f {
	case fSpans, fInvalid, fPending:
		s.coverGen++
	}
	if s.changes == nil {
		return
	}
	if s.changes.keys[f] == nil {
		s.changes.keys[f] = map[string]struct{}{}
	}
	s.changes.keys[f][k] = struct{}{}
}

// touchClock records that Newest or Latest changed.
func (s *FolderState) touchClock() {
	if s.changes != nil {
		s.changes.clock = true
	}
}

// Changed returns the changes recorded since ResetChanges (nil when none
// or when changes are not tracked).
func (s *FolderState) Changed() *Changes {
	cs := s.changes
	if cs == nil || cs.empty() {
		return nil
	}
	c := &Changes{
		Expected: collect(s.Expected, cs.keys[fExpected]),
		Seen:     collect(s.Seen, cs.keys[fSeen]),
		Verified: collect(s.Verified, cs.keys[fVerified]),
		Digests:  collect(s.Digests, cs.keys[fDigests]),
		Spans:    collect(s.Spans, cs.keys[fSpans]),
		Invalid:  collect(s.Invalid, cs.keys[fInvalid]),
		Links:    collect(s.Links, cs.keys[fLinks]),
		Pending:  collect(s.Pending, cs.keys[fPending]),
		Tags:     collect(s.Tags, cs.keys[fTags]),
		Vouched:  collect(s.Vouched, cs.keys[fVouched]),
		Unread:   collect(s.Unread, cs.keys[fUnread]),
	}
	if cs.clock {
		newest, latest := s.Newest, s.Latest
		c.Newest, c.Latest = &newest, &latest
	}
	return c
}

// ResetChanges forgets the changes recorded (they were saved).
func (s *FolderState) ResetChanges() {
	if s.changes != nil {
		*s.changes = changeSet{}
	}
}

// Apply applies changes (replaying a journal); it records nothing.
func (s *FolderState) Apply(c *Changes) {
	s.init()
	apply(s.Expected, c.Expected)
	apply(s.Seen, c.Seen)
	apply(s.Verified, c.Verified)
	apply(s.Digests, c.Digests)
	apply(s.Spans, c.Spans)
	apply(s.Invalid, c.Invalid)
	apply(s.Links, c.Links)
	apply(s.Pending, c.Pending)
	apply(s.Tags, c.Tags)
	apply(s.Vouched, c.Vouched)
	apply(s.Unread, c.Unread)
	if c.Newest != nil {
		s.Newest = *c.Newest
	}
	if c.Latest != nil {
		s.Latest = *c.Latest
	}
	s.verifiedFloor = time.Time{}
	s.coverGen++
}

func collect[V any](m map[string]V, keys map[string]struct{}) map[string]*V {
	if len(keys) == 0 {
		return nil
	}
	out := make(map[string]*V, len(keys))
	for k := range keys {
		if v, ok := m[k]; ok {
			out[k] = &v
		} else {
			out[k] = nil
		}
	}
	return out
}

func apply[V any](m map[string]V, c map[string]*V) {
	for k, v := range c {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = *v
		}
	}
}

// set and del change an entry of one of the state's maps and record it.
func set[V any](s *FolderState, f field, m map[string]V, k string, v V) {
	m[k] = v
	s.touch(f, k)
}

func del[V any](s *FolderState, f field, m map[string]V, k string) {
	if _, ok := m[k]; ok {
		delete(m, k)
		s.touch(f, k)
	}
}
