package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "media", "nested") // created on open
	u, err := FileURL(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func TestPutOpenAttributesDelete(t *testing.T) {
	ctx := context.Background()
	s, dir := openTemp(t)
	data := bytes.Repeat([]byte("0123456789"), 1000)
	if err := s.Put(ctx, "media/abc", bytes.NewReader(data), PutOptions{ContentType: "image/png", CacheControl: "public, max-age=60"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "media", "abc")); err != nil {
		t.Fatalf("not stored in the directory: %v", err)
	}
	a, err := s.Attributes(ctx, "media/abc")
	if err != nil || a.ContentType != "image/png" || a.Size != int64(len(data)) || a.CacheControl != "public, max-age=60" || a.ModTime.IsZero() {
		t.Fatalf("attributes %+v %v", a, err)
	}
	r, err := s.Open(ctx, "media/abc")
	if err != nil {
		t.Fatal(err)
	}
	// Seekable: the tail can be read after seeking, as range requests do.
	if _, err := r.Seek(9990, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(r)
	if string(tail) != "0123456789" || r.ContentType() != "image/png" || r.Size() != 10000 {
		t.Fatalf("tail %q, %s, %d", tail, r.ContentType(), r.Size())
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	all, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(all, data) {
		t.Fatal("content changed")
	}
	if err := s.Delete(ctx, "media/abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Attributes(ctx, "media/abc"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := s.Open(ctx, "media/abc"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open after delete: %v", err)
	}
	if err := s.Delete(ctx, "media/abc"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), f.n)
	for i := range n {
		p[i] = 'x'
	}
	f.n -= n
	return n, nil
}

// A write whose source fails stores nothing, and leaves any earlier blob.
func TestFailedPutStoresNothing(t *testing.T) {
	ctx := context.Background()
	s, dir := openTemp(t)
	if err := s.Put(ctx, "k", &failingReader{n: 100_000}, PutOptions{ContentType: "video/mp4"}); err == nil {
		t.Fatal("a failed read was not reported")
	}
	if _, err := s.Attributes(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("partial blob stored: %v", err)
	}
	if err := s.Put(ctx, "k", strings.NewReader("old"), PutOptions{ContentType: "text/plain"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "k", &failingReader{n: 10}, PutOptions{ContentType: "text/plain"}); err == nil {
		t.Fatal("a failed read was not reported")
	}
	r, err := s.Open(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "old" {
		t.Fatalf("earlier blob replaced by a failed write: %q", b)
	}
	// No temporary files left behind.
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, d.Name())
		}
		return nil
	})
	for _, n := range names {
		if n != "k" && n != "k.attrs" {
			t.Errorf("left behind: %s (all: %v)", n, names)
		}
	}
}

func TestKeysAndURLsAreChecked(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, k := range []string{"", "/etc/passwd", "../escape", "a/../../b", "a\\b"} {
		if err := s.Put(ctx, k, strings.NewReader("x"), PutOptions{ContentType: "text/plain"}); err == nil {
			t.Errorf("key %q accepted", k)
		}
		if _, err := s.Open(ctx, k); err == nil {
			t.Errorf("open %q accepted", k)
		}
	}
	if err := s.Put(ctx, "x", strings.NewReader("x"), PutOptions{}); err == nil {
		t.Error("put without a content type accepted")
	}
	for _, u := range []string{"http://example.com/bucket", "gs://bucket", "s3://", "file://", "not a url\x00"} {
		if err := ValidateURL(u); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
	for _, u := range []string{"file:///var/lib/mitra/media", "s3://mitra-media?region=ap-south-1", "s3://media?endpoint=http://127.0.0.1:9000&use_path_style=true&region=us-east-1"} {
		if err := ValidateURL(u); err != nil {
			t.Errorf("URL %q refused: %v", u, err)
		}
	}
	if _, err := Open(ctx, "gs://bucket"); err == nil {
		t.Error("unsupported scheme opened")
	}
}

// An s3:// URL opens (no request is made until a blob is used), so an
// S3-compatible endpoint is configured by URL alone.
func TestS3URLOpens(t *testing.T) {
	s, err := Open(context.Background(), "s3://mitra-media?region=us-east-1&endpoint=http://127.0.0.1:1&use_path_style=true")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.String() != "s3://mitra-media" {
		t.Fatalf("display %q", s.String())
	}
}
