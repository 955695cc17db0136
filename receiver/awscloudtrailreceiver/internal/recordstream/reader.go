// Package recordstream reads the records of a CloudTrail log file one at a
// time, straight from its (decompressed) byte stream into pdata maps, so
// that memory stays bounded by the largest single record, never the file.
package recordstream

import (
	"errors"
	"fmt"
	"io"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/widemap"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

// ErrNotCloudTrail means the stream is JSON but not a CloudTrail log file:
// its top level is not an object with a "Records" array.
var ErrNotCloudTrail = errors.New("not a CloudTrail log file: no top-level \"Records\" array")

// ErrRecordTooLarge means one record (or one top-level value) is larger
// than the reader's buffer limit.
var ErrRecordTooLarge = errors.New("record larger than the reader's limit")

// Reasons why the reader skips one element of "Records".
const (
	// ReasonNotAnObject: the element is not a JSON object.
	ReasonNotAnObject = "not_an_object"
	// ReasonTooDeep: the record nests objects and arrays deeper than the
	// limit of the reader.
	ReasonTooDeep = "too_deep"
	// ReasonNumberOutOfRange: the record holds a number beyond the range of
	// a float64 (such as 1E400).
	ReasonNumberOutOfRange = "number_out_of_range"
)

// RecordError reports one element of "Records" that is valid JSON but not
// a record the reader can build (see Reason). The reader has skipped it;
// the following records can still be read.
type RecordError struct {
	Index  int
	Offset int64
	// Reason is one of the Reason constants.
	Reason string
}

func (e *RecordError) Error() string {
	switch e.Reason {
	case ReasonTooDeep:
		return fmt.Sprintf("record %d at byte %d nests deeper than %d levels", e.Index, e.Offset, maxDepth)
	case ReasonNumberOutOfRange:
		return fmt.Sprintf("record %d at byte %d holds a number out of range", e.Index, e.Offset)
	}
	return fmt.Sprintf("record %d at byte %d is not a JSON object", e.Index, e.Offset)
}

const (
	initialBuffer = 64 << 10
	// DefaultMaxRecordBytes is the default limit of one record's size.
	DefaultMaxRecordBytes = 32 << 20
)

type state int

const (
	stateStart      state = iota // before the top-level '{'
	stateFirst                   // just after "Records": [
	stateAfterValue              // after a record: ',' or ']' follows
	stateDone                    // the stream ended cleanly
	stateFailed                  // a fatal error was returned
)

// Reader streams the records of one CloudTrail log file.
type Reader struct {
	src      io.Reader
	buf      []byte
	pos, end int
	consumed int64 // stream offset of buf[0]
	eof      bool
	readErr  error
	maxBuf   int
	state    state
	index    int // index of the next record
	err      error
	in       *interner
	ar       *arena
	sc       scanner
	scratch  []byte
	members  int // member count of the last record
	hints    *sizeHints
}

// NewReader returns a Reader over src, the decompressed bytes of a log
// file. maxRecordBytes bounds the size of one record (0: the default).
func NewReader(src io.Reader, maxRecordBytes int) *Reader {
	if maxRecordBytes <= 0 {
		maxRecordBytes = DefaultMaxRecordBytes
	}
	r := &Reader{buf: make([]byte, min(initialBuffer, maxRecordBytes)), maxBuf: maxRecordBytes, in: newInterner(), ar: new(arena), hints: new(sizeHints)}
	r.Reset(src)
	return r
}

// Reset makes r read a new stream, keeping its buffers.
func (r *Reader) Reset(src io.Reader) {
	r.src = src
	r.pos, r.end, r.consumed = 0, 0, 0
	r.eof, r.readErr = false, nil
	r.state, r.index, r.err = stateStart, 0, nil
}

// Index is the number of records read or skipped so far.
func (r *Reader) Index() int { return r.index }

// Offset is how many decompressed bytes have been consumed so far.
func (r *Reader) Offset() int64 { return r.consumed + int64(r.pos) }

// Next parses the next record into dst, which it clears first. It returns
// io.EOF after the last record, a *RecordError for a record that it skips
// (not an object, or beyond the limits of the reader: the reader stays
// usable), and any other error for a stream that cannot be read further
// (bad JSON, truncation, read errors).
func (r *Reader) Next(dst pcommon.Map) error {
	_, err := r.Read(dst, nil)
	return err
}

// Read reads the next record as Next does, in one pass: it builds the
// record into body unless body is the zero Map, captures the members the
// mapping reads into f unless f is nil (f.Reset first), and returns the
// record's bytes exactly as they are in the stream, from its '{' to its
// '}' (valid until the next call). Whether it builds the body or not, it
// refuses the same records for the same reasons.
func (r *Reader) Read(body pcommon.Map, f *mapping.Fields) ([]byte, error) {
	return r.read(body, f, false)
}

// ReadText reads the next record as Read does without building a body,
// and with the strings captured into f left as views of the returned
// bytes (no copy, no interning): before the next call, the caller must
// give them their own memory with f.Rebase (onto a copy of the whole
// record).
func (r *Reader) ReadText(f *mapping.Fields) ([]byte, error) {
	return r.read(pcommon.Map{}, f, true)
}

func (r *Reader) read(body pcommon.Map, f *mapping.Fields, borrow bool) ([]byte, error) {
	if err := r.toNextRecord(); err != nil {
		return nil, err
	}
	c, err := r.peek()
	if err != nil {
		return nil, r.fail(err)
	}
	if c != '{' {
		return nil, r.skipRecord(ReasonNotAnObject)
	}
	// Most records are in the buffer already: walk them straight away.
	j, err := r.walk(body, f, borrow)
	if err == errShort {
		// The record goes on past the bytes read so far. Read on to its
		// end, scanning each new byte once, then walk it in one pass.
		if _, err = r.scanValue(true); err != nil {
			return nil, r.fail(err)
		}
		if j, err = r.walk(body, f, borrow); err == errShort {
			err = r.syntaxHere("record ended early") // the scanner found its end
		}
	}
	if le, ok := err.(*limitError); ok {
		return nil, r.skipRecord(le.reason)
	}
	if err != nil {
		return nil, r.fail(err)
	}
	raw := r.buf[r.pos:j]
	r.pos = j
	r.index++
	r.state = stateAfterValue
	if body != (pcommon.Map{}) {
		// Records of a file have similar shapes: size the next one alike.
		r.members = min(max(shrink(r.members, body.Len()), 8), widemap.Threshold)
		if f != nil && f.WantPayload {
			f.PayloadsFrom(body)
		}
	}
	return raw, nil
}

// walk parses the record at r.pos, building it into body unless body is
// the zero Map and capturing into f unless f is nil.
func (r *Reader) walk(body pcommon.Map, f *mapping.Fields, borrow bool) (int, error) {
	g := mapping.GroupNone
	if f != nil {
		f.Reset()
		g = mapping.GroupRecord
	}
	if body != (pcommon.Map{}) {
		body.Clear()
		body.EnsureCapacity(r.members)
	}
	p := r.parser()
	p.fields, p.borrow = f, borrow
	j, err := p.object(r.pos+1, body, g, hintKey{})
	r.scratch = p.scratch
	return j, err
}

// Skip passes over the next record without building it. It returns io.EOF
// after the last record.
func (r *Reader) Skip() error {
	if err := r.toNextRecord(); err != nil {
		return err
	}
	if err := r.skipValue(); err != nil {
		return r.fail(err)
	}
	r.index++
	r.state = stateAfterValue
	return nil
}

// skipRecord passes over the record at r.pos, which cannot be built, and
// reports it.
func (r *Reader) skipRecord(reason string) error {
	off := r.Offset()
	if err := r.skipValue(); err != nil {
		return r.fail(err)
	}
	rerr := &RecordError{Index: r.index, Offset: off, Reason: reason}
	r.index++
	r.state = stateAfterValue
	return rerr
}

func (r *Reader) fail(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	r.state, r.err = stateFailed, err
	return err
}

func (r *Reader) parser() parser {
	return parser{b: r.buf[:r.end], base: r.consumed, in: r.in, ar: r.ar, scratch: r.scratch, hints: r.hints}
}
