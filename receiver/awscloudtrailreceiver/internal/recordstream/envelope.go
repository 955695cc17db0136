package recordstream

// The envelope of a log file: finding the top-level "Records" array,
// moving from one record to the next, and the buffer under them.

import (
	"errors"
	"fmt"
	"io"
)

// toNextRecord moves past the punctuation before the next record, or to
// the end of the stream.
func (r *Reader) toNextRecord() error {
	for {
		switch r.state {
		case stateDone:
			return io.EOF
		case stateFailed:
			return r.err
		case stateStart:
			if err := r.openRecords(); err != nil {
				return r.fail(err)
			}
			c, err := r.peek()
			if err != nil {
				return r.fail(err)
			}
			if c == ']' {
				r.pos++
				return r.finish()
			}
			r.state = stateFirst
		case stateFirst:
			return nil
		case stateAfterValue:
			c, err := r.peek()
			if err != nil {
				return r.fail(err)
			}
			r.pos++
			switch c {
			case ',':
				r.state = stateFirst
			case ']':
				return r.finish()
			default:
				return r.fail(r.syntaxHere("expected ',' or ']' after a record, found %q", c))
			}
		}
	}
}

// openRecords reads the top-level '{' and the members before "Records",
// and the '[' that opens it.
func (r *Reader) openRecords() error {
	c, err := r.peek()
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && r.Offset() == 0 {
			return fmt.Errorf("%w (empty file)", ErrNotCloudTrail)
		}
		return err
	}
	if c != '{' {
		return ErrNotCloudTrail
	}
	r.pos++
	first := true
	for {
		key, done, err := r.member(first)
		if err != nil {
			return err
		}
		if done {
			return ErrNotCloudTrail
		}
		first = false
		if key == "Records" {
			c, err := r.peek()
			if err != nil {
				return err
			}
			if c != '[' {
				return ErrNotCloudTrail
			}
			r.pos++
			return nil
		}
		if err := r.skipValue(); err != nil {
			return err
		}
	}
}

// member reads the separator before a top-level member and its key and
// colon. done reports the closing '}' of the top-level object.
func (r *Reader) member(first bool) (key string, done bool, err error) {
	c, err := r.peek()
	if err != nil {
		return "", false, err
	}
	if c == '}' {
		r.pos++
		return "", true, nil
	}
	if !first {
		if c != ',' {
			return "", false, r.syntaxHere("expected ',' or '}' at the top level, found %q", c)
		}
		r.pos++
		if c, err = r.peek(); err != nil {
			return "", false, err
		}
	}
	if c != '"' {
		return "", false, r.syntaxHere("expected a key, found %q", c)
	}
	p := r.parser()
	key, j, err := p.str(r.pos+1, strKey)
	if err == errShort {
		if _, err = r.scanValue(true); err == nil {
			p = r.parser()
			key, j, err = p.str(r.pos+1, strKey)
		}
	}
	if err != nil {
		return "", false, err
	}
	r.pos = j
	if c, err = r.peek(); err != nil {
		return "", false, err
	}
	if c != ':' {
		return "", false, r.syntaxHere("expected ':', found %q", c)
	}
	r.pos++
	return key, false, nil
}

// finish reads what follows the "Records" array: further members are
// skipped (a second "Records" is an error), then the closing '}' and only
// white space may follow.
func (r *Reader) finish() error {
	for {
		key, done, err := r.member(false)
		if err != nil {
			return r.fail(err)
		}
		if done {
			break
		}
		if key == "Records" {
			// Its records would be lost without a word.
			return r.fail(r.syntaxHere("a second top-level \"Records\" member"))
		}
		if err := r.skipValue(); err != nil {
			return r.fail(err)
		}
	}
	for {
		p := r.parser()
		r.pos = p.skipWS(r.pos)
		if r.pos < r.end {
			return r.fail(r.syntaxHere("unexpected data after the top-level object"))
		}
		if err := r.fill(); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) && r.readErr == nil {
				r.state = stateDone
				return io.EOF
			}
			return r.fail(err)
		}
	}
}

// peek skips white space and returns the next byte without consuming it.
func (r *Reader) peek() (byte, error) {
	for {
		p := r.parser()
		r.pos = p.skipWS(r.pos)
		if r.pos < r.end {
			return r.buf[r.pos], nil
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
}

// skipValue passes over one JSON value without building it, nor keeping
// it in the buffer.
func (r *Reader) skipValue() error {
	_, err := r.scanValue(false)
	return err
}

// scanValue scans the JSON value at r.pos, reading more of the stream as
// needed; each byte is scanned once. With keep, the whole value stays in
// the buffer from r.pos and scanValue returns where it ends; without,
// r.pos moves past it and what is scanned leaves the buffer as it goes.
func (r *Reader) scanValue(keep bool) (int, error) {
	r.sc.reset(r.maxBuf)
	off := 0 // bytes scanned after r.pos
	for {
		r.sc.base = r.consumed
		j, done, err := r.sc.scan(r.buf[:r.end], r.pos+off)
		if err != nil {
			return 0, err
		}
		if done {
			if !keep {
				r.pos = j
			}
			return j, nil
		}
		if keep {
			off = j - r.pos
		} else {
			r.pos = j
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
}

func (r *Reader) syntaxHere(format string, args ...any) error {
	return &SyntaxError{Offset: r.Offset(), Msg: fmt.Sprintf(format, args...)}
}

// fill reads more bytes, first moving the unread ones to the front of the
// buffer and growing it (up to the limit) when it is full. At the end of
// the stream it returns io.ErrUnexpectedEOF, or the error of the source.
func (r *Reader) fill() error {
	if r.eof {
		if r.readErr != nil {
			return r.readErr
		}
		return io.ErrUnexpectedEOF
	}
	if r.pos > 0 {
		n := copy(r.buf, r.buf[r.pos:r.end])
		r.consumed += int64(r.pos)
		r.pos, r.end = 0, n
	}
	if r.end == len(r.buf) {
		if len(r.buf) >= r.maxBuf {
			return ErrRecordTooLarge
		}
		nb := make([]byte, min(2*len(r.buf), r.maxBuf))
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	for range 100 {
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			r.eof = true
			if !errors.Is(err, io.EOF) {
				r.readErr = err
			}
			if n > 0 {
				return nil
			}
			return r.fill()
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}
