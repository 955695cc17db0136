package devstack

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
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

// SetPublicKeyPageSize makes ListPublicKeys return at most n keys per
// page, with a NextToken for the rest (0: all keys in one page, the
// default), so that tests prove a caller pages through them.
func (a *AWSAPIs) SetPublicKeyPageSize(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.publicKeyPage = n
}

// listPublicKeys answers ListPublicKeys (AWS JSON 1.1) as CloudTrail does:
// the keys whose validity overlaps [StartTime, EndTime] (each defaulting to
// now), Value as base64 DER (PKCS#1), times as epoch seconds, in pages of
// publicKeyPage keys when set (NextToken: the index of the next key). a.mu
// is held.
func (a *AWSAPIs) listPublicKeys(w http.ResponseWriter, body []byte) {
	var in struct {
		StartTime, EndTime *float64
		NextToken          *string
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
	from := 0
	if in.NextToken != nil {
		n, err := strconv.Atoi(*in.NextToken)
		if err != nil || n < 0 || n > len(a.publicKeys) {
			jsonError(w, http.StatusBadRequest, "InvalidTokenException", "Invalid NextToken: "+*in.NextToken)
			return
		}
		from = n
	}
	list := []map[string]any{}
	for i := from; i < len(a.publicKeys); i++ {
		k := a.publicKeys[i]
		if a.publicKeyPage > 0 && len(list) == a.publicKeyPage {
			jsonReply(w, map[string]any{"PublicKeyList": list, "NextToken": strconv.Itoa(i)})
			return
		}
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
