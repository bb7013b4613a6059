package sysx

import (
	"os"
	"testing"
)

func TestSelf(t *testing.T) {
	x := 0
	for i := range 50_000_000 {
		x += i
	}
	_ = x
	cpu, err := CPUTime(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Fatalf("CPUTime = %v, %v", cpu, err)
	}
	rss, err := RSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("RSS = %v, %v", rss, err)
	}
	if _, hard, err := RaiseNoFile(); err != nil || hard == 0 {
		t.Fatalf("RaiseNoFile: %v, %v", hard, err)
	}
}
