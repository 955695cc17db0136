// Package devstack runs the local stand-ins of the services the collector
// talks to: an S3 protocol server (gofakes3) with fault injection, used by
// the tests and by `make run`.
package devstack

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Fault is an S3 error the server answers instead of serving a request.
type Fault struct {
	// Status is the HTTP status (403, 404, 503…).
	Status int
	// Code is the S3 error code (AccessDenied, NoSuchKey, SlowDown…).
	Code string
	// Times is how many requests get the fault; 0 means every request.
	Times int
}

// S3Server is an in-process S3 protocol server over HTTP.
type S3Server struct {
	// URL is the endpoint to give to S3 clients (path-style addressing).
	URL     string
	backend *s3mem.Backend
	server  *httptest.Server

	apis *AWSAPIs

	mu         sync.Mutex
	getFaults  map[string]*Fault // by "bucket/key" or "bucket/prefix*"
	listFaults map[string]*Fault // by bucket
	gets       map[string]int
	lists      map[string]int // ListObjectsV2 requests by "bucket/prefix"
	getLatency time.Duration
}

// StartS3 starts a server on a loopback port (addr may be "" for any port).
func StartS3(addr string) (*S3Server, error) {
	s := &S3Server{backend: s3mem.New(), apis: newAWSAPIs(), getFaults: map[string]*Fault{}, listFaults: map[string]*Fault{}, gets: map[string]int{}, lists: map[string]int{}}
	fake := gofakes3.New(s.backend, gofakes3.WithLogger(gofakes3.DiscardLog()), gofakes3.WithAutoBucket(false))
	h := fake.Server()
	srv, err := serve(addr, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if s.fault(w, req) || s.apis.serve(w, req) {
			return
		}
		if d := s.latency(req); d > 0 {
			time.Sleep(d)
		}
		h.ServeHTTP(w, req)
	}))
	if err != nil {
		return nil, err
	}
	s.server = srv
	s.URL = srv.URL
	return s, nil
}

// Close stops the server.
func (s *S3Server) Close() { s.server.Close() }

// CreateBucket creates a bucket.
func (s *S3Server) CreateBucket(name string) error { return s.backend.CreateBucket(name) }

// Put stores an object.
func (s *S3Server) Put(bucket, key string, data []byte) error {
	_, err := s.backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil)
	return err
}

// PutWithMetadata stores an object with user metadata (keys as S3 sends
// them: "X-Amz-Meta-Signature"…).
func (s *S3Server) PutWithMetadata(bucket, key string, data []byte, meta map[string]string) error {
	_, err := s.backend.PutObject(bucket, key, meta, bytes.NewReader(data), int64(len(data)), nil)
	return err
}

// Get returns the content of an object.
func (s *S3Server) Get(bucket, key string) ([]byte, error) {
	obj, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, err
	}
	defer obj.Contents.Close()
	return io.ReadAll(obj.Contents)
}

// Metadata returns the user metadata of an object.
func (s *S3Server) Metadata(bucket, key string) (map[string]string, error) {
	obj, err := s.backend.HeadObject(bucket, key)
	if err != nil {
		return nil, err
	}
	return obj.Metadata, nil
}

// Delete removes an object.
func (s *S3Server) Delete(bucket, key string) error {
	_, err := s.backend.DeleteObject(bucket, key)
	return err
}

// FailGet makes GetObject on bucket/key fail; a key ending in '*' matches
// every key with that prefix.
func (s *S3Server) FailGet(bucket, key string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.getFaults[bucket+"/"+key] = &f
}

// FailList makes ListObjectsV2 on bucket fail.
func (s *S3Server) FailList(bucket string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listFaults[bucket] = &f
}

// SetGetLatency makes every GetObject wait d first, as S3's first-byte
// latency does (tens of milliseconds).
func (s *S3Server) SetGetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.getLatency = d
}

func (s *S3Server) latency(req *http.Request) time.Duration {
	path := strings.TrimPrefix(req.URL.Path, "/")
	if _, key, _ := strings.Cut(path, "/"); req.Method != http.MethodGet || key == "" {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.getLatency
}

// Gets returns how many GET requests bucket/key received.
func (s *S3Server) Gets(bucket, key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets[bucket+"/"+key]
}

// Lists returns how many ListObjectsV2 requests named bucket and exactly
// prefix: tests wait for more listings of a folder to know that polls ran.
func (s *S3Server) Lists(bucket, prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists[bucket+"/"+prefix]
}

func (s *S3Server) fault(w http.ResponseWriter, req *http.Request) bool {
	path := strings.TrimPrefix(req.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	var f *Fault
	switch {
	case req.Method == http.MethodGet && key != "":
		s.gets[path]++
		f = s.getFaults[path]
		if f == nil {
			for pattern, pf := range s.getFaults {
				if strings.HasSuffix(pattern, "*") && strings.HasPrefix(path, strings.TrimSuffix(pattern, "*")) {
					f = pf
					break
				}
			}
		}
	case req.Method == http.MethodGet && key == "" && req.URL.Query().Has("list-type"):
		s.lists[bucket+"/"+req.URL.Query().Get("prefix")]++
		f = s.listFaults[bucket]
	}
	if f == nil {
		return false
	}
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			// This is the last request to get the fault.
			s.forget(f)
		}
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(f.Status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected fault</Message><Resource>/%s</Resource><RequestId>devstack</RequestId></Error>`, f.Code, path)
	return true
}

// forget removes a used-up fault; s.mu must be held.
func (s *S3Server) forget(f *Fault) {
	for k, v := range s.getFaults {
		if v == f {
			delete(s.getFaults, k)
		}
	}
	for k, v := range s.listFaults {
		if v == f {
			delete(s.listFaults, k)
		}
	}
}

// serve starts an HTTP server for h on addr ("" or "127.0.0.1:0" for any
// loopback port).
func serve(addr string, h http.Handler) (*httptest.Server, error) {
	srv := httptest.NewUnstartedServer(h)
	if addr != "" {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		srv.Listener.Close()
		srv.Listener = l
	}
	srv.Start()
	return srv, nil
}

// Gzip compresses b, as CloudTrail stores its files.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// NDJSONToLogFile wraps records given one per line into a gzipped
// CloudTrail log file, as CloudTrail writes them, and counts them.
func NDJSONToLogFile(ndjson []byte) ([]byte, int) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"Records":[`))
	n := 0
	for _, line := range bytes.Split(ndjson, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if n > 0 {
			_, _ = zw.Write([]byte(","))
		}
		_, _ = zw.Write(line)
		n++
	}
	_, _ = zw.Write([]byte("]}"))
	_ = zw.Close()
	return buf.Bytes(), n
}

// Gunzip decompresses b.
func Gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
