// Package objectreader reads one CloudTrail log object (gzipped or plain
// JSON) as a stream and emits its records as batches of pdata logs.
package objectreader

import (
	"bufio"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/recordstream"
)

// Object names the S3 object being read; Account and Region come from its
// key and stand in for records that lack recipientAccountId or awsRegion.
type Object struct {
	Bucket, Key     string
	Account, Region string
	// Hash, when set, is fed the object's whole uncompressed content
	// (integrity validation); it is complete when Read returns nil.
	Hash hash.Hash
}

// Batch is a group of consecutive records of one object.
type Batch struct {
	Logs plog.Logs
	// Next is the index, within the object, of the record after this batch:
	// once the batch is delivered, this many records of the object are done.
	Next int
	// Records counts the log records in Logs; Normal and Low split them by priority.
	Records, Normal, Low int
	// NewestEventTime is the latest eventTime in the batch.
	NewestEventTime time.Time
}

// Stats summarises the reading of one object.
type Stats struct {
	// BytesRead counts the object's bytes as stored (compressed when gzipped).
	BytesRead int64
	// Records counts records emitted; MissingEventTime counts records
	// without a valid eventTime.
	Records, MissingEventTime int
	// Skipped counts the elements of Records that were skipped, by reason
	// (recordstream.Reason*: not an object, nested too deep, number out of
	// range); SkippedIndexes holds the indexes of the first of them
	// (MaxSkippedIndexes at most), for logs.
	Skipped        map[string]int
	SkippedIndexes []int
}

// MaxSkippedIndexes bounds Stats.SkippedIndexes.
const MaxSkippedIndexes = 20

// Options configure a Reader.
type Options struct {
	// MaxBatchRecords bounds the records of one batch.
	MaxBatchRecords int
	// Mapper maps each record.
	Mapper *mapping.Mapper
	// ScopeName and ScopeVersion name the instrumentation scope.
	ScopeName, ScopeVersion string
	// MaxRecordBytes bounds the size of one record (0: default).
	MaxRecordBytes int
	// Now returns the observed time (default time.Now).
	Now func() time.Time
	// Body is what a log record's body holds (default BodyMap).
	Body BodyMode
}

// BodyMode says what the body of a record's log record holds. The
// attributes are the same in every mode.
type BodyMode uint8

const (
	// BodyMap: the record as a map.
	BodyMap BodyMode = iota
	// BodyJSON: the record's JSON text, byte for byte as in the file.
	BodyJSON
	// BodyNone: nothing (attributes only).
	BodyNone
)

// BodyModes are the names of the body modes, as configured.
var BodyModes = map[string]BodyMode{"map": BodyMap, "json": BodyJSON, "none": BodyNone}

func (m BodyMode) String() string {
	for name, v := range BodyModes {
		if v == m {
			return name
		}
	}
	return fmt.Sprintf("BodyMode(%d)", m)
}

// Reader reads objects one after the other, reusing its buffers. It is not
// safe for concurrent use; use one per worker.
type Reader struct {
	opts   Options
	br     *bufio.Reader
	gz     *gzip.Reader
	rs     *recordstream.Reader
	fields mapping.Fields
}

