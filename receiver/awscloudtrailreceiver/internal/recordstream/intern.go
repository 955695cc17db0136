package recordstream

import (
	"encoding/binary"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

// internSlots is the size of the interning cache (a power of two).
const internSlots = 16384

// interner hands out one shared string per distinct short byte sequence.
// It is a direct-mapped cache: a colliding string replaces the older one.
//
// It also predicts member names: records of a file have similar shapes,
// so the name that followed a name last time (next), or came first in an
// object under a name (first), is likely to come again. A predicted name
// is checked against the bytes (no hashing), and what the mapping reads
// from it in a group is remembered per slot (lookups).
type interner struct {
	slots [internSlots]string
	// last is the slot of the last string got.
	last uint32
	// next[s] is the slot of the name that followed the name of slot s;
	// first[elem][s] that of the first name of an object under the name
	// of slot s (elem: as an element of an array).
	next  [internSlots]uint32
	first [2][internSlots]uint32
	// lookups[s] is mapping.Lookup of the name of slot s in group g.
	lookups [internSlots]lookup
}

type lookup struct {
	g   mapping.Group // GroupNone: not known
	key mapping.Key
}

func newInterner() *interner {
	return &interner{}
}

func (in *interner) get(b []byte) string {
	in.last = uint32(hashBytes(b) & (internSlots - 1))
	slot := &in.slots[in.last]
	if *slot == string(b) {
		return *slot
	}
	s := string(b)
	*slot = s
	in.lookups[in.last] = lookup{}
	return s
}

// lookup returns mapping.Lookup(g, name) for the interned name of slot.
func (in *interner) lookup(g mapping.Group, slot uint32, name string) mapping.Key {
	l := &in.lookups[slot]
	if l.g != g {
		*l = lookup{g: g, key: mapping.Lookup(g, name)}
	}
	return l.key
}

// hashBytes hashes a short string eight bytes at a time.
func hashBytes(b []byte) uint64 {
	const k = 0x9e3779b97f4a7c15
	h := uint64(len(b))
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * k
		b = b[8:]
	}
	var tail uint64
	for i, c := range b {
		tail |= uint64(c) << (8 * i)
	}
	h = (h ^ tail) * k
	return h ^ h>>32
}
