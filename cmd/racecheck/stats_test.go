package main

import (
	"math"
	"testing"
)

func TestClopperPearson(t *testing.T) {
	tests := []struct {
		k, n   int64
		lo, hi float64
	}{
		{0, 46, 0, 1 - math.Pow(0.025, 1.0/46)},
		{5, 100, 0.01643187, 0.11283491}, // R: binom.test(5, 100)$conf.int
		{100, 100, math.Pow(0.025, 1.0/100), 1},
		{0, 0, 0, 1},
	}
	for _, tt := range tests {
		lo, hi := clopperPearson(tt.k, tt.n, 0.05)
		if math.Abs(lo-tt.lo) > 1e-6 || math.Abs(hi-tt.hi) > 1e-6 {
			t.Errorf("clopperPearson(%d, %d, 0.05) = %.8f, %.8f, want %.8f, %.8f", tt.k, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestExactLess(t *testing.T) {
	tests := []struct {
		j, m, k, n int64
		want       float64
	}{
		{0, 100, 5, 100, 0.029691605234293292}, // C(100,5)/C(200,5)
		{1, 1000, 20, 1000, 9.618286575873024e-06},
		{0, 100, 0, 100, 1},
		{5, 100, 0, 100, 1},
	}
	for _, tt := range tests {
		if got := exactLess(stratum{tt.j, tt.m, tt.k, tt.n}); math.Abs(got-tt.want) > 1e-6*tt.want {
			t.Errorf("exactLess(%d, %d, %d, %d) = %g, want %g", tt.j, tt.m, tt.k, tt.n, got, tt.want)
		}
	}
	// With no event in the arm under test, the strata multiply.
	a, b := stratum{0, 100, 5, 100}, stratum{0, 300, 3, 200}
	if got, want := exactLess(a, b), exactLess(a)*exactLess(b); math.Abs(got-want) > 1e-9*want {
		t.Errorf("exactLess(%v, %v) = %g, want %g, the product", a, b, got, want)
	}
	// P(X1+X2 <= 1) = P(0,0) + P(1,0) + P(0,1).
	a, b = stratum{1, 50, 2, 50}, stratum{0, 50, 2, 50}
	pa, pb := a.hypergeom(), b.hypergeom()
	if got, want := exactLess(a, b), pa[0]*pb[0]+pa[1]*pb[0]+pa[0]*pb[1]; math.Abs(got-want) > 1e-9*want {
		t.Errorf("exactLess(%v, %v) = %g, want %g", a, b, got, want)
	}
}

func TestLookRounds(t *testing.T) {
	tests := []struct {
		rounds int
		fixed  bool
		want   []int
	}{
		{8, false, []int{2, 4, 8}},
		{5, false, []int{2, 3, 5}},
		{2, false, []int{1, 2}},
		{1, false, []int{1}},
		{8, true, []int{8}},
	}
	for _, tt := range tests {
		got := lookRounds(tt.rounds, tt.fixed)
		if len(got) != len(tt.want) {
			t.Errorf("lookRounds(%d, %v) = %v, want %v", tt.rounds, tt.fixed, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("lookRounds(%d, %v) = %v, want %v", tt.rounds, tt.fixed, got, tt.want)
				break
			}
		}
	}
}
