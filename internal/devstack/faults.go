package devstack

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault kinds, as counted by S3Faults.Counts and IntakeFaults.Counts.
const (
	FaultLatency      = "s3_latency"
	FaultS3Internal   = "s3_500"
	FaultS3SlowDown   = "s3_503_slowdown"
	FaultS3Cut        = "s3_cut_body"
	FaultAccessDenied = "s3_access_denied"
	FaultIntake429    = "intake_429"
	FaultIntake5xx    = "intake_5xx"
	FaultIntake413    = "intake_413"
	FaultIntakeSlow   = "intake_slow"
)

// S3FaultRates are the probabilities, per request, of the faults S3Faults
// injects. Zero values inject nothing.
type S3FaultRates struct {
	// Latency delays an object GET or a listing by up to MaxLatency.
	Latency    float64
	MaxLatency time.Duration
	// Error answers an object GET or a listing with 500 InternalError or
	// 503 SlowDown (half each), as S3 does under load.
	Error float64
	// Cut serves the headers (with the full Content-Length) and part of an
	// object's body, then cuts the connection.
	Cut float64
}

// S3Faults is an http.Handler middleware, in front of the S3 server, that
// injects latency, 500 and 503 SlowDown errors, bodies cut in the middle
// and AccessDenied for chosen keys. Requests that are not S3 object reads
// or listings (SQS, the other AWS APIs) pass untouched. The random choices
// come from one seeded source; which request gets which fault still
// depends on the order requests arrive in.
type S3Faults struct {
	mu     sync.Mutex
	rng    *rand.Rand
	rates  S3FaultRates
	denied map[string]bool // "bucket/key"
	counts map[string]int
}

// NewS3Faults returns a middleware that injects nothing until told to.
func NewS3Faults(seed uint64) *S3Faults {
	return &S3Faults{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), denied: map[string]bool{}, counts: map[string]int{}}
}

// SetRates replaces the fault probabilities.
func (f *S3Faults) SetRates(r S3FaultRates) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rates = r
}

// Deny answers 403 AccessDenied to every GET of bucket/key until Clear.
func (f *S3Faults) Deny(bucket, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.denied[bucket+"/"+key] = true
}

// Clear stops every fault.
func (f *S3Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rates = S3FaultRates{}
	clear(f.denied)
}

// Counts returns how many faults of each kind were injected.
func (f *S3Faults) Counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.counts)
}

