package devstack

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
)

// Documented limits of the Datadog intakes that the emulator enforces.
const (
	LogsMaxPayloadBytes = 5_000_000
	LogsMaxEntries      = 1000
	LogsMaxEntryBytes   = 1_000_000
	EventsMaxTitle      = 100
	EventsMaxText       = 4000
	EventsMaxAggKey     = 100
	EventsMaxAge        = 18 * time.Hour
)

// Event is an event the intake accepted (the v1 Events API's fields).
type Event struct {
	Title          string   `json:"title"`
	Text           string   `json:"text"`
	DateHappened   int64    `json:"date_happened,omitempty"`
	Priority       string   `json:"priority,omitempty"`
	Host           string   `json:"host,omitempty"`
	Tags           []string `json:"tags,omitempty"`
	AlertType      string   `json:"alert_type,omitempty"`
	AggregationKey string   `json:"aggregation_key,omitempty"`
	SourceTypeName string   `json:"source_type_name,omitempty"`
}

// IntakeFault makes the intake answer Status to the next Times requests of
// Path ("" for every path), with an optional Retry-After.
type IntakeFault struct {
	Path   string
	Status int
	Times  int
	// After lets this many matching requests through before the fault starts.
	After      int
	RetryAfter int
	// RateLimitReset, when set, is sent as X-RateLimit-Reset with
	// X-RateLimit-Remaining: 0.
	RateLimitReset int
}

// Intake emulates the Datadog logs intake (POST /api/v2/logs) and the v1
// Events API (POST /api/v1/events): it checks DD-API-KEY, decodes gzip or zstd,
// enforces the documented limits and records what it accepted.
type Intake struct {
	// URL is the base URL to give as the exporters' endpoint.
	URL    string
	APIKey string
	server *httptest.Server

	mu       sync.Mutex
	logs     []map[string]any
	events   []Event
	requests map[string]int
	bodies   map[string][]int
	rejected map[int]int
	origins  map[string]int
	// encodings counts decoded requests by Content-Encoding.
	encodings map[string]int
	faults    []*IntakeFault
	delay     time.Duration
	now       func() time.Time
}

// StartIntake starts the emulator on addr ("" for any loopback port).
func StartIntake(addr, apiKey string) (*Intake, error) {
	in := &Intake{APIKey: apiKey, requests: map[string]int{}, bodies: map[string][]int{}, rejected: map[int]int{}, origins: map[string]int{}, encodings: map[string]int{}, now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/logs", in.handleLogs)
	mux.HandleFunc("POST /api/v1/events", in.handleEvents)
	mux.HandleFunc("GET /api/v1/validate", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("DD-API-KEY") != in.APIKey {
			in.reply(w, http.StatusForbidden, `{"errors":["Forbidden"]}`)
			return
		}
		in.reply(w, http.StatusOK, `{"valid":true}`)
	})
	srv, err := serve(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in.mu.Lock()
		in.requests[r.URL.Path]++
		delay := in.delay
		f := in.takeFault(r.URL.Path)
		in.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if f != nil {
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			}
			if f.RateLimitReset > 0 {
				w.Header().Set("X-RateLimit-Limit", "1000")
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset", strconv.Itoa(f.RateLimitReset))
			}
			in.reject(w, f.Status, "injected fault")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	if err != nil {
		return nil, err
	}
	in.server = srv
	in.URL = srv.URL
	return in, nil
}

// SetNow sets the clock used to check date_happened (tests of old data).
func (in *Intake) SetNow(now func() time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.now = now
}

// Close stops the emulator.
func (in *Intake) Close() { in.server.Close() }

// Fail injects a fault.
func (in *Intake) Fail(f IntakeFault) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.faults = append(in.faults, &f)
}

// SetDelay makes every answer wait d.
func (in *Intake) SetDelay(d time.Duration) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.delay = d
}

// Logs returns the log entries accepted so far.
func (in *Intake) Logs() []map[string]any {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.logs)
}

// Events returns the events accepted so far.
func (in *Intake) Events() []Event {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.events)
}

// Requests returns how many requests a path received (accepted or not).
func (in *Intake) Requests(path string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.requests[path]
}

// BodySizes returns the uncompressed sizes of the request bodies a path
// received with a valid key, in order.
func (in *Intake) BodySizes(path string) []int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.bodies[path])
}

// Origins counts the requests with a valid key by "DD-EVP-ORIGIN/DD-EVP-ORIGIN-VERSION".
func (in *Intake) Origins() map[string]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return maps.Clone(in.origins)
}

// Encodings counts the requests whose body was decoded (valid key, within
// the size limit) by Content-Encoding ("" for none).
func (in *Intake) Encodings() map[string]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return maps.Clone(in.encodings)
}

// Rejected returns how many requests got the given status.
func (in *Intake) Rejected(status int) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rejected[status]
}

func (in *Intake) takeFault(path string) *IntakeFault {
	for i, f := range in.faults {
		if f.Path != "" && f.Path != path {
			continue
		}
		if f.After > 0 {
			f.After--
			return nil
		}
		f.Times--
		if f.Times <= 0 {
			in.faults = slices.Delete(in.faults, i, i+1)
		}
		return f
	}
	return nil
}

func (in *Intake) reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (in *Intake) reject(w http.ResponseWriter, status int, msg string) {
	in.mu.Lock()
	in.rejected[status]++
	in.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"errors": []string{msg}})
	in.reply(w, status, string(b))
}

