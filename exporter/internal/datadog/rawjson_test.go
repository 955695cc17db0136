package datadog

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPlain8(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			assert.Equal(t, strPlain[c], plain8(binary.LittleEndian.Uint64(b)), "byte %#x at %d", c, pos)
		}
	}
}

// FuzzScanObject: ScanObject accepts exactly the JSON objects that
// encoding/json accepts (invalid UTF-8 aside, which it reports).
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, ` {"a":[1,2,{"b":null}],"c":"x\"y\u00e9"} `, `{"a":1,}`, `{"a" 1}`, `[1]`, `{"a":01}`, `{"a":-0.5e+3}`, "{\"a\":\"\x01\"}", `{"a":"\x"}`, `{"a":tru}`, `{"abcdefghijklmnop":"qrstuvwxyz0123456789"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, ok := ScanObject(b, nil)
		var m map[string]json.RawMessage
		want := json.Unmarshal(b, &m) == nil && m != nil
		if sc.BadUTF8 {
			return
		}
		if ok != want {
			t.Fatalf("ScanObject(%q) = %v, encoding/json: %v", b, ok, want)
		}
		if ok && len(sc.Members) > 0 {
			for _, mem := range sc.Members {
				k := mem.Key(b)
				if _, found := m[k]; !found {
					t.Fatalf("member %q not in %q", k, b)
				}
				if !json.Valid(b[mem.ValueStart:mem.ValueEnd]) {
					t.Fatalf("value of %q is not JSON", k)
				}
			}
		}
	})
}

// TestSpecial8First: the lowest bit special8 sets marks the first byte
// that is not a plain string byte, whatever the bytes after it.
func TestSpecial8First(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			for _, after := range []byte{0x00, '"', 0x1f, 0xff, 'a'} {
				b := []byte("abcdefgh")
				b[pos] = byte(c)
				for j := pos + 1; j < 8; j++ {
					b[j] = after
				}
				m := special8(binary.LittleEndian.Uint64(b))
				first := 8
				for j := 0; j < 8; j++ {
					if !strPlain[b[j]] {
						first = j
						break
					}
				}
				got := 8
				if m != 0 {
					got = bits.TrailingZeros64(m) >> 3
				}
				assert.Equal(t, first, got, "%q", b)
			}
		}
	}
}
