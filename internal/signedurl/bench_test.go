package signedurl_test

import "testing"

func BenchmarkSign(b *testing.B) {
	b.ReportAllocs()
	s := specSigner(b, keySpec("k1", 1))
	for b.Loop() {
		if _, err := s.Sign(sampleLink()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	b.ReportAllocs()
	s := specSigner(b, keySpec("k1", 1))
	tok := sign(b, s, sampleLink())
	for b.Loop() {
		if _, err := s.Verify(tok, t0); err != nil {
			b.Fatal(err)
		}
	}
}