// body checks the key and returns the decoded request body, or answers
// with an error and returns nil.
func (in *Intake) body(w http.ResponseWriter, r *http.Request, limit int) []byte {
	if r.Header.Get("DD-API-KEY") != in.APIKey {
		in.reject(w, http.StatusForbidden, "Forbidden: invalid or missing DD-API-KEY")
		return nil
	}
	// The real intake accepts requests without these headers; the
	// emulator refuses them so that every test checks the exporters send them.
	origin, version := r.Header.Get("DD-EVP-ORIGIN"), r.Header.Get("DD-EVP-ORIGIN-VERSION")
	if origin == "" || version == "" {
		in.reject(w, http.StatusBadRequest, "missing DD-EVP-ORIGIN or DD-EVP-ORIGIN-VERSION header")
		return nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		in.reject(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json, got "+ct)
		return nil
	}
	var src io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			in.reject(w, http.StatusBadRequest, "invalid gzip: "+err.Error())
			return nil
		}
		src = zr
	case "zstd":
		// Vector's datadog_logs sink and the Datadog Agent send zstd.
		zr, err := zstd.NewReader(r.Body, zstd.WithDecoderConcurrency(1))
		if err != nil {
			in.reject(w, http.StatusBadRequest, "invalid zstd: "+err.Error())
			return nil
		}
		defer zr.Close()
		src = zr
	case "", "identity":
	default:
		in.reject(w, http.StatusBadRequest, "unsupported Content-Encoding "+enc)
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(src, int64(limit)+1))
	if err != nil {
		in.reject(w, http.StatusBadRequest, "cannot read body ("+r.Header.Get("Content-Encoding")+"): "+err.Error())
		return nil
	}
	// JSON is UTF-8 (RFC 8259); Go's decoder would silently repair it.
	if !utf8.Valid(b) {
		in.reject(w, http.StatusBadRequest, "body is not valid UTF-8")
		return nil
	}
	if len(b) > limit {
		in.reject(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("payload larger than %d bytes", limit))
		return nil
	}
	in.mu.Lock()
	in.bodies[r.URL.Path] = append(in.bodies[r.URL.Path], len(b))
	in.origins[origin+"/"+version]++
	in.encodings[r.Header.Get("Content-Encoding")]++
	in.mu.Unlock()
	return b
}

func (in *Intake) handleLogs(w http.ResponseWriter, r *http.Request) {
	b := in.body(w, r, LogsMaxPayloadBytes)
	if b == nil {
		return
	}
	var raw []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		raw = []json.RawMessage{b}
	} else if err := json.Unmarshal(b, &raw); err != nil {
		in.reject(w, http.StatusBadRequest, "body is not a JSON array of log entries: "+err.Error())
		return
	}
	if len(raw) > LogsMaxEntries {
		in.reject(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("%d entries, more than %d", len(raw), LogsMaxEntries))
		return
	}
	entries := make([]map[string]any, 0, len(raw))
	for i, e := range raw {
		if len(e) > LogsMaxEntryBytes {
			in.reject(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("entry %d is %d bytes, more than %d", i, len(e), LogsMaxEntryBytes))
			return
		}
		var m map[string]any
		if err := json.Unmarshal(e, &m); err != nil {
			in.reject(w, http.StatusBadRequest, fmt.Sprintf("entry %d is not a JSON object: %v", i, err))
			return
		}
		entries = append(entries, m)
	}
	in.mu.Lock()
	in.logs = append(in.logs, entries...)
	in.mu.Unlock()
	in.reply(w, http.StatusAccepted, `{}`)
}

var alertTypes = []string{"error", "warning", "info", "success", "user_update", "recommendation", "snapshot"}

func (in *Intake) handleEvents(w http.ResponseWriter, r *http.Request) {
	b := in.body(w, r, 1<<20)
	if b == nil {
		return
	}
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&ev); err != nil {
		in.reject(w, http.StatusBadRequest, "body is not an event: "+err.Error())
		return
	}
	var problems []string
	if ev.Title == "" {
		problems = append(problems, "title is required")
	}
	if n := len([]rune(ev.Title)); n > EventsMaxTitle {
		problems = append(problems, fmt.Sprintf("title is %d characters, more than %d", n, EventsMaxTitle))
	}
	if ev.Text == "" {
		problems = append(problems, "text is required")
	}
	if n := len([]rune(ev.Text)); n > EventsMaxText {
		problems = append(problems, fmt.Sprintf("text is %d characters, more than %d", n, EventsMaxText))
	}
	if n := len([]rune(ev.AggregationKey)); n > EventsMaxAggKey {
		problems = append(problems, fmt.Sprintf("aggregation_key is %d characters, more than %d", n, EventsMaxAggKey))
	}
	if ev.Priority != "" && ev.Priority != "normal" && ev.Priority != "low" {
		problems = append(problems, "priority must be normal or low, got "+ev.Priority)
	}
	if ev.AlertType != "" && !slices.Contains(alertTypes, ev.AlertType) {
		problems = append(problems, "alert_type "+ev.AlertType+" is not valid")
	}
	in.mu.Lock()
	now := in.now
	in.mu.Unlock()
	if ev.DateHappened != 0 {
		age := now().Sub(time.Unix(ev.DateHappened, 0))
		if age > EventsMaxAge {
			problems = append(problems, fmt.Sprintf("date_happened is %s old, more than %s", age.Round(time.Second), EventsMaxAge))
		}
	}
	if len(problems) > 0 {
		b, _ := json.Marshal(map[string]any{"errors": problems})
		in.mu.Lock()
		in.rejected[http.StatusBadRequest]++
		in.mu.Unlock()
		in.reply(w, http.StatusBadRequest, string(b))
		return
	}
	in.mu.Lock()
	in.events = append(in.events, ev)
	id := len(in.events)
	in.mu.Unlock()
	resp, _ := json.Marshal(map[string]any{"status": "ok", "event": map[string]any{"id": id, "title": ev.Title, "priority": ev.Priority}})
	in.reply(w, http.StatusAccepted, string(resp))
}
