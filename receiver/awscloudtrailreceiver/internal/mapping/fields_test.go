package mapping

import (
	"testing"
	"unsafe"
)

// TestLookupBytes: the byte lookup finds every member name of every group,
// and nothing else.
func TestLookupBytes(t *testing.T) {
	n := 0
	for g := range numGroups {
		for name, want := range keys[g] {
			if got := LookupBytes(g, []byte(name)); got != want {
				t.Errorf("group %d, %q: %+v, want %+v", g, name, got, want)
			}
			if got := Lookup(g, name); got != want {
				t.Errorf("group %d, %q: %+v, want %+v", g, name, got, want)
			}
			n++
		}
		for _, other := range []string{"", "x", "eventNam", "eventNamee", "EventName", "requestparameters"} {
			if got := LookupBytes(g, []byte(other)); got != keys[g][other] {
				t.Errorf("group %d, %q: %+v, want %+v", g, other, got, keys[g][other])
			}
			if got := Lookup(g, other); got != keys[g][other] {
				t.Errorf("group %d, %q: %+v, want %+v", g, other, got, keys[g][other])
			}
		}
	}
	if n < 45 {
		t.Fatalf("only %d names", n)
	}
}

// TestRebase: captured strings that are views of a buffer keep their
// values once the buffer is overwritten; other strings are left alone.
func TestRebase(t *testing.T) {
	buf := []byte(`"ec2.amazonaws.com" "RunInstances"`)
	var f Fields
	f.SetStr(Lookup(GroupRecord, "eventSource"), unsafe.String(&buf[1], 17))
	f.SetStr(Lookup(GroupRecord, "eventName"), unsafe.String(&buf[21], 12))
	f.SetStr(Lookup(GroupRecord, "eventID"), "own")
	f.SetBool(Lookup(GroupRecord, "readOnly"), true)
	text := string(buf)
	f.Rebase(buf, text)
	for i := range buf {
		buf[i] = 'x'
	}
	if got := f.str(fieldEventSource); got != "ec2.amazonaws.com" {
		t.Errorf("eventSource %q", got)
	}
	if got := f.str(int(Lookup(GroupRecord, "eventName").field - 1)); got != "RunInstances" {
		t.Errorf("eventName %q", got)
	}
	if got := f.str(int(Lookup(GroupRecord, "eventID").field - 1)); got != "own" {
		t.Errorf("eventID %q", got)
	}
	if b, ok := f.boolean(int(Lookup(GroupRecord, "readOnly").field - 1)); !ok || !b {
		t.Errorf("readOnly %v %v", b, ok)
	}
}
