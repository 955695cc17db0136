// Package datadog holds what the Datadog exporters share: the API
// configuration (key and site), the intake URLs of each site, the HTTP
// sending with compression, and the classification of Datadog's answers
// into success, retryable and permanent errors.
package datadog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// DefaultSite is the Datadog site used when none is configured.
const DefaultSite = "datadoghq.com"

// Sites are the Datadog sites an exporter can send to.
var Sites = []string{
	"datadoghq.com", "datadoghq.eu", "us3.datadoghq.com", "us5.datadoghq.com",
	"ap1.datadoghq.com", "ap2.datadoghq.com", "uk1.datadoghq.com", "ddog-gov.com", "us2.ddog-gov.com",
}

// APIConfig is the `api` section of both exporters.
type APIConfig struct {
	// Key is the Datadog API key. It is never logged.
	Key configopaque.String `mapstructure:"key"`
	// Site is the Datadog site (datadoghq.com, datadoghq.eu, …).
	Site string `mapstructure:"site"`
}

// Validate checks that a key is set and the site is known.
func (c *APIConfig) Validate() error {
	var errs []error
	if strings.TrimSpace(string(c.Key)) == "" {
		errs = append(errs, errors.New("key must be set (for example key: ${env:DD_API_KEY})"))
	}
	if !slices.Contains(Sites, c.Site) {
		errs = append(errs, fmt.Errorf("site %q is not a Datadog site; use one of: %s", c.Site, strings.Join(Sites, ", ")))
	}
	return errors.Join(errs...)
}

// LogsURL returns the logs intake URL of a site, or of endpoint when set.
func LogsURL(site, endpoint string) string {
	if endpoint != "" {
		return strings.TrimSuffix(endpoint, "/") + "/api/v2/logs"
	}
	return "https://http-intake.logs." + site + "/api/v2/logs"
}

// EventsURL returns the v1 Events API URL of a site, or of endpoint when set.
func EventsURL(site, endpoint string) string {
	if endpoint != "" {
		return strings.TrimSuffix(endpoint, "/") + "/api/v1/events"
	}
	return "https://api." + site + "/api/v1/events"
}

// Origin is the DD-EVP-ORIGIN header of every request: it tells Datadog
// which integration sent the data (the Forwarder sends aws_forwarder).
const Origin = "otelcol-cloudtrail"

// Client posts JSON payloads to one Datadog URL.
type Client struct {
	http    *http.Client
	url     string
	key     configopaque.String
	zip     *Compressor // nil: none
	version string
	// closed: a request that ends after Close closes its connection too.
	closed atomic.Bool
}

// NewClient returns a Client posting to url with the API key through hc
// (ExporterConfig.HTTPClient), compressing with zip (nil: none); version
// is the collector's build version, sent in DD-EVP-ORIGIN-VERSION and the
// User-Agent.
func NewClient(hc *http.Client, url string, key configopaque.String, zip *Compressor, version string) *Client {
	if version == "" {
		version = "unknown"
	}
	return &Client{http: hc, url: url, key: key, zip: zip, version: version}
}

// Close releases the client's idle connections. A request still running
// (a call the caller stopped waiting for) releases its own when it ends.
func (c *Client) Close() {
	c.closed.Store(true)
	c.http.CloseIdleConnections()
}

// Response is what Datadog answered to an accepted request.
type Response struct {
	Status int
	Header http.Header
	// Sent is the number of bytes put on the wire (after compression).
	Sent int
}

// Post sends payload (JSON), which the caller may reuse once Post
// returned. A 2xx answer returns nil. Other answers
// become errors that say what happened and never include the API key:
// 413 wraps ErrTooLarge; 400/401/403 and other 4xx are permanent
// (consumererror.Permanent); 408, 429, 5xx and network errors are
// retryable, with a delay from Retry-After or X-RateLimit-Reset when given.
func (c *Client) Post(ctx context.Context, payload []byte) (Response, error) {
	// The body is a pooled copy (compressed or not): the transport may
	// read it after Do returned (an early answer), and the caller reuses
	// payload.
	buf := bodies.Get().(*[]byte)
	*buf = c.zip.AppendCompressed((*buf)[:0], payload)
	body := newRequestBody(buf)
	defer body.release()
	sent := len(*buf)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, nil)
	if err != nil {
		return Response{}, consumererror.NewPermanent(err)
	}
	req.Body, req.ContentLength = body.reader(), int64(sent)
	req.GetBody = func() (io.ReadCloser, error) { return body.reader(), nil }
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("DD-API-KEY", string(c.key))
	req.Header.Set("User-Agent", Origin+"/"+c.version)
	req.Header.Set("DD-EVP-ORIGIN", Origin)
	req.Header.Set("DD-EVP-ORIGIN-VERSION", c.version)
	if enc := c.zip.Encoding(); enc != "" {
		req.Header.Set("Content-Encoding", enc)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// Network errors: retryable. The error names the URL, never the key.
		return Response{Sent: sent}, fmt.Errorf("POST %s: %w", c.url, scrub(err, c.key))
	}
	defer func() {
		_ = resp.Body.Close()
		if c.closed.Load() {
			c.http.CloseIdleConnections()
		}
	}()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	r := Response{Status: resp.StatusCode, Header: resp.Header, Sent: sent}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return r, nil
	}
	return r, classify(c.url, resp.StatusCode, resp.Header, strings.ReplaceAll(string(snippet), string(c.key), "[redacted]"))
}

// ErrTooLarge is wrapped by the error of a 413 answer: the payload must be split.
var ErrTooLarge = errors.New("payload too large")

// HTTPError is an answer of Datadog that is not a success.
type HTTPError struct {
	URL    string
	Status int
	Body   string
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("POST %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if b := strings.TrimSpace(e.Body); b != "" {
		msg += ": " + b
	}
	switch e.Status {
	case http.StatusForbidden, http.StatusUnauthorized:
		msg += " (check api.key and api.site: the key must belong to the organisation of that site)"
	}
	return msg
}

func (e *HTTPError) Unwrap() error {
	if e.Status == http.StatusRequestEntityTooLarge {
		return ErrTooLarge
	}
	return nil
}

func classify(url string, status int, h http.Header, body string) error {
	err := &HTTPError{URL: url, Status: status, Body: body}
	switch {
	case status == http.StatusRequestEntityTooLarge:
		return consumererror.NewPermanent(err)
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500:
		if d := RetryDelay(h); d > 0 {
			return exporterhelper.NewThrottleRetry(err, d)
		}
		return err
	default:
		return consumererror.NewPermanent(err)
	}
}

// RetryDelay reads how long Datadog asks to wait: Retry-After (seconds or
// an HTTP date) or X-RateLimit-Reset (seconds until the window resets).
func RetryDelay(h http.Header) time.Duration {
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(time.Until(t), 0)
		}
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" && h.Get("X-RateLimit-Remaining") == "0" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second
		}
	}
	return 0
}

// scrub removes the key from an error's text, should a transport error
// ever quote a header.
func scrub(err error, key configopaque.String) error {
	if key == "" || !strings.Contains(err.Error(), string(key)) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), string(key), "[redacted]"))
}
