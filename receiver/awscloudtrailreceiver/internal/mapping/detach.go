package mapping

import "unsafe"

// Detach gives the captured strings that are views of old (see
// recordstream.Reader.ReadText) a copy of their own, one allocation shared
// by all of them, so that old's buffer can be reused. It is Rebase for a
// record whose text is not kept.
func (f *Fields) Detach(old []byte) {
	if len(old) == 0 {
		return
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(old)))
	n := 0
	for i := range f.vals {
		if _, ok := viewOffset(&f.vals[i], base, len(old)); ok {
			n += len(f.vals[i].str)
		}
	}
	if n == 0 {
		return
	}
	buf := make([]byte, 0, n) // never grows: the strings stay valid
	for i := range f.vals {
		v := &f.vals[i]
		if _, ok := viewOffset(v, base, len(old)); ok {
			start := len(buf)
			buf = append(buf, v.str...)
			v.str = unsafe.String(&buf[start], len(v.str))
		}
	}
}
