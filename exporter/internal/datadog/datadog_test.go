package datadog

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
)

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		header http.Header
		want   time.Duration
	}{
		{http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{http.Header{"X-Ratelimit-Reset": {"12"}, "X-Ratelimit-Remaining": {"0"}}, 12 * time.Second},
		{http.Header{"X-Ratelimit-Reset": {"12"}, "X-Ratelimit-Remaining": {"5"}}, 0},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{}, 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, RetryDelay(tt.header), tt.header)
	}
}

func TestPostClassifiesAnswers(t *testing.T) {
	const key = "secret-key-value"
	tests := []struct {
		status    int
		ok        bool
		permanent bool
		tooLarge  bool
	}{
		{status: 202, ok: true},
		{status: 200, ok: true},
		{status: 400, permanent: true},
		{status: 401, permanent: true},
		{status: 403, permanent: true},
		{status: 413, permanent: true, tooLarge: true},
		{status: 408},
		{status: 429},
		{status: 500},
		{status: 503},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, key, r.Header.Get("DD-API-KEY"))
				assert.Equal(t, "gzip", r.Header.Get("Content-Encoding"))
				assert.Equal(t, "otelcol-cloudtrail", r.Header.Get("DD-EVP-ORIGIN"))
				assert.Equal(t, "1.2.3", r.Header.Get("DD-EVP-ORIGIN-VERSION"))
				assert.Equal(t, "otelcol-cloudtrail/1.2.3", r.Header.Get("User-Agent"))
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(`{"errors":["echo ` + key + `"]}`))
			}))
			defer srv.Close()
			zip, err := NewCompressor(CompressionGzip, 0)
			require.NoError(t, err)
			c := NewClient(http.DefaultClient, srv.URL, key, zip, "1.2.3")
			defer c.Close()
			resp, err := c.Post(context.Background(), []byte(`[{"message":"x"}]`))
			assert.Equal(t, tt.status, resp.Status)
			assert.Positive(t, resp.Sent)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.permanent, consumererror.IsPermanent(err))
			assert.Equal(t, tt.tooLarge, errors.Is(err, ErrTooLarge))
			assert.NotContains(t, err.Error(), key, "the key never appears in errors")
		})
	}
}

func TestPostNetworkErrorIsRetryable(t *testing.T) {
	c := NewClient(http.DefaultClient, "http://127.0.0.1:1/api/v2/logs", "k", nil, "test")
	_, err := c.Post(context.Background(), []byte(`[]`))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "127.0.0.1:1")
}

func TestAPIConfigValidate(t *testing.T) {
	assert.NoError(t, (&APIConfig{Key: "k", Site: "datadoghq.eu"}).Validate())
	err := (&APIConfig{Key: " ", Site: "example.com"}).Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "key must be set")
	assert.Contains(t, err.Error(), "us2.ddog-gov.com")
}
