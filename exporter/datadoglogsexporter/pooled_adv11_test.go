package datadoglogsexporter

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// Adversarial review of the pooled encoders and request bodies (issue
// #11): batches pushed at the same time (num_consumers > 1) through early
// 503 answers and retries, records of very different sizes (the pooled
// encoder's buffers grow, are kept, are dropped past 1 MB; a none-mode
// record over the 1 MB entry limit is truncated from its unscanned
// members), and references to the records kept after a batch.

// adv11Sizes are the sizes of the policy document of the records, in turn:
// small, growing the encoder's buffers, past maxKeptBuffer, and past the
// 1 MB entry limit (truncated).
var adv11Sizes = []int{10, 5000, 300_000, 1_100_000, 40, 70_000}

// adv11Logs returns n CloudTrail records whose IDs start with prefix, with
// their body in mode (map, json or none: attributes only, the payload in
// aws.request.parameters as copy_payload_attributes sets it).
func adv11Logs(prefix string, n int, mode string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(ctattr.ResourceAccountID, "123456789012")
	rl.Resource().Attributes().PutStr(ctattr.ResourceRegion, "us-east-1")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := range n {
		lr := lrs.AppendEmpty()
		id := fmt.Sprintf("%s-%04d", prefix, i)
		body := lr.Body().SetEmptyMap()
		body.PutStr("eventID", id)
		body.PutStr("eventName", "PutBucketPolicy")
		body.PutStr("eventSource", "s3.amazonaws.com")
		body.PutStr("eventTime", "2026-11-20T10:00:00Z")
		params := body.PutEmptyMap("requestParameters")
		// Hex of random bytes: compressed requests stay large, so that
		// the transport is still sending one when the intake answers.
		seed := [32]byte{}
		copy(seed[:], id)
		noise := make([]byte, adv11Sizes[i%len(adv11Sizes)]/2)
		_, _ = rand.NewChaCha8(seed).Read(noise)
		params.PutStr("policyDocument", hex.EncodeToString(noise)+id)
		params.PutInt("n", int64(i))
		lr.Attributes().PutStr(ctattr.AttrEventID, id)
		lr.Attributes().PutStr(ctattr.AttrRPCMethod, "PutBucketPolicy")
		lr.Attributes().PutStr(ctattr.AttrRPCService, "s3.amazonaws.com")
		lr.Attributes().PutStr(ctattr.AttrService, "s3")
		lr.Attributes().PutStr(ctattr.AttrPriority, ctattr.PriorityNormal)
		params.CopyTo(lr.Attributes().PutEmptyMap(ctattr.AttrRequestParameters))
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		switch mode {
		case "json":
			lr.Body().SetStr(string(datadog.AppendValue(nil, lr.Body())))
		case "none":
			lr.Body().FromRaw(nil)
		}
	}
	return ld
}

// adv11Entries returns the entries the intake accepted, by eventID, and
// how many times each came.
func adv11Entries(in *devstack.Intake) (map[string]map[string]any, map[string]int) {
	out, n := map[string]map[string]any{}, map[string]int{}
	for _, e := range in.Logs() {
		id, _ := e["eventID"].(string)
		out[id] = e
		n[id]++
	}
	return out, n
}

// TestAdv11ConcurrentConsumersEntriesIntact pushes batches of the three
// body modes from four goroutines at once (as num_consumers does), through
// an intake that answers 503 to some requests before reading their body
// (the transport may still be sending it while the next request takes a
// pooled buffer); failed records are pushed again as the sending
// queue does. Every record must arrive exactly once and its entry must
// be the one a lone, fault-free push of the same batch makes: a pooled
// encoder or body buffer shared between two batches, or reused while
// still sent, would mix records or corrupt the payload.
func TestAdv11ConcurrentConsumersEntriesIntact(t *testing.T) {
	const consumers, rounds, records = 4, 2, 12
	modes := []string{"map", "json", "none"}
	batch := func(c, r int) plog.Logs {
		return adv11Logs(fmt.Sprintf("c%d-r%d", c, r), records, modes[(c+r)%3])
	}

	ref := startIntake(t)
	refExp := newTestExporter(t, testConfig(ref.URL))
	for c := range consumers {
		for r := range rounds {
			require.NoError(t, refExp.exp.pushLogs(context.Background(), batch(c, r)))
		}
	}
	want, _ := adv11Entries(ref)
	require.Len(t, want, consumers*rounds*records)

	in := startIntake(t)
	// Faults are answered before the body is read. (No 413 here: at
	// one entry a 413 drops the entry, as documented, whatever the cause.)
	in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 503, After: 3, Times: 12})
	cfg := testConfig(in.URL)
	cfg.MaxEntries = 5
	te := newTestExporter(t, cfg)
	var wg sync.WaitGroup
	for c := range consumers {
		wg.Go(func() {
			for r := range rounds {
				ld := batch(c, r)
				for try := 0; ; try++ {
					err := te.exp.pushLogs(context.Background(), ld)
					if err == nil {
						break
					}
					var le consumererror.Logs
					if !assert.ErrorAs(t, err, &le, "consumer %d round %d", c, r) || !assert.Less(t, try, 20) {
						return
					}
					ld = le.Data()
				}
			}
		})
	}
	wg.Wait()
	got, n := adv11Entries(in)
	for id, e := range want {
		if !assert.Equal(t, 1, n[id], "%s: times delivered", id) {
			continue
		}
		if d := diffPaths("", e, got[id]); len(d) > 0 {
			t.Errorf("%s: entry differs from a lone push at %v", id, d)
		}
	}
	assert.Len(t, got, len(want))
}

// TestAdv11NoRecordKeptAfterBatch: once pushLogs returned, nothing the
// exporter pools (encoders with their fields, raw text and spans; request
// bodies) holds the records of the batch: the string of a JSON-text body,
// and a member name of a map body, are collected.
func TestAdv11NoRecordKeptAfterBatch(t *testing.T) {
	in := startIntake(t)
	te := newTestExporter(t, testConfig(in.URL))
	var texts, names []weak.Pointer[byte]
	for i := range 8 {
		ld := adv11Logs(fmt.Sprintf("w%d", i), 3, "json")
		// The last record: the encoder's raw text and spans are its.
		lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(2)
		text := strings.Clone(lr.Body().Str())
		lr.Body().SetStr(text)
		texts = append(texts, weak.Make(unsafe.StringData(text)))

		mld := adv11Logs(fmt.Sprintf("m%d", i), 3, "map")
		mlr := mld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		name := fmt.Sprintf("member-%d-%s", i, strings.Repeat("n", 4000))
		mlr.Body().Map().PutStr(name, "v")
		names = append(names, weak.Make(unsafe.StringData(name)))

		require.NoError(t, te.exp.pushLogs(context.Background(), ld))
		require.NoError(t, te.exp.pushLogs(context.Background(), mld))
		// The pooled batches (with their encoders) stay alive, as in an
		// exporter that goes on: take them out of the pool while the
		// collector runs, then give them back.
		var held []*batch
		for range 4 {
			held = append(held, payloads.Get().(*batch))
		}
		runtime.GC()
		runtime.GC()
		assert.Nil(t, texts[i].Value(), "JSON text of batch %d still referenced", i)
		assert.Nil(t, names[i].Value(), "member name of batch %d still referenced", i)
		for _, b := range held {
			payloads.Put(b)
		}
	}
	assert.Len(t, in.Logs(), 8*6)
}
