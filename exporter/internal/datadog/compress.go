package datadog

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/config/configcompression"
)

// Compression values.
const (
	CompressionGzip = "gzip"
	CompressionZstd = "zstd"
	CompressionNone = "none"
)

// Default levels, chosen by measuring CPU per record on CloudTrail batches
// (exporter/datadoglogsexporter/README.md, "Compression"): the fastest
// level of each algorithm. Higher levels cost more CPU per record for a few
// percent of ratio.
const (
	DefaultGzipLevel = gzip.BestSpeed
	DefaultZstdLevel = 1 // zstd.SpeedFastest
)

// Compressor compresses request bodies with pooled encoders (each holds
// about 1 MB of state: a *gzip.Writer or a *zstd.Encoder). It is safe for concurrent use.
type Compressor struct {
	encoding string // Content-Encoding, "" for none
	pool     sync.Pool
}

// NewCompressor returns the compressor of a `compression` setting (gzip,
// zstd, or none / "") at level (0 for the default level). The exporters
// compress themselves rather than through confighttp's transport: they
// know the compressed size (payload_bytes metric) and use klauspost's
// gzip, about twice as fast as the standard library's.
func NewCompressor(typ configcompression.Type, level configcompression.Level) (*Compressor, error) {
	c := &Compressor{}
	switch string(typ) {
	case "", CompressionNone:
		return c, nil
	case CompressionGzip:
		if level == 0 {
			level = DefaultGzipLevel
		}
		if _, err := gzip.NewWriterLevel(io.Discard, int(level)); err != nil {
			return nil, fmt.Errorf("compression_params.level %d: %w", level, err)
		}
		c.encoding = CompressionGzip
		c.pool.New = func() any {
			zw, _ := gzip.NewWriterLevel(io.Discard, int(level))
			return zw
		}
	case CompressionZstd:
		if level == 0 {
			level = DefaultZstdLevel
		}
		zl := zstd.EncoderLevelFromZstd(int(level))
		c.encoding = CompressionZstd
		c.pool.New = func() any {
			zw, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zl))
			return zw
		}
	default:
		return nil, fmt.Errorf("compression must be gzip, zstd or none, not %q", typ)
	}
	return c, nil
}

// Encoding returns the Content-Encoding of compressed bodies, "" for none.
func (c *Compressor) Encoding() string {
	if c == nil {
		return ""
	}
	return c.encoding
}

// AppendCompressed appends payload compressed to dst (payload itself for
// none).
func (c *Compressor) AppendCompressed(dst, payload []byte) []byte {
	if c == nil || c.encoding == "" {
		return append(dst, payload...)
	}
	switch zw := c.pool.Get().(type) {
	case *zstd.Encoder:
		out := zw.EncodeAll(payload, dst)
		c.pool.Put(zw)
		return out
	case *gzip.Writer:
		buf := bytes.NewBuffer(dst)
		buf.Grow(len(payload)/4 + 64)
		zw.Reset(buf)
		_, _ = zw.Write(payload)
		_ = zw.Close()
		zw.Reset(io.Discard)
		c.pool.Put(zw)
		return buf.Bytes()
	}
	panic("unreachable")
}
