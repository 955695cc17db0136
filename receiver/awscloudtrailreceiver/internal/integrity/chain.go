package integrity

import (
	"time"
)

// Link is what a chain keeps of its last verified digest: enough to check
// the next digest's previousDigest* fields.
type Link struct {
	Bucket, Key string
	End         time.Time
	// Signature is the hex signature; Hash the hex SHA-256 of the content.
	Signature, Hash string
}

// LinkOf returns the link of a verified digest.
func LinkOf(s Signed) Link {
	return Link{Bucket: s.Bucket, Key: s.Key, End: s.Digest.End, Signature: s.Signature, Hash: s.Hash()}
}

// ChainResult is how a digest continues its chain.
type ChainResult int

const (
	// ChainLinked: it names the last digest, with its hash and signature.
	ChainLinked ChainResult = iota
	// ChainFirst: no earlier digest of the chain is known (first seen).
	ChainFirst
	// ChainRestart: it starts a new chain (previousDigestSignature null),
	// as after logging or validation was turned off and on again.
	ChainRestart
	// ChainAhead: it names a previous digest other than the last one known
	// because digests came out of order (its previous digest is later than
	// the last one, not seen yet; or it is itself older than the last one,
	// delivered or handled late): the caller must read that one and check
	// against it (a missing previous digest is a broken chain).
	ChainAhead
	// ChainBackfill: a backfill digest, outside the chain.
	ChainBackfill
	// ChainBroken: it names a previous digest that differs from the one
	// known (replaced: another hash or signature), or one older than the
	// last (a fork).
	ChainBroken
)

// CheckChain checks how s, a verified digest, follows last (nil: none
// known). For ChainBroken, reason says why.
func CheckChain(last *Link, s Signed, backfill bool) (res ChainResult, reason string) {
	d := s.Digest
	switch {
	case backfill:
		return ChainBackfill, ""
	case d.PreviousDigestSignature == nil:
		return ChainRestart, ""
	case last == nil:
		return ChainFirst, ""
	}
	prevKey := deref(d.PreviousDigestS3Object)
	if deref(d.PreviousDigestS3Bucket) != last.Bucket || prevKey != last.Key {
		if pk, ok := ParseDigestKey(prevKey); ok && (pk.End.After(last.End) || d.End.Before(last.End)) {
			return ChainAhead, ""
		}
		return ChainBroken, "the digest names s3://" + deref(d.PreviousDigestS3Bucket) + "/" + prevKey + " as previous, not the last digest s3://" + last.Bucket + "/" + last.Key
	}
	if *d.PreviousDigestSignature != last.Signature {
		return ChainBroken, "previousDigestSignature differs from the signature of the previous digest (replaced)"
	}
	if deref(d.PreviousDigestHashValue) != last.Hash {
		return ChainBroken, "previousDigestHashValue differs from the hash of the previous digest (modified)"
	}
	return ChainLinked, ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
