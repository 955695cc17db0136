package awscloudtrailreceiver

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkSQSReceivers measures objects/s and records/s of 1, 2 and 4
// receivers (each like its own collector, with 2 workers) sharing one queue
// of 400 notifications of 50-record files, through the SQS and S3
// protocols on this machine: once with S3 answering at once (the machine's
// two cores are the limit), once with 25 ms of GetObject latency, as S3
// has (waiting is the limit, as with collectors on separate machines).
func BenchmarkSQSReceivers(b *testing.B) {
	for _, c := range []struct {
		latency   time.Duration
		receivers int
	}{{0, 1}, {0, 2}, {0, 4}, {25 * time.Millisecond, 1}, {25 * time.Millisecond, 2}, {25 * time.Millisecond, 4}} {
		n := c.receivers
		b.Run(fmt.Sprintf("s3_latency=%s/receivers=%d", c.latency, n), func(b *testing.B) {
			const objects, per = 400, 50
			for b.Loop() {
				b.StopTimer()
				s3srv := startS3(b)
				s3srv.SetGetLatency(c.latency)
				qc := queueClient(s3srv.URL)
				queueURL, _ := createQueue(b, qc, "bench", 30*time.Second, 5)
				keys, want := putObjects(b, s3srv, objects, per, 7000)
				bodies := notifications(keys)
				sendMessages(b, qc, queueURL, bodies)
				sk := newSink()
				b.StartTimer()
				var hs []*harness
				for range n {
					cfg := sqsConfig(s3srv.URL, queueURL)
					cfg.Workers = 2
					hs = append(hs, startReceiver(b, cfg, sk, nil))
				}
				for sk.count() < len(want) {
					time.Sleep(time.Millisecond)
				}
				b.StopTimer()
				for _, h := range hs {
					require.NoError(b, h.stop())
				}
				s3srv.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(objects*b.N)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(objects*per*b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
