package recordstream

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

// chunkReader returns at most n bytes per Read, like a decompressor.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) {
	return c.r.Read(p[:min(len(p), c.n)])
}

// TestReaderLinearInRecordSize reads one large record arriving in small
// chunks: the work (counted in allocations, which grow with every value
// built) must grow linearly with the record's size, not with its square,
// as when every refill parsed the record again from its start.
func TestReaderLinearInRecordSize(t *testing.T) {
	shapes := []struct {
		name   string
		record func(n int) string
	}{
		{name: "array of long strings", record: func(n int) string {
			var b strings.Builder
			b.WriteString(`{"a":[`)
			for i := range n {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"%0200d"`, i)
			}
			b.WriteString(`]}`)
			return b.String()
		}},
		{name: "object of long strings", record: func(n int) string {
			var b strings.Builder
			b.WriteString(`{`)
			for i := range n {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"k%d":"%0200d"`, i, i)
			}
			b.WriteString(`}`)
			return b.String()
		}},
	}
	shapes = append(shapes, struct {
		name   string
		record func(n int) string
	}{name: "repeated mapped member", record: func(n int) string {
		// Without a body, each value is captured (and, longer than the
		// strings the arena copies into its blocks, allocated): the
		// allocations count the work.
		var b strings.Builder
		b.WriteString(`{`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"eventName":"%0*d"`, arenaMaxString+1, i)
		}
		b.WriteString(`}`)
		return b.String()
	}})
	for _, sh := range shapes {
		for _, body := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/body=%v", sh.name, body), func(t *testing.T) {
				measure := func(n int) float64 {
					record := sh.record(n)
					if !body && sh.name != "repeated mapped member" {
						// Without a body, a payload member is built for
						// the attributes: the allocations count the work.
						record = `{"requestParameters":` + record + `}`
					}
					input := `{"Records":[` + record + `]}`
					r := NewReader(nil, 0)
					m := pcommon.NewMap()
					f := &mapping.Fields{WantPayload: true}
					return testing.AllocsPerRun(2, func() {
						r.Reset(chunkReader{strings.NewReader(input), 4096})
						if body {
							require.NoError(t, r.Next(m))
						} else {
							_, err := r.Read(pcommon.Map{}, f)
							require.NoError(t, err)
						}
					})
				}
				small, large := measure(500), measure(4000)
				t.Logf("allocations: %.0f for 500 values, %.0f for 4000", small, large)
				require.Greater(t, small, 400.0, "the allocations must count the values")
				// Linear: about 8 times; quadratic: about 64 times.
				assert.Less(t, large, 12*small+100)
			})
		}
	}
}
