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

// fisherLess returns the one-sided p-value of Fisher's exact test that
// the rate behind j events in m trials is lower than the rate behind k
// events in n trials: given the k+j events of both, the probability that
// j or fewer fall among the m trials.
func fisherLess(j, m, k, n int64) float64 {
	total, events := n+m, k+j
	if events == 0 || m == 0 || n == 0 {
		return 1
	}
	den := logChoose(total, events)
	p := 0.0
	for x := max(0, events-n); x <= min(j, events); x++ {
		p += math.Exp(logChoose(m, x) + logChoose(n, events-x) - den)
	}
	return min(p, 1)
}
