package integrity

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

var (
	t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	// keyA signs until t0+3h, keyB from then on (a rotation).
	testKeys = sync.OnceValues(func() ([2]*trailgen.KeyPair, error) {
		a, err := trailgen.NewKeyPair(t0.Add(-24*time.Hour), t0.Add(3*time.Hour))
		if err != nil {
			return [2]*trailgen.KeyPair{}, err
		}
		b, err := trailgen.NewKeyPair(t0.Add(3*time.Hour), time.Time{})
		return [2]*trailgen.KeyPair{a, b}, err
	})
)

func keys(t *testing.T) ([2]*trailgen.KeyPair, *Keyring) {
	t.Helper()
	kp, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	var ring Keyring
	for _, k := range kp {
		pk, err := ParsePublicKey(k.Fingerprint, k.PublicDER(), k.Start, k.End)
		if err != nil {
			t.Fatal(err)
		}
		ring.Add(pk)
	}
	return kp, &ring
}

const (
	bucket = "trail-bucket"
	acct   = "111111111111"
	region = "us-east-1"
)

// chain signs n hourly digests, each with one log file, switching keys at t0+3h.
func chain(t *testing.T, n int) []trailgen.SignedDigest {
	t.Helper()
	kp, _ := keys(t)
	var out []trailgen.SignedDigest
	for i := range n {
		end := t0.Add(time.Duration(i+1) * time.Hour)
		k := kp[0]
		if !end.Before(kp[1].Start) {
			k = kp[1]
		}
		spec := trailgen.DigestSpec{Bucket: bucket, Key: trailgen.DigestKey("", "", acct, region, "my_trail", region, end, false), Account: acct,
			Start: end.Add(-time.Hour), End: end,
			LogFiles: []trailgen.DigestLogFile{{Bucket: bucket, Key: trailgen.Key("", "", acct, "CloudTrail", region, end.Add(-time.Minute), "x"), Content: []byte(`{"Records":[]}`), OldestEvent: end, NewestEvt: end}}}
		if i > 0 {
			spec.Previous = &out[i-1]
		}
		d, err := k.Sign(spec)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func signed(t *testing.T, d trailgen.SignedDigest) Signed {
	t.Helper()
	dg, raw, err := ParseDigest(d.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Signed{Bucket: d.Bucket, Key: d.Key, Digest: dg, Raw: raw, Signature: d.Signature, Algorithm: trailgen.SignatureAlgorithm}
}

func TestVerify(t *testing.T) {
	kp, ring := keys(t)
	ds := chain(t, 5)
	other, err := trailgen.NewKeyPair(t0.Add(-24*time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		digest func() Signed
		want   error
	}{
		{"valid first digest (null previous signature)", func() Signed { return signed(t, ds[0]) }, nil},
		{"valid, signed by the first key", func() Signed { return signed(t, ds[1]) }, nil},
		{"valid, signed by the rotated key", func() Signed { return signed(t, ds[4]) }, nil},
		{"no signature metadata", func() Signed { s := signed(t, ds[1]); s.Signature = ""; return s }, ErrUnsigned},
		{"content changed (a log file's hash replaced)", func() Signed {
			s := signed(t, ds[1])
			s.Raw = bytes.Replace(s.Raw, []byte(s.Digest.LogFiles[0].HashValue), []byte(strings.Repeat("0", 64)), 1)
			return s
		}, ErrBadSignature},
		{"signature of another digest", func() Signed { s := signed(t, ds[1]); s.Signature = ds[2].Signature; return s }, ErrBadSignature},
		{"signature not hex", func() Signed { s := signed(t, ds[1]); s.Signature = "zz"; return s }, ErrBadSignature},
		{"unsupported algorithm", func() Signed { s := signed(t, ds[1]); s.Algorithm = "SHA1withRSA"; return s }, ErrBadSignature},
		{"read from another key", func() Signed { s := signed(t, ds[1]); s.Key = ds[2].Key; return s }, ErrMoved},
		{"forged with a key AWS does not list, under a listed fingerprint", func() Signed {
			spec := trailgen.DigestSpec{Bucket: bucket, Key: ds[1].Key, Account: acct, Start: t0, End: t0.Add(2 * time.Hour), Previous: &ds[0]}
			o := *other
			o.Fingerprint = kp[0].Fingerprint
			f, err := o.Sign(spec)
			if err != nil {
				t.Fatal(err)
			}
			return signed(t, f)
		}, ErrBadSignature},
		{"fingerprint AWS does not list", func() Signed {
			f, err := other.Sign(trailgen.DigestSpec{Bucket: bucket, Key: ds[1].Key, Account: acct, Start: t0, End: t0.Add(2 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			return signed(t, f)
		}, ErrUnknownKey},
		{"old key used after its validity (rotation)", func() Signed {
			end := t0.Add(5 * time.Hour)
			f, err := kp[0].Sign(trailgen.DigestSpec{Bucket: bucket, Key: trailgen.DigestKey("", "", acct, region, "my_trail", region, end, false), Account: acct, Start: end.Add(-time.Hour), End: end})
			if err != nil {
				t.Fatal(err)
			}
			return signed(t, f)
		}, ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.digest(), ring)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCheckChain(t *testing.T) {
	ds := chain(t, 4)
	link := func(i int) *Link { l := LinkOf(signed(t, ds[i])); return &l }
	kp, _ := keys(t)
	// replaced: a digest re-signed in place of ds[1], which ds[2] names.
	replaced, err := kp[0].Sign(trailgen.DigestSpec{Bucket: bucket, Key: ds[1].Key, Account: acct, Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour), Previous: &ds[0]})
	if err != nil {
		t.Fatal(err)
	}
	replacedLink := LinkOf(signed(t, replaced))
	modifiedLink := *link(1)
	modifiedLink.Hash = strings.Repeat("a", 64)
	backfillEnd := t0.Add(2*time.Hour + 30*time.Minute)
	backfill, err := kp[0].Sign(trailgen.DigestSpec{Bucket: bucket, Key: trailgen.DigestKey("", "", acct, region, "my_trail", region, backfillEnd, true), Account: acct,
		Start: t0, End: backfillEnd, Previous: &ds[0]})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		last     *Link
		digest   trailgen.SignedDigest
		backfill bool
		want     ChainResult
	}{
		{"linked", link(1), ds[2], false, ChainLinked},
		{"first digest seen", nil, ds[2], false, ChainFirst},
		{"chain start (null previous)", link(3), ds[0], false, ChainRestart},
		{"previous digest not seen yet", link(0), ds[2], false, ChainAhead},
		{"previous digest replaced (other signature)", &replacedLink, ds[2], false, ChainBroken},
		{"previous digest modified (other hash)", &modifiedLink, ds[2], false, ChainBroken},
		{"names an older digest than the last (fork)", link(2), ds[2], false, ChainBroken},
		{"backfill digest is outside the chain", link(2), backfill, true, ChainBackfill},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := CheckChain(tt.last, signed(t, tt.digest), tt.backfill)
			if got != tt.want {
				t.Fatalf("CheckChain = %v (%s), want %v", got, reason, tt.want)
			}
			if (got == ChainBroken) != (reason != "") {
				t.Fatalf("reason %q for %v", reason, got)
			}
		})
	}
}

func TestParseDigestKey(t *testing.T) {
	end := time.Date(2026, 11, 20, 15, 1, 31, 0, time.UTC)
	tests := []struct {
		key                       string
		ok, backfill              bool
		prefix, org, trail, chain string
	}{
		{key: trailgen.DigestKey("", "", acct, region, "trail", "us-west-2", end, false), ok: true, trail: "trail"},
		{key: trailgen.DigestKey("logs/x", "o-abc123", acct, region, "my_org_trail", "us-west-2", end, false), ok: true, prefix: "logs/x/", org: "o-abc123", trail: "my_org_trail"},
		{key: trailgen.DigestKey("", "", acct, region, "t", region, end, true), ok: true, backfill: true, trail: "t"},
		{key: trailgen.Key("", "", acct, "CloudTrail", region, end, "u")},
		{key: "AWSLogs/" + acct + "/CloudTrail-Digest/" + region + "/2026/11/20/" + acct + "_CloudTrail-Digest_" + region + "_trail_20261120T150131Z.json.gz"},
		{key: "AWSLogs/" + acct + "/CloudTrail-Digest/" + region + "/2026/11/20/" + acct + "_CloudTrail-Digest_" + region + "_trail_us-east-1_2026.json.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			dk, ok := ParseDigestKey(tt.key)
			if ok != tt.ok {
				t.Fatalf("ok = %v", ok)
			}
			if !ok {
				return
			}
			if dk.Backfill != tt.backfill || dk.Trail != tt.trail || dk.Folder.Org != tt.org || dk.Folder.Root != tt.prefix+"AWSLogs/" ||
				dk.Folder.Account != acct || dk.Folder.Region != region || !dk.End.Equal(end) {
				t.Fatalf("got %+v", dk)
			}
			if want := tt.prefix + "AWSLogs/" + tt.org + map[bool]string{true: "/", false: ""}[tt.org != ""] + acct + "/CloudTrail/" + region + "/"; dk.LogFolder().String() != want {
				t.Fatalf("log folder %s, want %s", dk.LogFolder(), want)
			}
		})
	}
}

func TestParseDigestRejects(t *testing.T) {
	for _, body := range [][]byte{[]byte("not json"), {0x1f, 0x8b, 0, 0}, []byte(`{"digestStartTime":"x"}`), []byte(`{"digestStartTime":"2026-11-20T10:00:00Z","digestEndTime":"2026-11-20T11:00:00Z"}`)} {
		if _, _, err := ParseDigest(body); !errors.Is(err, ErrFormat) {
			t.Errorf("ParseDigest(%q) = %v, want ErrFormat", body, err)
		}
	}
}
