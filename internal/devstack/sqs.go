package devstack

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The SQS emulator speaks the AWS JSON 1.0 protocol (X-Amz-Target:
// AmazonSQS.*) of today's SDKs for CreateQueue, GetQueueUrl,
// SendMessage(Batch), ReceiveMessage (long polling), DeleteMessage(Batch),
// ChangeMessageVisibility and GetQueueAttributes, with visibility timeouts,
// receive counts and redrive to a dead-letter queue.

type sqsMessage struct {
	id, body     string
	sent         time.Time
	visibleAt    time.Time
	receiveCount int
	firstReceive time.Time
	handle       string // latest receipt handle
}

type sqsQueue struct {
	name, url, arn    string
	visibility        time.Duration
	dlqARN            string
	maxReceive        int
	messages          []*sqsMessage
	deleted, received int
}

// SQS is the SQS emulator.
type SQS struct {
	mu      sync.Mutex
	base    string
	queues  map[string]*sqsQueue // by URL
	byARN   map[string]*sqsQueue
	seq     int
	changed chan struct{} // closed and replaced when messages may have become available
	now     func() time.Time
}

func newSQS() *SQS {
	return &SQS{queues: map[string]*sqsQueue{}, byARN: map[string]*sqsQueue{}, changed: make(chan struct{}), now: time.Now}
}

// SQS returns the SQS emulator, served on the S3 server's endpoint.
func (s *S3Server) SQS() *SQS { return s.apis.sqs }

// QueueStats is what a test may ask of a queue.
type QueueStats struct {
	// Visible and InFlight count the messages waiting and being processed.
	Visible, InFlight int
	// Deleted and Received count DeleteMessage and receipts.
	Deleted, Received int
}

// Stats returns the state of the queue with this name.
func (q *SQS) Stats(name string) QueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, qu := range q.queues {
		if qu.name != name {
			continue
		}
		st := QueueStats{Deleted: qu.deleted, Received: qu.received}
		now := q.now()
		for _, m := range qu.messages {
			if m.visibleAt.After(now) {
				st.InFlight++
			} else {
				st.Visible++
			}
		}
		return st
	}
	return QueueStats{}
}

func (q *SQS) notify() {
	close(q.changed)
	q.changed = make(chan struct{})
}

func sqsError(w http.ResponseWriter, status int, code, query, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Query-Error", query+";Sender")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + code, "message": msg})
}

