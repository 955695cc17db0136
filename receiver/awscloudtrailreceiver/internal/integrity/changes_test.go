package integrity

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// TestChanges: the changes recorded, encoded and applied to the state as it
// was, give the state as it is; nothing is recorded when nothing changed
// or when changes are not tracked.
func TestChanges(t *testing.T) {
	encode := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return string(b)
	}
	s := NewFolderState()
	assert.Nil(t, s.Changed(), "untracked")
	s.TrackChanges()
	assert.Nil(t, s.Changed(), "nothing changed")

	k1 := trailgen.Key("", "", acct, "CloudTrail", region, t0, "a")
	k2 := trailgen.Key("", "", acct, "CloudTrail", region, t0.Add(time.Minute), "b")
	dkey := trailgen.DigestKey("", "", acct, region, "trail", region, t0.Add(time.Hour), false)
	dk, _ := ParseDigestKey(dkey)
	steps := []struct {
		name string
		do   func()
		none bool // nothing changes
	}{
		{name: "files read", do: func() { s.FileRead(bucket, k1, t0, "h1"); s.FileRead(bucket, k2, t0.Add(time.Minute), "h2") }},
		{name: "digest listing one, a file expected", do: func() {
			s.ApplyDigest(Signed{Bucket: bucket, Key: dkey, Digest: Digest{Start: t0, End: t0.Add(time.Hour),
				LogFiles: []LogFile{{S3Bucket: bucket, S3Object: k1, HashValue: "h1"}}}}, dk)
			s.Expect(LogFile{S3Bucket: bucket, S3Object: "other", HashValue: "h3"}, Signed{Key: dkey})
		}},
		{name: "verified file read again", do: func() { s.FileRead(bucket, k1, t0, "h1") }, none: true},
		{name: "expected file gone", do: func() { s.FileGone(bucket, "other") }},
		{name: "window passed", do: func() { s.Newest = t0.Add(100 * time.Hour); s.touchClock(); s.Sweep(time.Hour, 48*time.Hour) }},
	}
	for _, step := range steps {
		before := encode(s)
		step.do()
		c := s.Changed()
		if step.none {
			assert.Nil(t, c, step.name)
			continue
		}
		require.NotNil(t, c, step.name)
		var replayed FolderState
		require.NoError(t, json.Unmarshal([]byte(before), &replayed))
		var decoded Changes
		require.NoError(t, json.Unmarshal([]byte(encode(c)), &decoded))
		replayed.Apply(&decoded)
		replayed.Apply(&decoded) // again: idempotent
		assert.JSONEq(t, encode(s), encode(&replayed), step.name)
		s.ResetChanges()
		assert.Nil(t, s.Changed(), step.name+": after reset")
	}
	assert.Empty(t, s.Verified, "the window passed: everything expired")
}
