package datadogtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// BenchLogs returns n generated CloudTrail log records shaped as the
// receiver emits them in a body mode (ModeMap: the record as a map,
// ModeJSON: its JSON text, ModeNone: no body) with the attributes the
// exporters read, timed at now, for the exporters' benchmarks.
func BenchLogs(n int, now time.Time, mode string) plog.Logs {
	g := trailgen.New(7, "123456789012", "us-east-1")
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(ctattr.ResourceCloudProvider, "aws")
	rl.Resource().Attributes().PutStr(ctattr.ResourceAccountID, g.Account)
	rl.Resource().Attributes().PutStr(ctattr.ResourceRegion, g.Region)
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := 0; i < n; i++ {
		rec := g.Record(now.Add(-time.Duration(i) * time.Millisecond))
		lr := lrs.AppendEmpty()
		switch mode {
		case ModeMap:
			_ = lr.Body().SetEmptyMap().FromRaw(rec)
		case ModeJSON:
			text, _ := json.Marshal(rec)
			lr.Body().SetStr(string(text))
		}
		a := lr.Attributes()
		src := rec["eventSource"].(string)
		a.PutStr(ctattr.AttrEventID, rec["eventID"].(string))
		a.PutStr(ctattr.AttrRPCMethod, rec["eventName"].(string))
		a.PutStr(ctattr.AttrRPCService, src)
		a.PutStr(ctattr.AttrService, strings.TrimSuffix(src, ".amazonaws.com"))
		a.PutStr(ctattr.AttrPriority, ctattr.PriorityNormal)
		a.PutBool(ctattr.AttrReadOnly, false)
		a.PutStr(ctattr.AttrSourceAddress, rec["sourceIPAddress"].(string))
		a.PutStr(ctattr.AttrS3Bucket, "bench-bucket")
		a.PutStr(ctattr.AttrS3Key, "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/f.json.gz")
		lr.SetTimestamp(pcommon.NewTimestampFromTime(now))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
	}
	return ld
}

// DiscardServer is an HTTP server that reads and discards every request
// and answers 202, so that benchmarks measure the exporter, not an intake.
func DiscardServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
}

// CPUTime returns the CPU time (user + system) the process used so far.
// Benchmarks on a shared machine report CPU per record from it: wall time
// counts the time other processes held the cores.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