// New returns a Reader.
func New(opts Options) *Reader {
	if opts.MaxBatchRecords <= 0 {
		opts.MaxBatchRecords = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Reader{opts: opts, br: bufio.NewReaderSize(nil, 64<<10), rs: recordstream.NewReader(nil, opts.MaxRecordBytes)}
	r.fields.WantPayload = opts.Mapper.CopyPayload()
	return r
}

// Read streams the object in body. The first skip records (already
// delivered earlier) are passed over without being built. emit receives
// each batch in order; an error from emit stops the reading and is
// returned as is. Errors of the content are wrapped in *ContentError.
func (r *Reader) Read(body io.Reader, obj Object, skip int, emit func(Batch) error) (st Stats, err error) {
	src := &countingReader{r: body}
	defer func() { st.BytesRead = src.n }()
	r.br.Reset(src)
	var stream io.Reader = r.br
	if head, _ := r.br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		if r.gz == nil {
			r.gz, err = gzip.NewReader(r.br)
		} else {
			err = r.gz.Reset(r.br)
		}
		if err != nil {
			return st, r.contentError(src, err)
		}
		stream = r.gz
	}
	stream = hashed(stream, obj.Hash)
	r.rs.Reset(stream)
	for r.rs.Index() < skip {
		if err := r.rs.Skip(); err != nil {
			if errors.Is(err, io.EOF) {
				return st, r.hashRest(src, stream, obj.Hash)
			}
			return st, r.contentError(src, err)
		}
	}

	observed := pcommon.NewTimestampFromTime(r.opts.Now())
	r.fields.Bucket, r.fields.Key = obj.Bucket, obj.Key
	var b builder
	for {
		if b.logs == (plog.Logs{}) {
			b.reset(r.opts.ScopeName, r.opts.ScopeVersion)
		}
		// Parse straight into the resource of the previous record (or of
		// the object's key): records of one file nearly always share it.
		guess := b.last
		if b.batch.Records == 0 {
			guess = [2]string{obj.Account, obj.Region}
		}
		dst := b.slot(guess)
		lr := dst.AppendEmpty()
		err := r.next(lr)
		if err == nil {
			res := r.opts.Mapper.Apply(lr, &r.fields, obj.Account, obj.Region)
			lr.SetObservedTimestamp(observed)
			if res.EventTime.IsZero() {
				st.MissingEventTime++
			}
			if k := [2]string{res.AccountID, res.Region}; k != guess {
				lr.MoveTo(b.slot(k).AppendEmpty())
				removeLast(dst)
			}
			b.add(res)
			st.Records++
		} else {
			removeLast(dst)
		}
		var recErr *recordstream.RecordError
		switch {
		case err == nil:
		case errors.As(err, &recErr):
			if st.Skipped == nil {
				st.Skipped = make(map[string]int)
			}
			st.Skipped[recErr.Reason]++
			if len(st.SkippedIndexes) < MaxSkippedIndexes {
				st.SkippedIndexes = append(st.SkippedIndexes, recErr.Index)
			}
		case errors.Is(err, io.EOF):
			if b.batch.Records > 0 {
				b.batch.Next = r.rs.Index()
				if eerr := emit(b.ready()); eerr != nil {
					return st, eerr
				}
			}
			return st, r.hashRest(src, stream, obj.Hash)
		default:
			// Deliver what was read before the fault, then report it.
			if b.batch.Records > 0 {
				b.batch.Next = r.rs.Index()
				if eerr := emit(b.ready()); eerr != nil {
					return st, eerr
				}
			}
			return st, r.contentError(src, err)
		}
		if b.batch.Records >= r.opts.MaxBatchRecords {
			b.batch.Next = r.rs.Index()
			if err := emit(b.ready()); err != nil {
				return st, err
			}
			b.logs = plog.Logs{}
		}
	}
}

// next reads the next record into lr's body, as the body mode says, and
// its mapped members into r.fields.
func (r *Reader) next(lr plog.LogRecord) error {
	if r.opts.Body == BodyMap {
		_, err := r.rs.Read(lr.Body().SetEmptyMap(), &r.fields)
		return err
	}
	if r.opts.Body == BodyNone {
		// The captured strings are views of raw, copied together into
		// one allocation per record.
		raw, err := r.rs.ReadText(&r.fields)
		if err == nil {
			r.fields.Detach(raw)
		}
		return err
	}
	// The captured strings are views of raw that become substrings of the
	// body, which copies raw once: no copy nor interning of their own.
	raw, err := r.rs.ReadText(&r.fields)
	if err != nil {
		return err
	}
	text := string(raw)
	lr.Body().SetStr(text)
	r.fields.Rebase(raw, text)
	return nil
}

// builder groups the records of a batch into resources by (account, region).
type builder struct {
	logs   plog.Logs
	scopes map[[2]string]plog.LogRecordSlice
	last   [2]string
	batch  Batch
	scope  [2]string
}