// Wrap returns next with the faults injected.
func (f *S3Faults) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.Header.Get("X-Amz-Target") != "" {
			next.ServeHTTP(w, r)
			return
		}
		path := strings.TrimPrefix(r.URL.Path, "/")
		_, key, _ := strings.Cut(path, "/")
		isObject := key != ""
		if !isObject && !r.URL.Query().Has("list-type") {
			next.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		var delay time.Duration
		if f.rates.Latency > 0 && f.rng.Float64() < f.rates.Latency && f.rates.MaxLatency > 0 {
			delay = time.Duration(f.rng.Int64N(int64(f.rates.MaxLatency)))
			f.counts[FaultLatency]++
		}
		var status int
		var code string
		switch {
		case isObject && f.denied[path]:
			status, code = http.StatusForbidden, "AccessDenied"
			f.counts[FaultAccessDenied]++
		case f.rates.Error > 0 && f.rng.Float64() < f.rates.Error:
			if f.rng.IntN(2) == 0 {
				status, code = http.StatusInternalServerError, "InternalError"
				f.counts[FaultS3Internal]++
			} else {
				status, code = http.StatusServiceUnavailable, "SlowDown"
				f.counts[FaultS3SlowDown]++
			}
		}
		cut := -1.0
		if status == 0 && isObject && f.rates.Cut > 0 && f.rng.Float64() < f.rates.Cut {
			cut = f.rng.Float64()
		}
		f.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if status != 0 {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected fault</Message><Resource>/%s</Resource><RequestId>devstack-faults</RequestId></Error>`, code, path)
			return
		}
		if cut < 0 {
			next.ServeHTTP(w, r)
			return
		}
		cw := &cutWriter{ResponseWriter: w, frac: cut, limit: -1, onCut: func() {
			f.mu.Lock()
			f.counts[FaultS3Cut]++
			f.mu.Unlock()
		}}
		next.ServeHTTP(cw, r) // the proxy aborts the connection when a write fails
		if cw.cut {
			panic(http.ErrAbortHandler)
		}
	})
}

var errCut = errors.New("devstack: body cut by fault injection")

// cutWriter passes a 200 answer's headers and the first frac of its body,
// then fails every write (the handler then aborts the connection).
type cutWriter struct {
	http.ResponseWriter
	frac    float64
	limit   int64 // -1: no cut
	written int64
	cut     bool
	onCut   func()
}

func (c *cutWriter) WriteHeader(status int) {
	c.limit = -1
	if status == http.StatusOK {
		if n, err := strconv.ParseInt(c.Header().Get("Content-Length"), 10, 64); err == nil && n > 1 {
			c.limit = max(1, int64(float64(n)*c.frac))
			if c.limit >= n {
				c.limit = n - 1
			}
		}
	}
	c.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *cutWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *cutWriter) Write(b []byte) (int, error) {
	if c.limit < 0 {
		return c.ResponseWriter.Write(b)
	}
	if c.cut {
		return 0, errCut
	}
	room := c.limit - c.written
	if int64(len(b)) <= room {
		n, err := c.ResponseWriter.Write(b)
		c.written += int64(n)
		return n, err
	}
	n, _ := c.ResponseWriter.Write(b[:room])
	c.written += int64(n)
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	c.cut = true
	c.onCut()
	return n, errCut
}

// IntakeFaultRates are the probabilities, per request, of the faults
// IntakeFaults injects.
type IntakeFaultRates struct {
	// TooMany answers 429 with Retry-After: 1.
	TooMany float64
	// ServerError answers 500, 502 or 503.
	ServerError float64
	// TooLarge answers 413 to a logs request of more than one entry (the
	// exporter splits it; one entry cannot be split, so it is spared).
	TooLarge float64
	// Slow holds the request SlowDelay before passing it on (or drops it if
	// the client gave up first, as a timed-out request is).
	Slow      float64
	SlowDelay time.Duration
}

// IntakeFaults is an http.Handler middleware, in front of the Datadog
// intake emulator, that injects 429 with Retry-After, 5xx, 413 and slow
// answers at random.
type IntakeFaults struct {
	mu     sync.Mutex
	rng    *rand.Rand
	rates  IntakeFaultRates
	counts map[string]int
	// ambiguous counts the entries (logs) and events of requests passed
	// on whose client gave up (timed out, or its connection was cut)
	// before it got the answer: the intake may have accepted them while
	// the client saw a failure, so they may rightly arrive twice.
	ambiguous map[string]int
}

// Ambiguous returns, by path, how many log entries or events were in
// requests the intake may have accepted while the client saw a failure
// (the client gave up before the answer): each may arrive twice.
func (f *IntakeFaults) Ambiguous() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.ambiguous)
}

// NewIntakeFaults returns a middleware that injects nothing until told to.
func NewIntakeFaults(seed uint64) *IntakeFaults {
	return &IntakeFaults{rng: rand.New(rand.NewPCG(seed, seed^0xfa17)), counts: map[string]int{}, ambiguous: map[string]int{}}
}

// SetRates replaces the fault probabilities.
func (f *IntakeFaults) SetRates(r IntakeFaultRates) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rates = r
}

// Clear stops every fault.
func (f *IntakeFaults) Clear() { f.SetRates(IntakeFaultRates{}) }

// Counts returns how many faults of each kind were injected.
func (f *IntakeFaults) Counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.counts)
}

func intakeReject(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"errors":["injected fault"]}`)
}

// Wrap returns next with the faults injected.
func (f *IntakeFaults) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		rates := f.rates
		draw := func(p float64) bool { return p > 0 && f.rng.Float64() < p }
		slow := draw(rates.Slow) && rates.SlowDelay > 0
		tooMany := draw(rates.TooMany)
		serverErr := draw(rates.ServerError)
		serverStatus := []int{500, 502, 503}[f.rng.IntN(3)]
		tooLarge := draw(rates.TooLarge)
		f.mu.Unlock()
		if slow {
			f.count(FaultIntakeSlow)
			select {
			case <-time.After(rates.SlowDelay):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case tooMany:
			f.count(FaultIntake429)
			w.Header().Set("Retry-After", "1")
			intakeReject(w, http.StatusTooManyRequests)
			return
		case serverErr:
			f.count(FaultIntake5xx)
			intakeReject(w, serverStatus)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if tooLarge && r.URL.Path == "/api/v2/logs" && logEntries(body, r.Header.Get("Content-Encoding")) > 1 {
			f.count(FaultIntake413)
			intakeReject(w, http.StatusRequestEntityTooLarge)
			return
		}
		next.ServeHTTP(w, r)
		if r.Context().Err() != nil {
			n := 1
			if r.URL.Path == "/api/v2/logs" {
				n = logEntries(body, r.Header.Get("Content-Encoding"))
			}
			f.mu.Lock()
			f.ambiguous[r.URL.Path] += n
			f.mu.Unlock()
		}
	})
}

func (f *IntakeFaults) count(kind string) {
	f.mu.Lock()
	f.counts[kind]++
	f.mu.Unlock()
}

// logEntries counts the entries of a logs request body (0 if unreadable).
func logEntries(body []byte, encoding string) int {
	var src io.Reader = bytes.NewReader(body)
	if encoding == "gzip" {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return 0
		}
		src = zr
	}
	var entries []json.RawMessage
	if err := json.NewDecoder(src).Decode(&entries); err != nil {
		return 0
	}
	return len(entries)
}
