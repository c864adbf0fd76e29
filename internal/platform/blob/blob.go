// Package blob stores media files (presentation images and videos) on the
// local disk or in S3-compatible object storage. It is a thin layer over
// gocloud.dev/blob: the URL chooses the driver (file:// or s3://), and the
// few operations Mitra needs are exposed with one not-found error.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	gcblob "gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// URLs
	_ "gocloud.dev/blob/s3blob"   // s3:// URLs (AWS S3, MinIO, R2, ...)
	"gocloud.dev/gcerrors"
)

// ErrNotFound is returned (wrapped) for a key that holds no blob.
var ErrNotFound = errors.New("blob: not found")

// Reader reads one blob. It is an io.ReadSeekCloser (so http.ServeContent
// can serve ranges from it) and tells the blob's content type, size and
// modification time.
type Reader = gcblob.Reader

// Attributes describe a stored blob.
type Attributes struct {
	ContentType  string
	CacheControl string
	Size         int64
	ModTime      time.Time
	ETag         string
}

// PutOptions describe a blob being written. ContentType is required.
type PutOptions struct {
	ContentType  string
	CacheControl string
}

// Store is a bucket of blobs.
type Store struct {
	bucket  *gcblob.Bucket
	display string
}

// Schemes are the URL schemes Open accepts.
var Schemes = []string{"file", "s3"}

// ValidateURL checks that raw is a blob URL Open can use: file:///dir or
// s3://bucket[?region=...&endpoint=...&use_path_style=true].
func ValidateURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("must be a file:// or s3:// URL")
	}
	switch u.Scheme {
	case "file":
		if u.Path == "" && u.Host != "." {
			return errors.New("file:// URL needs a directory, like file:///var/lib/mitra/media")
		}
	case "s3":
		if u.Host == "" {
			return errors.New("s3:// URL needs a bucket, like s3://mitra-media?region=ap-south-1")
		}
	default:
		return errors.New("must be a file:// or s3:// URL")
	}
	return nil
}

// FileURL returns the file:// URL of directory dir (made absolute), with
// the directory created on open and temporary files written beside the
// final ones (a rename across file systems would fail).
func FileURL(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("blob: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: "create_dir=1&no_tmp_dir=1"}
	return u.String(), nil
}

// Open opens the bucket at raw (see ValidateURL). For file:// URLs the
// directory is created when missing and temporary files stay inside it,
// unless the URL says otherwise.
func Open(ctx context.Context, raw string) (*Store, error) {
	if err := ValidateURL(raw); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	u, _ := url.Parse(raw)
	if u.Scheme == "file" {
		q := u.Query()
		for _, k := range []string{"create_dir", "no_tmp_dir"} {
			if !q.Has(k) {
				q.Set(k, "1")
			}
		}
		u.RawQuery = q.Encode()
	}
	b, err := gcblob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", u.Scheme+"://"+u.Host+u.Path, err)
	}
	return &Store{bucket: b, display: u.Scheme + "://" + u.Host + u.Path}, nil
}

// String names the store without its query (which may carry settings).
func (s *Store) String() string { return s.display }

// Close releases the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "..") || strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("blob: invalid key %q", key)
	}
	return nil
}

// Put writes r to key, replacing any blob there. The blob appears only
// when all of r was written: if reading r fails, nothing is stored.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, o PutOptions) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if o.ContentType == "" {
		return errors.New("blob: put needs a content type")
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, key, &gcblob.WriterOptions{ContentType: o.ContentType, CacheControl: o.CacheControl})
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel() // aborts the write: Close then stores nothing
		_ = w.Close()
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	return nil
}

// Open returns a reader of the blob at key; close it. It returns an error
// wrapping ErrNotFound when there is none.
func (s *Store) Open(ctx context.Context, key string) (*Reader, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, s.wrap("open", key, err)
	}
	return r, nil
}

// Attributes describes the blob at key, or returns an error wrapping
// ErrNotFound.
func (s *Store) Attributes(ctx context.Context, key string) (Attributes, error) {
	if err := checkKey(key); err != nil {
		return Attributes{}, err
	}
	a, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return Attributes{}, s.wrap("attributes", key, err)
	}
	return Attributes{ContentType: a.ContentType, CacheControl: a.CacheControl, Size: a.Size, ModTime: a.ModTime, ETag: a.ETag}, nil
}

// Delete removes the blob at key, or returns an error wrapping ErrNotFound.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, key); err != nil {
		return s.wrap("delete", key, err)
	}
	return nil
}

func (s *Store) wrap(op, key string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("blob: %s %s: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("blob: %s %s: %w", op, key, err)
}
