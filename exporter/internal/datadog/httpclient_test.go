package datadog

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
)

// TestHTTPClientSettings: proxy_url, headers and timeout of the embedded
// confighttp.ClientConfig reach the requests; the client does not compress
// twice (the Client gzips itself).
func TestHTTPClientSettings(t *testing.T) {
	tests := []struct {
		name      string
		viaProxy  bool
		zip       string // compression
		wantProxy int32
	}{
		{name: "direct", wantProxy: 0},
		{name: "through proxy_url", viaProxy: true, wantProxy: 1},
		{name: "through proxy_url, gzip", viaProxy: true, zip: "gzip", wantProxy: 1},
		{name: "zstd", zip: "zstd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got http.Header
			var body []byte
			intake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
				var src io.Reader = r.Body
				switch r.Header.Get("Content-Encoding") {
				case "gzip":
					zr, err := gzip.NewReader(r.Body)
					if err != nil {
						w.WriteHeader(http.StatusBadRequest)
						return
					}
					src = zr
				case "zstd":
					zr, err := zstd.NewReader(r.Body)
					if err != nil {
						w.WriteHeader(http.StatusBadRequest)
						return
					}
					defer zr.Close()
					src = zr
				}
				body, _ = io.ReadAll(src)
				w.WriteHeader(http.StatusAccepted)
			}))
			defer intake.Close()
			var proxied atomic.Int32
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				proxied.Add(1)
				// A forward proxy receives the absolute URL of the intake.
				req, _ := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), r.Body)
				req.Header = r.Header.Clone()
				resp, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				resp.Body.Close()
				w.WriteHeader(resp.StatusCode)
			}))
			defer proxy.Close()

			cfg := NewExporterConfig()
			cfg.ClientConfig.Endpoint = intake.URL
			if tt.viaProxy {
				cfg.ClientConfig.ProxyURL = proxy.URL
			}
			cfg.ClientConfig.Headers.Set("X-Team", configopaque.String("security"))
			if tt.zip != "" {
				require.NoError(t, cfg.ClientConfig.Compression.UnmarshalText([]byte(tt.zip)))
			}
			hc, err := cfg.HTTPClient(context.Background(), componenttest.NewNopHost(), componenttest.NewNopTelemetrySettings())
			require.NoError(t, err)
			assert.Equal(t, cfg.ClientConfig.Timeout, hc.Timeout, "timeout bounds each request")
			zip, err := cfg.Compressor()
			require.NoError(t, err)
			c := NewClient(hc, LogsURL("", intake.URL), "k", zip, "1.0")
			defer c.Close()
			_, err = c.Post(context.Background(), []byte(`[{"message":"x"}]`))
			require.NoError(t, err)
			assert.Equal(t, tt.wantProxy, proxied.Load())
			assert.Equal(t, "security", got.Get("X-Team"))
			assert.Equal(t, "k", got.Get("DD-API-KEY"))
			assert.JSONEq(t, `[{"message":"x"}]`, string(body), "compressed once at most")
			assert.Equal(t, tt.zip, got.Get("Content-Encoding"), "compressed once, as configured")
		})
	}
}

func TestHTTPClientErrors(t *testing.T) {
	tests := []struct {
		name    string
		set     func(c *ExporterConfig)
		errText string
	}{
		{"missing CA file", func(c *ExporterConfig) { c.ClientConfig.TLS.CAFile = "/nonexistent/ca.pem" }, "ca.pem"},
		{"bad proxy URL", func(c *ExporterConfig) { c.ClientConfig.ProxyURL = "::bad" }, "::bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := NewExporterConfig()
			tt.set(&cfg)
			_, err := cfg.HTTPClient(context.Background(), componenttest.NewNopHost(), componenttest.NewNopTelemetrySettings())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.errText)
		})
	}
}
