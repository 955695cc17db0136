package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// tree is a generated trail tree: several accounts and regions (some in
// an organization layout), a large file now and then and a few large
// records; late files are added while the receiver runs.
type tree struct {
	s3       *devstack.S3Server
	rng      *rand.Rand
	start    time.Time // the receiver's start_time
	end      time.Time
	span     time.Duration
	prefixes []*prefix
	ids      []string
	readOnly map[string]bool
	keys     []string
	keyOf    map[string]string // eventID → key
	seq      int
}

type prefix struct {
	org, account, region string
	g                    *trailgen.Generator
}

func newTree(s3 *devstack.S3Server, r *rand.Rand) *tree {
	now := time.Now().UTC()
	tr := &tree{s3: s3, rng: r, start: now.Add(-3 * time.Hour), end: now.Truncate(time.Minute).Add(-2 * time.Minute),
		readOnly: map[string]bool{}, keyOf: map[string]string{}}
	if err := s3.CreateBucket(bucket); err != nil {
		panic(err)
	}
	accounts := []string{"111111111111", "222222222222", "333333333333", "444444444444"}
	regions := []string{"us-east-1", "eu-west-1", "ap-south-1", "us-west-2"}
	r.Shuffle(len(accounts), func(i, j int) { accounts[i], accounts[j] = accounts[j], accounts[i] })
	r.Shuffle(len(regions), func(i, j int) { regions[i], regions[j] = regions[j], regions[i] })
	org := ""
	if r.IntN(2) == 0 {
		org = "o-soak0000001"
	}
	for _, a := range accounts[:1+r.IntN(3)] {
		for _, reg := range regions[:1+r.IntN(3)] {
			o := ""
			if org != "" && r.IntN(2) == 0 {
				o = org
			}
			tr.prefixes = append(tr.prefixes, &prefix{org: o, account: a, region: reg, g: trailgen.New(r.Uint64(), a, reg)})
		}
	}
	files := 2 + r.IntN(4)
	every := time.Duration(1+r.IntN(5)) * time.Minute
	tr.span = time.Duration(files) * every
	large := map[int]bool{}
	if r.IntN(2) == 0 {
		large[r.IntN(files*len(tr.prefixes))] = true
	}
	bigRecords := r.IntN(4)
	n := 0
	for _, p := range tr.prefixes {
		for f := 0; f < files; f++ {
			at := tr.end.Add(-time.Duration(files-1-f) * every)
			records := 5 + r.IntN(40)
			if large[n] {
				records = 1500 + r.IntN(1500)
			}
			var big []int
			if bigRecords > 0 && r.IntN(4) == 0 {
				big = append(big, r.IntN(records))
				bigRecords--
			}
			tr.put(p, at, records, big)
			n++
		}
	}
	return tr
}

// put stores one file of n records of prefix p at t; the records at the
// indexes in big carry a request of several hundred kilobytes.
func (tr *tree) put(p *prefix, at time.Time, n int, big []int) string {
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = p.g.Record(at.Add(-time.Duration(n-i) * time.Second))
	}
	for _, i := range big {
		var b strings.Builder
		for b.Len() < 200_000+tr.rng.IntN(400_000) {
			fmt.Fprintf(&b, `{"Sid":"S%d","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-%d/*"},`, b.Len(), tr.rng.IntN(1000))
		}
		recs[i]["requestParameters"] = map[string]any{"policyName": "huge", "policyDocument": b.String()}
	}
	tr.seq++
	key := trailgen.Key("", p.org, p.account, "CloudTrail", p.region, at, fmt.Sprintf("%08x%d", tr.rng.Uint32(), tr.seq))
	if err := tr.s3.Put(bucket, key, trailgen.LogFile(recs, true)); err != nil {
		panic(err)
	}
	tr.keys = append(tr.keys, key)
	for _, rec := range recs {
		id := rec["eventID"].(string)
		tr.ids = append(tr.ids, id)
		tr.keyOf[id] = key
		tr.readOnly[id], _ = rec["readOnly"].(bool)
	}
	return key
}

