package facts

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSetBounded(t *testing.T) {
	s := NewSet()
	for i := 0; i < 3*MaxValues; i++ {
		s.AddBytes("v", []byte(fmt.Sprint(i%(MaxValues+10))))
	}
	s.Add("v", "")
	f := s.Get("v")
	if f.Count != 3*MaxValues+1 || len(f.Values) != MaxValues || !f.More {
		t.Fatalf("Count %d, %d values, More %v", f.Count, len(f.Values), f.More)
	}
	if f.Values[0] != "0" || f.Values[MaxValues-1] != fmt.Sprint(MaxValues-1) {
		t.Errorf("values not kept in order of appearance: %v…", f.Values[:3])
	}
}

func TestSetDistinctAndTruncated(t *testing.T) {
	s := NewSet()
	s.Add("x", "a")
	s.AddBytes("x", []byte("a"))
	s.Add("x", "b")
	long := strings.Repeat("z", MaxValueLen+50)
	s.Add("y", long)
	s.AddBytes("y", []byte(long))
	want := map[string]Fact{
		"x": {Count: 3, Values: []string{"a", "b"}},
		"y": {Count: 2, Values: []string{long[:MaxValueLen]}},
	}
	if diff := cmp.Diff(want, s.All()); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
	if got := s.Get("never"); got.Count != 0 || got.Values != nil {
		t.Errorf("Get(never) = %+v", got)
	}
}

func BenchmarkAddBytesSeen(b *testing.B) {
	s := NewSet()
	v := []byte("127.0.0.1")
	s.AddBytes("address", v)
	b.ReportAllocs()
	for b.Loop() {
		s.AddBytes("address", v)
	}
}

func BenchmarkCounterAddBytesSeen(b *testing.B) {
	c := NewSet().Counter("address")
	v := []byte("127.0.0.1")
	c.AddBytes(v)
	b.ReportAllocs()
	for b.Loop() {
		c.AddBytes(v)
	}
}
