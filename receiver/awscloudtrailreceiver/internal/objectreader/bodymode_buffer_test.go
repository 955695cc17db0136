package objectreader

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBodyNoneAttributesOutliveTheBuffer: in none mode the captured strings
// are read as views of the reader's buffer and then given their own copy;
// over a file many times the buffer's size, every record still carries the
// attributes map mode gives it once the buffer has been refilled.
func TestBodyNoneAttributesOutliveTheBuffer(t *testing.T) {
	gz, n := generate(4 << 20) // 64 buffers' worth of records
	maps := readAll(t, gz, BodyMap, false)
	nones := readAll(t, gz, BodyNone, false)
	require.Len(t, maps, n)
	require.Len(t, nones, n)
	for i := range maps {
		require.Equal(t, attrList(maps[i].lr.Attributes()), attrList(nones[i].lr.Attributes()), "record %d", i)
	}
}
