package ai

import (
	"io"
	"strings"
	"testing"
)

func TestSSEReader(t *testing.T) {
	in := ": OPENROUTER PROCESSING\n\nevent: message\ndata: {\"a\":1}\n\ndata:{\"b\":2}\r\n\n: keep\ndata: [DONE]\n"
	r := newSSEReader(strings.NewReader(in))
	want := []struct {
		kind int
		p    string
	}{{evComment, ": OPENROUTER PROCESSING"}, {evData, `{"a":1}`}, {evData, `{"b":2}`}, {evComment, ": keep"}, {evDone, ""}}
	for i, w := range want {
		k, p, err := r.next()
		if err != nil || k != w.kind || string(p) != w.p {
			t.Fatalf("event %d: %d %q %v; want %d %q", i, k, p, err, w.kind, w.p)
		}
	}
	if _, _, err := r.next(); err != io.EOF {
		t.Fatalf("after [DONE]: %v", err)
	}
	long := "data: " + strings.Repeat("x", maxEventLine+10) + "\n"
	if _, _, err := newSSEReader(strings.NewReader(long)).next(); err != errLineTooLong {
		t.Fatalf("long line: %v", err)
	}
}

func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{"data: {}\n\n", ": c\n", "data: [DONE]\n", "event: x\nid: 1\ndata: y\n\n", "\r\n\r\n", "data"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := newSSEReader(strings.NewReader(s))
		for i := 0; i < 1000; i++ {
			if _, _, err := r.next(); err != nil {
				return
			}
		}
	})
}