// eventIDs are the records that make a Datadog event (min_priority low,
// read-only calls excluded: the events exporter's defaults).
func (tr *tree) eventIDs() []string {
	var out []string
	for _, id := range tr.ids {
		if !tr.readOnly[id] {
			out = append(out, id)
		}
	}
	return out
}

// lateFiles stores 1 to 3 files whose keys sort behind files already
// read (CloudTrail delivers late sometimes), within the lookback window,
// and notifies them in SQS mode. It returns how many.
func (r *run) lateFiles() int {
	tr := r.tree
	n := 1 + tr.rng.IntN(3)
	var keys []string
	for range n {
		p := tr.prefixes[tr.rng.IntN(len(tr.prefixes))]
		at := tr.end.Add(-time.Duration(tr.rng.Int64N(int64(tr.span))))
		keys = append(keys, tr.put(p, at.Truncate(time.Minute), 3+tr.rng.IntN(20), nil))
	}
	if r.sc.sqs {
		r.notify(keys)
	}
	return n
}

func (r *run) sqsClient() *sqs.Client {
	return sqs.New(sqs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(r.s3.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSOAK", "secret", ""),
	})
}

// createQueue creates the queue "soak" (visibility 3 s: a crashed
// instance's messages come back quickly) with a dead-letter queue.
func (r *run) createQueue() string {
	c := r.sqsClient()
	ctx := context.Background()
	if _, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("soak-dlq")}); err != nil {
		r.t.Fatal(err)
	}
	redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:soak-dlq", "maxReceiveCount": "1000"})
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("soak"), Attributes: map[string]string{
		"VisibilityTimeout": "3", "RedrivePolicy": string(redrive),
	}})
	if err != nil {
		r.t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl)
}

// notify sends notifications for keys, in random order, in the formats a
// queue receives: S3 event notifications (one or several records, some in
// an SNS envelope) and CloudTrail's SNS notifications naming several
// objects; some keys are notified twice.
func (r *run) notify(keys []string) {
	rng := r.sc.rng
	keys = append([]string(nil), keys...)
	for _, k := range keys {
		if rng.IntN(6) == 0 {
			keys = append(keys, k) // a duplicate notification
		}
	}
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	var bodies []string
	for len(keys) > 0 {
		n := 1
		if rng.IntN(4) == 0 {
			n = min(len(keys), 2+rng.IntN(3))
		}
		group := keys[:n]
		keys = keys[n:]
		switch {
		case n > 1 && rng.IntN(2) == 0:
			b, _ := json.Marshal(map[string]any{"s3Bucket": bucket, "s3ObjectKey": group})
			bodies = append(bodies, snsEnvelope(string(b)))
		default:
			body := s3Notification(group)
			if rng.IntN(3) == 0 {
				body = snsEnvelope(body)
			}
			bodies = append(bodies, body)
		}
	}
	c := r.sqsClient()
	for len(bodies) > 0 {
		n := min(10, len(bodies))
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i, b := range bodies[:n] {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(b)})
		}
		if _, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(r.queue), Entries: entries}); err != nil {
			r.t.Fatal(err)
		}
		bodies = bodies[n:]
	}
}

func s3Notification(keys []string) string {
	var recs []any
	for _, k := range keys {
		recs = append(recs, map[string]any{
			"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "awsRegion": "us-east-1",
			"s3": map[string]any{"bucket": map[string]any{"name": bucket}, "object": map[string]any{"key": url.QueryEscape(k), "size": 1}},
		})
	}
	b, _ := json.Marshal(map[string]any{"Records": recs})
	return string(b)
}

func snsEnvelope(inner string) string {
	b, _ := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "soak", "TopicArn": "arn:aws:sns:us-east-1:000000000000:trail", "Message": inner})
	return string(b)
}