func (b *builder) reset(name, version string) {
	b.logs = plog.NewLogs()
	b.batch = Batch{Logs: b.logs}
	clear(b.scopes)
	b.last = [2]string{}
	b.scope = [2]string{name, version}
}

// slot returns the log records of the resource (account, region) of the
// batch, creating the resource when needed.
func (b *builder) slot(k [2]string) plog.LogRecordSlice {
	if dst, ok := b.scopes[k]; ok {
		return dst
	}
	if b.scopes == nil {
		b.scopes = make(map[[2]string]plog.LogRecordSlice)
	}
	rl := b.logs.ResourceLogs().AppendEmpty()
	ra := rl.Resource().Attributes()
	ra.PutStr(ctattr.ResourceCloudProvider, "aws")
	ra.PutStr(ctattr.ResourceAccountID, k[0])
	ra.PutStr(ctattr.ResourceRegion, k[1])
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(b.scope[0])
	sl.Scope().SetVersion(b.scope[1])
	dst := sl.LogRecords()
	b.scopes[k] = dst
	return dst
}

// ready returns the batch, without the resources that ended up empty
// (a guessed resource whose record went elsewhere or was not an object).
func (b *builder) ready() Batch {
	b.logs.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		return rl.ScopeLogs().At(0).LogRecords().Len() == 0
	})
	return b.batch
}

// removeLast drops the last log record of s.
func removeLast(s plog.LogRecordSlice) {
	n, i := s.Len(), 0
	s.RemoveIf(func(plog.LogRecord) bool {
		i++
		return i == n
	})
}

// add counts a record placed in the batch.
func (b *builder) add(res mapping.Result) {
	b.last = [2]string{res.AccountID, res.Region}
	b.batch.Records++
	if res.Priority == ctattr.PriorityNormal {
		b.batch.Normal++
	} else {
		b.batch.Low++
	}
	if res.EventTime.After(b.batch.NewestEventTime) {
		b.batch.NewestEventTime = res.EventTime
	}
}

// Reasons an object's content cannot be read.
const (
	ReasonCorruptGzip    = "corrupt_gzip"
	ReasonInvalidJSON    = "invalid_json"
	ReasonTruncated      = "truncated"
	ReasonNotCloudTrail  = "not_cloudtrail"
	ReasonRecordTooLarge = "record_too_large"
	ReasonReadError      = "read_error"
)

// ContentError is a fault of an object's bytes (or of reading them).
type ContentError struct {
	Reason string
	// Offset is the decompressed byte offset where reading stopped.
	Offset int64
	Err    error
}

func (e *ContentError) Error() string {
	return fmt.Sprintf("%s at decompressed byte %d: %v", e.Reason, e.Offset, e.Err)
}

func (e *ContentError) Unwrap() error { return e.Err }

// Permanent reports whether reading the object again cannot help: true
// for faults of the stored bytes, false for transport errors.
func (e *ContentError) Permanent() bool { return e.Reason != ReasonReadError }

func (r *Reader) contentError(src *countingReader, err error) error {
	ce := &ContentError{Offset: r.rs.Offset(), Err: err}
	var syn *recordstream.SyntaxError
	var corrupt flate.CorruptInputError
	switch {
	case src.err != nil:
		ce.Reason = ReasonReadError
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &corrupt):
		ce.Reason = ReasonCorruptGzip
	case errors.Is(err, io.ErrUnexpectedEOF):
		ce.Reason = ReasonTruncated
	case errors.Is(err, recordstream.ErrNotCloudTrail):
		ce.Reason = ReasonNotCloudTrail
	case errors.Is(err, recordstream.ErrRecordTooLarge):
		ce.Reason = ReasonRecordTooLarge
	case errors.As(err, &syn):
		ce.Reason = ReasonInvalidJSON
	default:
		ce.Reason = ReasonInvalidJSON
	}
	return ce
}

// countingReader counts bytes and remembers a transport error of the source.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	return n, err
}
