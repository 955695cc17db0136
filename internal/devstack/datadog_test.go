package devstack

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func post(t *testing.T, url, key, body, enc string) int {
	t.Helper()
	return postWith(t, url, key, body, enc, http.Header{"Dd-Evp-Origin": {"test"}, "Dd-Evp-Origin-Version": {"1"}})
}

// postWith posts body compressed with enc: "", gzip, zstd, or
// "zstd-but-gzip" (gzip bytes labelled zstd).
func postWith(t *testing.T, url, key, body, enc string, h http.Header) int {
	t.Helper()
	var b bytes.Buffer
	switch enc {
	case "gzip", "zstd-but-gzip":
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(body))
		_ = zw.Close()
	case "zstd":
		zw, _ := zstd.NewWriter(&b)
		_, _ = zw.Write([]byte(body))
		_ = zw.Close()
	default:
		b.WriteString(body)
	}
	req, _ := http.NewRequest(http.MethodPost, url, &b)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("DD-API-KEY", key)
	if enc != "" {
		req.Header.Set("Content-Encoding", strings.TrimSuffix(enc, "-but-gzip"))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestIntakeRequiresOrigin: requests without DD-EVP-ORIGIN and
// DD-EVP-ORIGIN-VERSION are refused, so every exporter test checks that
// the exporters send them; the origins are counted.
func TestIntakeRequiresOrigin(t *testing.T) {
	in, err := StartIntake("", "k")
	require.NoError(t, err)
	defer in.Close()
	ev := `{"title":"t","text":"x"}`
	tests := []struct {
		name, path, body string
		h                http.Header
		want             int
	}{
		{"logs with origin", "/api/v2/logs", `[{"message":"x"}]`, http.Header{"Dd-Evp-Origin": {"otelcol-cloudtrail"}, "Dd-Evp-Origin-Version": {"1.0"}}, 202},
		{"events with origin", "/api/v1/events", ev, http.Header{"Dd-Evp-Origin": {"otelcol-cloudtrail"}, "Dd-Evp-Origin-Version": {"1.0"}}, 202},
		{"logs without origin", "/api/v2/logs", `[{"message":"x"}]`, http.Header{}, 400},
		{"events without version", "/api/v1/events", ev, http.Header{"Dd-Evp-Origin": {"otelcol-cloudtrail"}}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, postWith(t, in.URL+tt.path, "k", tt.body, "", tt.h))
		})
	}
	assert.Equal(t, map[string]int{"otelcol-cloudtrail/1.0": 2}, in.Origins())
}

// TestIntakeContract checks the documented limits the emulator enforces.
func TestIntakeContract(t *testing.T) {
	in, err := StartIntake("", "k")
	require.NoError(t, err)
	defer in.Close()
	logs, events := in.URL+"/api/v2/logs", in.URL+"/api/v1/events"
	entries := func(n, size int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"message":%q}`, strings.Repeat("x", size))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	now := time.Now().Unix()
	tests := []struct {
		name, url, key, body string
		enc                  string
		want                 int
	}{
		{"logs accepted", logs, "k", entries(2, 10), "gzip", 202},
		{"single object accepted", logs, "k", `{"message":"x"}`, "", 202},
		{"wrong key", logs, "bad", entries(1, 1), "gzip", 403},
		{"too many entries", logs, "k", entries(1001, 1), "gzip", 413},
		{"entry over 1 MB", logs, "k", entries(1, 1_000_001), "gzip", 413},
		{"payload over 5 MB", logs, "k", entries(6, 999_000), "gzip", 413},
		{"not json", logs, "k", "nope", "", 400},
		{"zstd accepted", logs, "k", entries(2, 10), "zstd", 202},
		{"zstd that is not zstd", logs, "k", entries(1, 1), "zstd-but-gzip", 400},
		{"invalid UTF-8", logs, "k", "[{\"message\":\"a\xffb\"}]", "gzip", 400},
		{"event accepted", events, "k", fmt.Sprintf(`{"title":"t","text":"x","priority":"low","date_happened":%d}`, now), "", 202},
		{"title too long", events, "k", `{"title":"` + strings.Repeat("t", 101) + `","text":"x"}`, "", 400},
		{"text too long", events, "k", `{"title":"t","text":"` + strings.Repeat("x", 4001) + `"}`, "", 400},
		{"bad priority", events, "k", `{"title":"t","text":"x","priority":"high"}`, "", 400},
		{"too old", events, "k", fmt.Sprintf(`{"title":"t","text":"x","date_happened":%d}`, now-19*3600), "", 400},
		{"aggregation key too long", events, "k", `{"title":"t","text":"x","aggregation_key":"` + strings.Repeat("a", 101) + `"}`, "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, post(t, tt.url, tt.key, tt.body, tt.enc))
		})
	}
	assert.Len(t, in.Logs(), 5)
	assert.Equal(t, map[string]int{"gzip": 3, "zstd": 1, "": 8}, in.Encodings(), "decoded requests by Content-Encoding")
	assert.Len(t, in.Events(), 1)

	in.Fail(IntakeFault{Path: "/api/v2/logs", Status: 429, Times: 2, After: 1, RetryAfter: 3})
	assert.Equal(t, 202, post(t, logs, "k", entries(1, 1), ""))
	assert.Equal(t, 429, post(t, logs, "k", entries(1, 1), ""))
	assert.Equal(t, 429, post(t, logs, "k", entries(1, 1), ""))
	assert.Equal(t, 202, post(t, logs, "k", entries(1, 1), ""))
}
