package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSQSSemantics drives the emulator with the real SDK client and checks
// the behaviour the SQS API reference documents.
func TestSQSSemantics(t *testing.T) {
	srv, err := StartS3("")
	require.NoError(t, err)
	defer srv.Close()
	ctx := context.Background()
	c := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})

	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q-dlq")})
	require.NoError(t, err)
	redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:q-dlq", "maxReceiveCount": "2"})
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{"VisibilityTimeout": "3", "RedrivePolicy": string(redrive)}})
	require.NoError(t, err)
	again, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")})
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(q.QueueUrl), aws.ToString(again.QueueUrl))
	_, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var notExist *sqstypes.QueueDoesNotExist
	assert.True(t, errors.As(err, &notExist), "%v", err)

	// SendMessage: the SDK checks the MD5 of the body it sent.
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("one")})
	require.NoError(t, err)

	// Long polling returns as soon as a message arrives.
	start := time.Now()
	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
	require.NoError(t, err)
	require.Len(t, got.Messages, 1)
	assert.Less(t, time.Since(start), 4*time.Second, "well before the 5 s wait ends")
	assert.Equal(t, "1", got.Messages[0].Attributes["ApproximateReceiveCount"])
	first := got.Messages[0].ReceiptHandle

	// Invisible while in flight (3 s: room for a slow machine).
	got, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl})
	require.NoError(t, err)
	assert.Empty(t, got.Messages)
	// An empty long poll waits its time.
	start = time.Now()
	got, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 1})
	require.NoError(t, err)
	assert.Empty(t, got.Messages)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)

	// Back after the visibility timeout, with a new receipt handle; the old one is stale.
	got, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 10,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
	require.NoError(t, err)
	require.Len(t, got.Messages, 1)
	assert.Equal(t, "2", got.Messages[0].Attributes["ApproximateReceiveCount"])
	assert.NotEqual(t, aws.ToString(first), aws.ToString(got.Messages[0].ReceiptHandle))
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: first})
	assert.Error(t, err, "a stale receipt handle")

	// ChangeMessageVisibility to 0 makes it visible at once; received a third
	// time it exceeds maxReceiveCount and moves to the dead-letter queue.
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: q.QueueUrl, ReceiptHandle: got.Messages[0].ReceiptHandle, VisibilityTimeout: 0})
	require.NoError(t, err)
	got, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl})
	require.NoError(t, err)
	assert.Empty(t, got.Messages)
	dead, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl})
	require.NoError(t, err)
	require.Len(t, dead.Messages, 1)
	assert.Equal(t, "one", aws.ToString(dead.Messages[0].Body))

	// Batches, deletion and attributes.
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("A")}, {Id: aws.String("b"), MessageBody: aws.String("B")}}})
	require.NoError(t, err)
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	require.NoError(t, err)
	assert.Equal(t, "2", attrs.Attributes["ApproximateNumberOfMessages"])
	got, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10})
	require.NoError(t, err)
	require.Len(t, got.Messages, 2)
	del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: q.QueueUrl, Entries: []sqstypes.DeleteMessageBatchRequestEntry{
		{Id: aws.String("1"), ReceiptHandle: got.Messages[0].ReceiptHandle}, {Id: aws.String("2"), ReceiptHandle: got.Messages[1].ReceiptHandle}}})
	require.NoError(t, err)
	assert.Len(t, del.Successful, 2)
	assert.Equal(t, QueueStats{Deleted: 2, Received: 4}, srv.SQS().Stats("q"), "the third receive of \"one\" moved it instead")
	_, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 11})
	assert.Error(t, err, "MaxNumberOfMessages is 1 to 10")
}
