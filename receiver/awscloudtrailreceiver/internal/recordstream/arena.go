package recordstream

import "strings"

// arenaChunk is the size of the blocks the arena copies strings into.
const arenaChunk = 16 << 10

// arenaMaxString is the longest string copied into a block; a longer one
// gets an allocation of its own, so that a block wastes little at its end.
const arenaMaxString = 1 << 10

// arena gives the string values of built bodies their memory: each is
// copied into a block shared with the strings around it, one allocation
// per block instead of one per string (and no hashing, as interning
// costs). A block is only appended to: a string handed out is never
// written again, so it stays valid and immutable however the arena goes
// on. A block lives as long as one of its strings does; the strings of
// a block are those of consecutive records, which a batch holds anyway.
type arena struct {
	b strings.Builder
}

// str returns a copy of raw.
func (a *arena) str(raw []byte) string {
	n := len(raw)
	switch {
	case n == 0:
		return ""
	case n > arenaMaxString:
		return string(raw)
	case a.b.Cap()-a.b.Len() < n:
		// A new block: strings.Builder grows without zeroing the memory.
		a.b = strings.Builder{}
		a.b.Grow(arenaChunk)
	}
	start := a.b.Len()
	a.b.Write(raw)
	return a.b.String()[start:]
}
