package mapping

import "testing"

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
