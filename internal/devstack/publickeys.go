package devstack

import (
	"encoding/json"
	"math"
	"net/http"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// publicKey is a CloudTrail signing key ListPublicKeys serves.
type publicKey struct {
	fingerprint string
	der         []byte
	start, end  time.Time
}

// AddPublicKey makes ListPublicKeys serve the public half of k (in every
// region: tests use one key pair for all).
func (a *AWSAPIs) AddPublicKey(k *trailgen.KeyPair) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.publicKeys = append(a.publicKeys, publicKey{fingerprint: k.Fingerprint, der: k.PublicDER(), start: k.Start, end: k.End})
}

// listPublicKeys answers ListPublicKeys (AWS JSON 1.1) as CloudTrail does:
// the keys whose validity overlaps [StartTime, EndTime] (each defaulting to
// now), Value as base64 DER (PKCS#1), times as epoch seconds. a.mu is held.
func (a *AWSAPIs) listPublicKeys(w http.ResponseWriter, body []byte) {
	var in struct {
		StartTime, EndTime *float64
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			jsonError(w, http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
	}
	now := time.Now()
	start, end := now, now
	if in.StartTime != nil {
		start = epoch(*in.StartTime)
	}
	if in.EndTime != nil {
		end = epoch(*in.EndTime)
	}
	if end.Before(start) {
		jsonError(w, http.StatusBadRequest, "InvalidTimeRangeException", "EndTime is before StartTime")
		return
	}
	list := []map[string]any{}
	for _, k := range a.publicKeys {
		keyEnd := k.end
		if keyEnd.IsZero() {
			keyEnd = now.Add(24 * time.Hour)
		}
		if k.start.After(end) || keyEnd.Before(start) {
			continue
		}
		list = append(list, map[string]any{"Value": k.der, "Fingerprint": k.fingerprint,
			"ValidityStartTime": float64(k.start.Unix()), "ValidityEndTime": float64(keyEnd.Unix())})
	}
	jsonReply(w, map[string]any{"PublicKeyList": list})
}

func epoch(s float64) time.Time {
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}
