package snap

import (
	"math"
	"strings"
	"testing"
)

func TestFreezeSortsAndKeepsTheLastOfDuplicates(t *testing.T) {
	var tb Table
	tb.Add(5).Int(50)
	tb.Add(2).Int(20)
	tb.Add(5).Int(51)
	tb.Add(9).Int(90)
	tb.Add(2).Int(21)
	s, err := tb.Freeze(1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[ID]int64{2: 21, 5: 51, 9: 90}
	if s.Len() != len(want) {
		t.Fatalf("%d entities, want %d: %v", s.Len(), len(want), s)
	}
	var prev ID
	for id, f := range s.All() {
		if id <= prev {
			t.Fatalf("ids out of order: %v", s)
		}
		prev = id
		if v, err := f.Int(0); err != nil || v != want[id] {
			t.Errorf("entity %d: %d, %v; want %d", id, v, err, want[id])
		}
	}
}

func TestFreezeIsACopy(t *testing.T) {
	var tb Table
	e := tb.Add(1).String("before")
	s, _ := tb.Freeze(1)
	e.String("more")
	tb.Reset()
	tb.Add(1).String("after")
	f, _ := s.Get(1)
	var v string
	if f.Len() != 1 || f.Decode(0, &v) != nil || v != "before" {
		t.Fatalf("the frozen state changed with the table: %v", s)
	}
}

func TestFieldKinds(t *testing.T) {
	var tb Table
	tb.Add(1).Int(-1000).Uint(1<<40).Float(1.5).Float32(2.5).Bool(true).
		String(strings.Repeat("x", 300)).Fixed(-3.14159, 0.001).Angle(math.Pi/2, 8).
		Value(map[string]int{"a": 1})
	s, err := tb.Freeze(1)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := s.Get(1)
	var (
		i   int64
		u   uint64
		f64 float64
		f32 float32
		b   bool
		str string
		fix int64
		ang uint32
		m   map[string]int
	)
	for j, v := range []any{&i, &u, &f64, &f32, &b, &str, &fix, &ang, &m} {
		if err := f.Decode(j, v); err != nil {
			t.Fatalf("field %d: %v", j, err)
		}
	}
	if i != -1000 || u != 1<<40 || f64 != 1.5 || f32 != 2.5 || !b || len(str) != 300 ||
		fix != -3142 || ang != 64 || m["a"] != 1 {
		t.Fatalf("decoded %v %v %v %v %v %d %v %v %v", i, u, f64, f32, b, len(str), fix, ang, m)
	}
	if err := f.Decode(9, &i); err == nil {
		t.Fatal("Decode of a field past the end: no error")
	}
}

func TestValueThatCannotBeEncoded(t *testing.T) {
	var tb Table
	tb.Add(3).Int(1).Value(make(chan int))
	if _, err := tb.Freeze(1); err == nil || !strings.Contains(err.Error(), "entity 3 field 1") {
		t.Fatalf("Freeze after a bad Value: %v, want an error naming entity 3 field 1", err)
	}
	tb.Reset()
	if _, err := tb.Freeze(2); err != nil {
		t.Fatalf("Reset did not clear the error: %v", err)
	}
}

func TestGenerationChangesWithEveryModification(t *testing.T) {
	var tb Table
	seen := map[uint64]bool{tb.Generation(): true}
	check := func(what string) {
		t.Helper()
		if seen[tb.Generation()] {
			t.Fatalf("%s did not change the generation", what)
		}
		seen[tb.Generation()] = true
	}
	e := tb.Add(1)
	check("Add")
	e.At(1, 2)
	check("At")
	e.Int(3)
	check("Int")
	tb.Reset()
	check("Reset")
}
