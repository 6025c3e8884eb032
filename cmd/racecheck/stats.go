package main

import "math"

// The verdict's statistics: exact binomial intervals and Fisher's exact
// test, computed from log-gamma so that they stay exact for any count
// racecheck can reach.

// logChoose returns ln C(n, k).
func logChoose(n, k int64) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// binomCDF returns P(X <= k) for X ~ Binomial(n, p).
func binomCDF(k, n int64, p float64) float64 {
	switch {
	case k < 0:
		return 0
	case k >= n:
		return 1
	case p <= 0:
		return 1
	case p >= 1:
		return 0
	}
	lp, lq := math.Log(p), math.Log1p(-p)
	sum := 0.0
	for i := int64(0); i <= k; i++ {
		sum += math.Exp(logChoose(n, i) + float64(i)*lp + float64(n-i)*lq)
	}
	return min(sum, 1)
}

// bisect returns the p in [0, 1] where the decreasing function f crosses
// target.
func bisect(f func(p float64) float64, target float64) float64 {
	lo, hi := 0.0, 1.0
	for range 100 {
		mid := (lo + hi) / 2
		if f(mid) > target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// clopperPearson returns the exact (Clopper–Pearson) two-sided interval
// of confidence 1-alpha for a rate from k events in n trials.
func clopperPearson(k, n int64, alpha float64) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	if k > 0 {
		// P(X >= k | lo) = alpha/2.
		lo = bisect(func(p float64) float64 { return binomCDF(k-1, n, p) }, 1-alpha/2)
	}
	hi = 1
	if k < n {
		// P(X <= k | hi) = alpha/2.
		hi = bisect(func(p float64) float64 { return binomCDF(k, n, p) }, alpha/2)
	}
	return lo, hi
}

// stratum is one table of Fisher's test: j events in m trials of the arm
// under test, k events in n trials of the other.
type stratum struct{ j, m, k, n int64 }

// hypergeom returns the distribution of the events that fall among the m
// trials of s, given the k+j events of both arms: P(X = x) at index x.
func (s stratum) hypergeom() []float64 {
	events := s.k + s.j
	pmf := make([]float64, min(s.m, events)+1)
	den := logChoose(s.n+s.m, events)
	for x := max(0, events-s.n); x < int64(len(pmf)); x++ {
		pmf[x] = math.Exp(logChoose(s.m, x) + logChoose(s.n, events-x) - den)
	}
	return pmf
}

// exactLess returns the one-sided p-value of the exact conditional test
// that the rate of the arm under test is lower than the other's: given
// each stratum's events, the probability that the strata together put as
// few events as they did, or fewer, among the arm's trials, if both arms
// had one rate in each stratum. For one stratum it is Fisher's exact test;
// for several it is the exact stratified (Cochran–Mantel–Haenszel) test.
func exactLess(strata ...stratum) float64 {
	dist := []float64{1} // P(sum of X = x)
	var j int64
	for _, s := range strata {
		if s.m == 0 || s.n == 0 {
			continue
		}
		j += s.j
		pmf := s.hypergeom()
		sum := make([]float64, len(dist)+len(pmf)-1)
		for a, pa := range dist {
			for b, pb := range pmf {
				sum[a+b] += pa * pb
			}
		}
		dist = sum
	}
	p := 0.0
	for x := int64(0); x <= j && x < int64(len(dist)); x++ {
		p += dist[x]
	}
	return min(p, 1)
}
