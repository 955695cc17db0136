package integrity

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// TestSignedTreeThroughEmulators reads a signed trail tree with the real
// SDK clients through gofakes3 and the CloudTrail emulator: the signature
// metadata reaches GetObject and HeadObject, ListPublicKeys returns the keys
// of the requested range, every digest verifies and chains, and every log
// file's uncompressed SHA-256 is the one its digest lists.
func TestSignedTreeThroughEmulators(t *testing.T) {
	kp, srv := emulators(t)
	// Files every 20 minutes across the rotation at t0+3h.
	tree, err := devstack.SeedTrailTree(srv, devstack.TreeSpec{Bucket: bucket, Accounts: []string{acct}, Regions: []string{region, "eu-west-1"},
		Files: 12, Every: 20 * time.Minute, End: t0.Add(4 * time.Hour), RecordsPerFile: 3, Keys: kp[:], Trail: "org_trail"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	creds := credentials.NewStaticCredentialsProvider("a", "b", "")
	s3c := s3.New(s3.Options{Region: region, BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Credentials: creds})
	ctc := cloudtrail.New(cloudtrail.Options{Region: region, BaseEndpoint: aws.String(srv.URL), Credentials: creds})

	out, err := ctc.ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(5 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.PublicKeyList) != 2 {
		t.Fatalf("ListPublicKeys over the rotation returned %d keys, want 2", len(out.PublicKeyList))
	}
	var ring Keyring
	for _, k := range out.PublicKeyList {
		pk, err := ParsePublicKey(aws.ToString(k.Fingerprint), k.Value, aws.ToTime(k.ValidityStartTime), aws.ToTime(k.ValidityEndTime))
		if err != nil {
			t.Fatal(err)
		}
		ring.Add(pk)
	}
	if one, err := ctc.ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(time.Hour))}); err != nil || len(one.PublicKeyList) != 1 {
		t.Fatalf("ListPublicKeys before the rotation: %v, %v", one, err)
	}

	if len(tree.Digests) < 8 {
		t.Fatalf("%d digests", len(tree.Digests))
	}
	listed := map[string]string{}
	links := map[string]*Link{}
	for _, key := range tree.Digests {
		head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		if obj.Metadata[MetaSignature] == "" || head.Metadata[MetaSignature] != obj.Metadata[MetaSignature] || obj.Metadata[MetaSignatureAlgorithm] != Algorithm {
			t.Fatalf("metadata: GetObject %v HeadObject %v", obj.Metadata, head.Metadata)
		}
		d, raw, err := ParseDigest(body)
		if err != nil {
			t.Fatal(err)
		}
		s := Signed{Bucket: bucket, Key: key, Digest: d, Raw: raw, Signature: obj.Metadata[MetaSignature], Algorithm: obj.Metadata[MetaSignatureAlgorithm]}
		if err := Verify(s, &ring); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		dk, ok := ParseDigestKey(key)
		if !ok || dk.Trail != "org_trail" {
			t.Fatalf("ParseDigestKey(%s) = %+v", key, dk)
		}
		res, reason := CheckChain(links[dk.Chain()], s, dk.Backfill)
		if want := map[bool]ChainResult{true: ChainRestart, false: ChainLinked}[links[dk.Chain()] == nil]; res != want {
			t.Fatalf("%s: chain %v (%s), want %v", key, res, reason, want)
		}
		l := LinkOf(s)
		links[dk.Chain()] = &l
		for _, f := range d.LogFiles {
			listed[f.S3Object] = f.HashValue
		}
	}
	if len(listed) != len(tree.Keys) {
		t.Fatalf("digests list %d files, the tree has %d", len(listed), len(tree.Keys))
	}
	for _, key := range tree.Keys {
		obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(obj.Body)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, _ = io.Copy(h, zr)
		obj.Body.Close()
		if got := hex.EncodeToString(h.Sum(nil)); got != listed[key] {
			t.Fatalf("%s: hash %s, digest lists %s", key, got, listed[key])
		}
	}
}

// TestPublicKeysPagedThroughEmulator: the emulator serves ListPublicKeys in
// pages when told to; the SDK's paginator walks them all.
func TestPublicKeysPagedThroughEmulator(t *testing.T) {
	kp, srv := emulators(t)
	srv.AWS().SetPublicKeyPageSize(1)
	ctc := cloudtrail.New(cloudtrail.Options{Region: region, BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	in := &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(5 * time.Hour))}
	first, err := ctc.ListPublicKeys(context.Background(), in)
	if err != nil || len(first.PublicKeyList) != 1 || first.NextToken == nil {
		t.Fatalf("first page: %v, %v", first, err)
	}
	var got []string
	pages := cloudtrail.NewListPublicKeysPaginator(ctc, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range out.PublicKeyList {
			got = append(got, aws.ToString(k.Fingerprint))
		}
	}
	if len(got) != 2 || got[0] != kp[0].Fingerprint || got[1] != kp[1].Fingerprint {
		t.Fatalf("fingerprints %v, want those of both keys", got)
	}
}

// emulators starts the S3 and CloudTrail emulators, ListPublicKeys serving
// the test keys.
func emulators(t *testing.T) ([2]*trailgen.KeyPair, *devstack.S3Server) {
	t.Helper()
	kp, _ := keys(t)
	srv, err := devstack.StartS3("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	for _, k := range kp {
		srv.AWS().AddPublicKey(k)
	}
	return kp, srv
}
