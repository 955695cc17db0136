package recordstream

import "encoding/binary"

// internSlots is the size of the interning cache (a power of two).
const internSlots = 16384

// interner hands out one shared string per distinct short byte sequence.
// It is a direct-mapped cache: a colliding string replaces the older one.
type interner struct {
	slots [internSlots]string
	// last is the slot of the last string got.
	last uint32
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
	return s
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
