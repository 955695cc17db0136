package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProcessCPU: the CPU time read from /proc/PID/stat is the process's
// own, as getrusage reports it.
func TestProcessCPU(t *testing.T) {
	start := cpuTime()
	x := 0
	for cpuTime()-start < 200*time.Millisecond {
		for i := range 100000 {
			x += i
		}
	}
	_ = x
	got, want := processCPU(os.Getpid()), cpuTime()
	assert.InDelta(t, want.Seconds(), got.Seconds(), 0.05)
	assert.Equal(t, time.Duration(0), processCPU(-1))
}

// TestCountEntries: the intake counts every entry's key, also when a read
// ends inside one, in plain and gzipped bodies.
func TestCountEntries(t *testing.T) {
	body := []byte(`[{"ddsource":"cloudtrail","message":"a"},{"ddsource":"cloudtrail"},{"x":"\"ddsource\""}]`)
	big := bytes.Repeat([]byte(`{"ddsource":"cloudtrail","m":"`+strings.Repeat("x", 1000)+`"},`), 500)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(big)
	_ = zw.Close()
	for _, tc := range []struct {
		name     string
		r        io.Reader
		encoding string
		want     int64
	}{
		{"plain", bytes.NewReader(body), "", 2},
		{"one byte per read", iotest.OneByteReader(bytes.NewReader(body)), "", 2},
		{"half reads", iotest.HalfReader(bytes.NewReader(big)), "", 500},
		{"gzip", bytes.NewReader(gz.Bytes()), "gzip", 500},
		{"gzip, one byte per read", iotest.OneByteReader(bytes.NewReader(gz.Bytes())), "gzip", 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := countEntries(tc.r, tc.encoding)
			require.NoError(t, err)
			assert.Equal(t, tc.want, n)
		})
	}
	_, err := countEntries(bytes.NewReader(body), "br")
	assert.Error(t, err)
	_, err = countEntries(bytes.NewReader(body), "gzip")
	assert.Error(t, err)
}
