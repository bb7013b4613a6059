package netws

import "unicode/utf8"

func maskBytes(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

type utf8Validator struct{ pend []byte; bad bool }

func (v *utf8Validator) write(p []byte) bool {
	if v.bad { return false }
	v.pend = append(v.pend, p...)
	// crude: check validity allowing a truncated tail
	b := v.pend
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			if !utf8.FullRune(b) { v.pend = append([]byte(nil), b...); return true }
			v.bad = true
			return false
		}
		b = b[n:]
	}
	v.pend = v.pend[:0]
	return true
}
func (v *utf8Validator) complete() bool { return !v.bad && len(v.pend) == 0 }
func (v *utf8Validator) reset()         { *v = utf8Validator{} }
func validUTF8(p []byte) bool           { return utf8.Valid(p) }