func sqsReply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(v)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (q *SQS) serve(w http.ResponseWriter, req *http.Request, op string) {
	var in struct {
		QueueName                   string            `json:"QueueName"`
		QueueURL                    string            `json:"QueueUrl"`
		Attributes                  map[string]string `json:"Attributes"`
		MessageBody                 string            `json:"MessageBody"`
		DelaySeconds                int               `json:"DelaySeconds"`
		MaxNumberOfMessages         int               `json:"MaxNumberOfMessages"`
		WaitTimeSeconds             *int              `json:"WaitTimeSeconds"`
		VisibilityTimeout           *int              `json:"VisibilityTimeout"`
		ReceiptHandle               string            `json:"ReceiptHandle"`
		AttributeNames              []string          `json:"AttributeNames"`
		MessageSystemAttributeNames []string          `json:"MessageSystemAttributeNames"`
		Entries                     []struct {
			ID            string `json:"Id"`
			MessageBody   string `json:"MessageBody"`
			ReceiptHandle string `json:"ReceiptHandle"`
		} `json:"Entries"`
	}
	body, _ := io.ReadAll(req.Body)
	if err := json.Unmarshal(body, &in); err != nil {
		sqsError(w, http.StatusBadRequest, "InvalidParameterValue", "AWS.SimpleQueueService.InvalidParameterValue", err.Error())
		return
	}
	if q.base == "" {
		q.mu.Lock()
		q.base = "http://" + req.Host
		q.mu.Unlock()
	}
	if op == "CreateQueue" {
		q.createQueue(w, in.QueueName, in.Attributes)
		return
	}
	if op == "GetQueueUrl" {
		q.mu.Lock()
		defer q.mu.Unlock()
		for _, qu := range q.queues {
			if qu.name == in.QueueName {
				sqsReply(w, map[string]string{"QueueUrl": qu.url})
				return
			}
		}
		sqsError(w, http.StatusBadRequest, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
		return
	}
	q.mu.Lock()
	qu, ok := q.queues[in.QueueURL]
	q.mu.Unlock()
	if !ok {
		sqsError(w, http.StatusBadRequest, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
		return
	}
	switch op {
	case "SendMessage":
		id := q.send(qu, in.MessageBody, time.Duration(in.DelaySeconds)*time.Second)
		sqsReply(w, map[string]string{"MessageId": id, "MD5OfMessageBody": md5hex(in.MessageBody)})
	case "SendMessageBatch":
		var ok []map[string]string
		for _, e := range in.Entries {
			id := q.send(qu, e.MessageBody, 0)
			ok = append(ok, map[string]string{"Id": e.ID, "MessageId": id, "MD5OfMessageBody": md5hex(e.MessageBody)})
		}
		sqsReply(w, map[string]any{"Successful": ok, "Failed": []any{}})
	case "ReceiveMessage":
		max := in.MaxNumberOfMessages
		if max == 0 {
			max = 1
		}
		if max < 1 || max > 10 {
			sqsError(w, http.StatusBadRequest, "InvalidParameterValue", "AWS.SimpleQueueService.InvalidParameterValue", "MaxNumberOfMessages must be between 1 and 10")
			return
		}
		wait := 0
		if in.WaitTimeSeconds != nil {
			wait = *in.WaitTimeSeconds
		}
		visibility := qu.visibility
		if in.VisibilityTimeout != nil {
			visibility = time.Duration(*in.VisibilityTimeout) * time.Second
		}
		msgs := q.receive(req, qu, max, time.Duration(wait)*time.Second, visibility)
		sqsReply(w, map[string]any{"Messages": msgs})
	case "DeleteMessage":
		if err := q.delete(qu, in.ReceiptHandle); err != "" {
			sqsError(w, http.StatusBadRequest, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", err)
			return
		}
		sqsReply(w, map[string]any{})
	case "DeleteMessageBatch":
		var ok, failed []map[string]any
		for _, e := range in.Entries {
			if err := q.delete(qu, e.ReceiptHandle); err != "" {
				failed = append(failed, map[string]any{"Id": e.ID, "Code": "ReceiptHandleIsInvalid", "Message": err, "SenderFault": true})
			} else {
				ok = append(ok, map[string]any{"Id": e.ID})
			}
		}
		sqsReply(w, map[string]any{"Successful": ok, "Failed": failed})
	case "ChangeMessageVisibility":
		if in.VisibilityTimeout == nil || *in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200 {
			sqsError(w, http.StatusBadRequest, "InvalidParameterValue", "AWS.SimpleQueueService.InvalidParameterValue", "VisibilityTimeout must be between 0 and 43200")
			return
		}
		if err := q.changeVisibility(qu, in.ReceiptHandle, time.Duration(*in.VisibilityTimeout)*time.Second); err != "" {
			sqsError(w, http.StatusBadRequest, "MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", err)
			return
		}
		sqsReply(w, map[string]any{})
	case "GetQueueAttributes":
		st := q.Stats(qu.name)
		q.mu.Lock()
		oldest := int64(0)
		for _, m := range qu.messages {
			if age := int64(q.now().Sub(m.sent).Seconds()); age > oldest {
				oldest = age
			}
		}
		q.mu.Unlock()
		sqsReply(w, map[string]any{"Attributes": map[string]string{
			"ApproximateNumberOfMessages":           strconv.Itoa(st.Visible),
			"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(st.InFlight),
			"VisibilityTimeout":                     strconv.Itoa(int(qu.visibility.Seconds())),
			"QueueArn":                              qu.arn,
			"ApproximateAgeOfOldestMessage":         strconv.FormatInt(oldest, 10),
		}})
	default:
		sqsError(w, http.StatusBadRequest, "UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", op+" is not emulated")
	}
}

func (q *SQS) createQueue(w http.ResponseWriter, name string, attrs map[string]string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	url := q.base + "/000000000000/" + name
	if qu, ok := q.queues[url]; ok {
		sqsReply(w, map[string]string{"QueueUrl": qu.url})
		return
	}
	qu := &sqsQueue{name: name, url: url, arn: "arn:aws:sqs:us-east-1:000000000000:" + name, visibility: 30 * time.Second}
	if v, ok := attrs["VisibilityTimeout"]; ok {
		n, _ := strconv.Atoi(v)
		qu.visibility = time.Duration(n) * time.Second
	}
	if rp, ok := attrs["RedrivePolicy"]; ok {
		var p struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			MaxReceiveCount     any    `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(rp), &p); err != nil {
			sqsError(w, http.StatusBadRequest, "InvalidAttributeValue", "InvalidAttributeValue", "RedrivePolicy: "+err.Error())
			return
		}
		qu.dlqARN = p.DeadLetterTargetArn
		qu.maxReceive, _ = strconv.Atoi(fmt.Sprint(p.MaxReceiveCount))
	}
	q.queues[url] = qu
	q.byARN[qu.arn] = qu
	sqsReply(w, map[string]string{"QueueUrl": url})
}

func (q *SQS) send(qu *sqsQueue, body string, delay time.Duration) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", q.seq)
	now := q.now()
	qu.messages = append(qu.messages, &sqsMessage{id: id, body: body, sent: now, visibleAt: now.Add(delay)})
	q.notify()
	return id
}

// receive returns up to max visible messages, waiting up to wait for one
// (long polling). A message received more than the redrive policy's
// maxReceiveCount times moves to the dead-letter queue instead.
func (q *SQS) receive(req *http.Request, qu *sqsQueue, max int, wait, visibility time.Duration) []map[string]any {
	deadline := time.Now().Add(wait)
	for {
		q.mu.Lock()
		now := q.now()
		var out []map[string]any
		kept := qu.messages[:0]
		for _, m := range qu.messages {
			if len(out) < max && !m.visibleAt.After(now) {
				if qu.maxReceive > 0 && m.receiveCount >= qu.maxReceive {
					if dlq := q.byARN[qu.dlqARN]; dlq != nil {
						m.visibleAt, m.handle = now, ""
						dlq.messages = append(dlq.messages, m)
						continue
					}
				}
				m.receiveCount++
				if m.firstReceive.IsZero() {
					m.firstReceive = now
				}
				q.seq++
				m.handle = fmt.Sprintf("rh-%s-%d", m.id, q.seq)
				m.visibleAt = now.Add(visibility)
				qu.received++
				out = append(out, map[string]any{
					"MessageId": m.id, "ReceiptHandle": m.handle, "Body": m.body, "MD5OfBody": md5hex(m.body),
					"Attributes": map[string]string{
						"ApproximateReceiveCount":          strconv.Itoa(m.receiveCount),
						"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
						"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
					},
				})
			}
			kept = append(kept, m)
		}
		qu.messages = kept
		changed := q.changed
		q.mu.Unlock()
		if len(out) > 0 || !time.Now().Before(deadline) {
			return out
		}
		// Wait for a new message, a visibility change, or a tick (hidden
		// messages become visible with time).
		select {
		case <-changed:
		case <-time.After(min(50*time.Millisecond, time.Until(deadline))):
		case <-req.Context().Done():
			return nil
		}
	}
}

func (q *SQS) find(qu *sqsQueue, handle string) (int, *sqsMessage) {
	for i, m := range qu.messages {
		if m.handle != "" && m.handle == handle {
			return i, m
		}
	}
	return -1, nil
}

func (q *SQS) delete(qu *sqsQueue, handle string) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	i, _ := q.find(qu, handle)
	if i < 0 {
		return "The receipt handle is not the latest one of a message in the queue: " + handle
	}
	qu.messages = append(qu.messages[:i], qu.messages[i+1:]...)
	qu.deleted++
	return ""
}

func (q *SQS) changeVisibility(qu *sqsQueue, handle string, d time.Duration) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, m := q.find(qu, handle)
	if m == nil || !m.visibleAt.After(q.now()) {
		return "Value " + handle + " for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change."
	}
	m.visibleAt = q.now().Add(d)
	q.notify()
	return ""
}

// sqsTarget reports the SQS operation of a request, if it is one.
func sqsTarget(req *http.Request) (string, bool) {
	t := req.Header.Get("X-Amz-Target")
	if !strings.HasPrefix(t, "AmazonSQS.") {
		return "", false
	}
	return strings.TrimPrefix(t, "AmazonSQS."), true
}
