package objectreader

import (
	"bytes"
	stdgzip "compress/gzip"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// TestReadHash checks that Object.Hash receives the object's whole
// uncompressed content (what a CloudTrail digest hashes), also when the
// first records are skipped (a resumed object) and with bytes after the
// Records array.
func TestReadHash(t *testing.T) {
	g := trailgen.New(7, "111111111111", "us-east-1")
	recs := make([]map[string]any, 25)
	for i := range recs {
		recs[i] = g.Record(time.Date(2026, 11, 20, 10, 0, i, 0, time.UTC))
	}
	plain := append(trailgen.LogFile(recs, false), '\n', ' ', '\n')
	// Whitespace after the array, more than the readers buffer.
	padded := append(append([]byte(nil), plain...), bytes.Repeat([]byte(" \n"), 300<<10)...)
	for _, tt := range []struct {
		name string
		body []byte
		skip int
	}{
		{"plain", plain, 0},
		{"gzip", gz(plain), 0},
		{"gzip, resumed after 10 records", gz(plain), 10},
		{"gzip, every record delivered already", gz(plain), 25},
		{"whitespace after Records beyond the buffers", gz(padded), 0},
		{"whitespace after Records beyond the buffers, resumed at the end", gz(padded), 25},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := sha256.New()
			rd := newReader(7)
			_, err := rd.Read(bytes.NewReader(tt.body), Object{Bucket: "b", Key: "k", Hash: h}, tt.skip, func(Batch) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			content := plain
			if len(tt.body) > 0 && bytes.Equal(tt.body, gz(padded)) {
				content = padded
			}
			if want := sha256.Sum256(content); !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatalf("hash %x, want %x", h.Sum(nil), want)
			}
		})
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := stdgzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}
