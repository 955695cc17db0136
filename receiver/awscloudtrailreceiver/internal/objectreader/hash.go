package objectreader

import (
	"hash"
	"io"
)

// hashed returns stream teed into h (the object's content as the digest
// hashes it: uncompressed), or stream when h is nil.
func hashed(stream io.Reader, h hash.Hash) io.Reader {
	if h == nil {
		return stream
	}
	return io.TeeReader(stream, h)
}

// hashRest feeds h the bytes after the Records array (whitespace, a
// newline), so that it covers the whole content.
func (r *Reader) hashRest(src *countingReader, stream io.Reader, h hash.Hash) error {
	if h == nil {
		return nil
	}
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return r.contentError(src, err)
	}
	return nil
}
