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

func TestFisherLess(t *testing.T) {
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
		if got := fisherLess(tt.j, tt.m, tt.k, tt.n); math.Abs(got-tt.want) > 1e-9*max(1, tt.want) && math.Abs(got-tt.want)/tt.want > 1e-6 {
			t.Errorf("fisherLess(%d, %d, %d, %d) = %g, want %g", tt.j, tt.m, tt.k, tt.n, got, tt.want)
		}
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
