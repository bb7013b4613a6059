package hist

import (
	"testing"
	"time"
)

func TestIndexIsMonotonicAndTight(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<22; v += 1 + v/97 {
		i := index(v)
		if i < prev {
			t.Fatalf("index(%d) = %d < %d", v, i, prev)
		}
		prev = i
		mid := bucketValue(i)
		if diff := float64(mid) - float64(v); diff > 0.035*float64(v)+1 || -diff > 0.035*float64(v)+1 {
			t.Fatalf("value %d lands in bucket %d of middle %d", v, i, mid)
		}
	}
	if i := index(1 << 62); i != nBuckets-1 {
		t.Fatalf("huge value in bucket %d, want the last, %d", i, nBuckets-1)
	}
}

func TestQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	check := func(q float64, want time.Duration) {
		t.Helper()
		got := h.Quantile(q)
		if d := got - want; d > want/30 || -d > want/30 {
			t.Errorf("Quantile(%v) = %v, want about %v", q, got, want)
		}
	}
	check(0.5, 500*time.Microsecond)
	check(0.99, 990*time.Microsecond)
	check(1, 1000*time.Microsecond)
	var g Histogram
	g.Merge(&h)
	g.Merge(&h)
	if g.Count() != 2000 || g.Quantile(0.5) != h.Quantile(0.5) {
		t.Errorf("merge: count %d, p50 %v", g.Count(), g.Quantile(0.5))
	}
	if a := testing.AllocsPerRun(100, func() { h.Record(time.Millisecond) }); a != 0 {
		t.Errorf("Record allocates %v times", a)
	}
}
