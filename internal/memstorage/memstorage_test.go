package memstorage

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

func TestCrashDiscardsWritesAfterCrash(t *testing.T) {
	ctx := context.Background()
	s := New()
	ext := s.Host().GetExtensions()[s.ID()].(storage.Extension)
	c1, _ := ext.GetClient(ctx, component.KindReceiver, component.MustNewID("r"), "")
	_ = c1.Set(ctx, "a", []byte("1"))
	s.Crash()
	_ = c1.Set(ctx, "a", []byte("2"))
	_ = c1.Set(ctx, "b", []byte("x"))
	c2, _ := ext.GetClient(ctx, component.KindReceiver, component.MustNewID("r"), "")
	if v, _ := c2.Get(ctx, "a"); string(v) != "1" {
		t.Fatalf("a = %q, want the value written before the crash", v)
	}
	if v, _ := c2.Get(ctx, "b"); v != nil {
		t.Fatalf("b = %q, want nothing", v)
	}
	if s.Discarded() != 2 {
		t.Fatalf("discarded %d", s.Discarded())
	}
	if w, b := s.Written(); w != 1 || b != 1 {
		t.Fatalf("written %d values, %d bytes; want 1, 1", w, b)
	}
}

func TestKeySpaces(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		s      *Storage
		shared bool
	}{
		{"per component", New(), false},
		{"shared", NewShared(component.MustNewID("db_storage")), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := tc.s.GetClient(ctx, component.KindExporter, component.MustNewID("a"), "")
			b, _ := tc.s.GetClient(ctx, component.KindExporter, component.MustNewID("b"), "")
			_ = a.Set(ctx, "k", []byte("a"))
			v, _ := b.Get(ctx, "k")
			if got := v != nil; got != tc.shared {
				t.Fatalf("b sees a's key: %v, want %v", got, tc.shared)
			}
			snap := tc.s.Snapshot()
			_ = a.Set(ctx, "k", []byte("a2"))
			if v := snap.Data()["k"]; string(v) != "a" {
				t.Fatalf("snapshot holds %q, want the value at the snapshot", v)
			}
		})
	}
}

func TestBatchIsAtomicPerCall(t *testing.T) {
	ctx := context.Background()
	c := NewClient()
	get := storage.GetOperation("x")
	if err := c.Batch(ctx, storage.SetOperation("x", []byte("1")), get, storage.DeleteOperation("x")); err != nil {
		t.Fatal(err)
	}
	if string(get.Value) != "1" {
		t.Fatalf("get in batch = %q", get.Value)
	}
	if v, _ := c.Get(ctx, "x"); v != nil {
		t.Fatalf("deleted key = %q", v)
	}
}
