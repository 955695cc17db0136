// Package notification reads the messages that announce new CloudTrail
// files in an SQS queue: S3 event notifications (direct or in an SNS
// envelope), EventBridge "Object Created" events, and the notifications
// of a trail's own SNS topic.
package notification

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Object is an S3 object a message announces.
type Object struct {
	Bucket, Key string
}

// Kinds of messages.
const (
	KindS3Event     = "s3_event"
	KindEventBridge = "eventbridge"
	KindCloudTrail  = "cloudtrail_sns"
	KindTestEvent   = "s3_test_event"
)

// ErrUnknown is returned for a message of none of the known shapes.
var ErrUnknown = errors.New("not an S3, SNS, EventBridge or CloudTrail notification")

// objectRef is how S3 event notifications (a record's s3) and
// EventBridge events (detail) name an object.
type objectRef struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key string `json:"key"`
	} `json:"object"`
}

type message struct {
	// S3 event notification
	Records []struct {
		EventSource string    `json:"eventSource"`
		EventName   string    `json:"eventName"`
		S3          objectRef `json:"s3"`
	} `json:"Records"`
	// s3:TestEvent
	Event string `json:"Event"`
	// SNS envelope
	Type    string `json:"Type"`
	Message string `json:"Message"`
	// EventBridge
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Detail     objectRef `json:"detail"`
	// CloudTrail's SNS notification
	S3Bucket    string   `json:"s3Bucket"`
	S3ObjectKey []string `json:"s3ObjectKey"`
}

// created reports whether an S3 event notification's eventName announces
// a new object (ObjectCreated:Put, :Post, :Copy, :CompleteMultipartUpload).
// A record without eventName (S3 always sends one) is taken as one.
func created(eventName string) bool {
	return eventName == "" || strings.HasPrefix(eventName, "ObjectCreated:")
}

// Parse returns the objects a message body announces and the message's
// kind. Notifications of events other than the creation of an object
// (ObjectRemoved, lifecycle transitions and expirations, ObjectRestore,
// s3:TestEvent, EventBridge "Object Deleted"…) announce no object and are
// no error.
func Parse(body string) ([]Object, string, error) {
	return parse(body, 0)
}

func parse(body string, depth int) ([]Object, string, error) {
	var m message
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return nil, "", fmt.Errorf("message is not JSON: %w", err)
	}
	switch {
	case m.Type == "Notification" && m.Message != "" && depth == 0:
		// SNS envelope (raw message delivery off): the payload is a string.
		objs, kind, err := parse(m.Message, depth+1)
		return objs, kind, err
	case m.Event == "s3:TestEvent":
		return nil, KindTestEvent, nil
	case len(m.Records) > 0:
		var out []Object
		for i, r := range m.Records {
			if r.EventSource != "aws:s3" {
				return nil, "", fmt.Errorf("record %d: eventSource %q is not aws:s3", i, r.EventSource)
			}
			if !created(r.EventName) {
				// ObjectRemoved, lifecycle, restore, tagging, replication…:
				// nothing new to read.
				continue
			}
			// Keys of S3 event notifications are URL-encoded (spaces as '+').
			key, err := url.QueryUnescape(r.S3.Object.Key)
			if err != nil {
				return nil, "", fmt.Errorf("record %d: key %q: %w", i, r.S3.Object.Key, err)
			}
			if r.S3.Bucket.Name == "" || key == "" {
				return nil, "", fmt.Errorf("record %d: no bucket or key", i)
			}
			out = append(out, Object{Bucket: r.S3.Bucket.Name, Key: key})
		}
		return out, KindS3Event, nil
	case m.Source == "aws.s3" && m.DetailType != "":
		if m.DetailType != "Object Created" {
			return nil, KindEventBridge, nil
		}
		if m.Detail.Bucket.Name == "" || m.Detail.Object.Key == "" {
			return nil, "", errors.New("EventBridge event without bucket or key")
		}
		return []Object{{Bucket: m.Detail.Bucket.Name, Key: m.Detail.Object.Key}}, KindEventBridge, nil
	case m.S3Bucket != "" && len(m.S3ObjectKey) > 0:
		out := make([]Object, len(m.S3ObjectKey))
		for i, k := range m.S3ObjectKey {
			out[i] = Object{Bucket: m.S3Bucket, Key: k}
		}
		return out, KindCloudTrail, nil
	}
	return nil, "", ErrUnknown
}
