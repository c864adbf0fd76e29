package presentation

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"time"

	"golang.org/x/image/webp"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/blob"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
)

// Media limits.
const (
	MaxImageBytes = 10 << 20 // 10 MiB
	MaxVideoBytes = 50 << 20 // 50 MiB
	// MaxUploadBytes is the largest upload request: the largest file and
	// room for the multipart framing and form fields.
	MaxUploadBytes = MaxVideoBytes + 1<<20
	MinImageSide   = 200
	MaxImageSide   = 4096
)

// Media kinds.
const (
	KindImage = "image"
	KindVideo = "video"
)

// MediaCacheControl is sent with every file. Files never change (a new
// upload is a new file), so clients keep them for a year; they are
// private because only their owner and administrators may read them.
const MediaCacheControl = "private, max-age=31536000, immutable"

// MediaURL is where a file is served.
func MediaURL(id string) string { return "/api/v1/presentations/media/" + id }

// Media is an uploaded file.
type Media struct {
	ID          string    `json:"id"`
	OwnerID     string    `json:"owner_id" doc:"The agent who may show it"`
	URL         string    `json:"url" example:"/api/v1/presentations/media/0193a0c4-6f1e-7c5e-9d2a-3b8f1f0e9a11"`
	Kind        string    `json:"kind" enum:"image,video"`
	ContentType string    `json:"content_type" enum:"image/jpeg,image/png,image/webp,video/mp4" doc:"Read from the bytes, not the file name"`
	SizeBytes   int64     `json:"size_bytes"`
	Width       int       `json:"width,omitempty" doc:"Images: pixels"`
	Height      int       `json:"height,omitempty"`
	SHA256      string    `json:"sha256" doc:"Hex SHA-256 of the bytes; also the ETag"`
	CreatedAt   time.Time `json:"created_at"`

	blobKey string
}

// mp4Brands are the ftyp major brands accepted as MP4 video. QuickTime
// (qt), HEIF/HEIC/AVIF images and audio-only M4A are not among them.
var mp4Brands = map[string]bool{
	"isom": true, "iso2": true, "iso4": true, "iso5": true, "iso6": true,
	"mp41": true, "mp42": true, "avc1": true, "M4V ": true, "dash": true, "mmp4": true, "MSNV": true,
}

// isMP4 reports whether head starts with an MP4 file type box ("ftyp")
// of a well-formed size and an MP4 major brand.
func isMP4(head []byte) bool {
	if len(head) < 16 || string(head[4:8]) != "ftyp" {
		return false
	}
	size := binary.BigEndian.Uint32(head[0:4])
	if size < 16 || size%4 != 0 || size > 256 {
		return false
	}
	return mp4Brands[string(head[8:12])]
}

// Sniff names the kind and content type of a file from its first bytes
// (at least 512 when the file is that long), never from its name. ok is
// false for anything but JPEG, PNG, WebP and MP4; contentType then says
// what it looked like.
func Sniff(head []byte) (kind, contentType string, ok bool) {
	ct := http.DetectContentType(head)
	switch ct {
	case "image/jpeg", "image/png", "image/webp":
		return KindImage, ct, true
	}
	if isMP4(head) {
		return KindVideo, "video/mp4", true
	}
	return "", ct, false
}

// imageSize decodes the header of an image of content type ct.
func imageSize(r io.Reader, ct string) (image.Config, error) {
	switch ct {
	case "image/jpeg":
		return jpeg.DecodeConfig(r)
	case "image/png":
		return png.DecodeConfig(r)
	case "image/webp":
		return webp.DecodeConfig(r)
	}
	return image.Config{}, fmt.Errorf("no decoder for %s", ct)
}

// Upload is a file being uploaded.
type Upload struct {
	AgentID string        // administrators: the agent who will own it; agents: "" or their own id
	File    io.ReadSeeker // the bytes
	Size    int64         // their length
}

// Upload checks and stores a file for the caller (agents) or the named
// agent (administrators). The type is read from the bytes: JPEG, PNG and
// WebP images of 200 to 4096 pixels a side up to 10 MiB, and MP4 videos
// up to 50 MiB. The same bytes uploaded again by the same owner give the
// file already stored (created false). It returns media_type_not_allowed
// (415), media_too_large (413), image_dimensions or media_unreadable
// (422), not_found (another agent) or not_an_agent.
func (s *Service) Upload(ctx context.Context, up Upload) (m *Media, created bool, err error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, false, err
	}
	owner, err := s.agentFor(ctx, p, up.AgentID, "body.agent_id", true)
	if err != nil {
		return nil, false, err
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(up.File, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("presentation: read upload: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return nil, false, apperr.Field("body.file", "the file is empty")
	}
	kind, ct, ok := Sniff(head)
	if !ok {
		return nil, false, fail(CodeMediaType, "body.file", "only JPEG, PNG and WebP images and MP4 videos are accepted; this file is "+ct)
	}
	limit := int64(MaxImageBytes)
	if kind == KindVideo {
		limit = MaxVideoBytes
	}
	if up.Size > limit {
		return nil, false, fail(CodeMediaTooLarge, "body.file", fmt.Sprintf("%s files may be at most %d MiB", kind, limit>>20))
	}
	m = &Media{ID: ids.New(), OwnerID: owner, Kind: kind, ContentType: ct, CreatedAt: s.now()}
	if kind == KindImage {
		if _, err := up.File.Seek(0, io.SeekStart); err != nil {
			return nil, false, fmt.Errorf("presentation: read upload: %w", err)
		}
		cfg, err := imageSize(up.File, ct)
		if err != nil {
			return nil, false, fail(CodeMediaUnreadable, "body.file", "the image cannot be read")
		}
		if cfg.Width < MinImageSide || cfg.Height < MinImageSide || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
			return nil, false, fail(CodeImageDimensions, "body.file",
				fmt.Sprintf("images must be %d to %d pixels a side; this one is %d×%d", MinImageSide, MaxImageSide, cfg.Width, cfg.Height))
		}
		m.Width, m.Height = cfg.Width, cfg.Height
	}
	// Hash the bytes (no more than the limit allows), then store them under
	// their hash: identical files are stored once.
	if _, err := up.File.Seek(0, io.SeekStart); err != nil {
		return nil, false, fmt.Errorf("presentation: read upload: %w", err)
	}
	h := sha256.New()
	size, err := io.Copy(h, io.LimitReader(up.File, limit+1))
	if err != nil {
		return nil, false, fmt.Errorf("presentation: read upload: %w", err)
	}
	if size > limit {
		return nil, false, fail(CodeMediaTooLarge, "body.file", fmt.Sprintf("%s files may be at most %d MiB", kind, limit>>20))
	}
	m.SizeBytes, m.SHA256 = size, hex.EncodeToString(h.Sum(nil))
	m.blobKey = "media/" + m.SHA256
	if _, err := s.Blobs.Attributes(ctx, m.blobKey); errors.Is(err, blob.ErrNotFound) {
		if _, err := up.File.Seek(0, io.SeekStart); err != nil {
			return nil, false, fmt.Errorf("presentation: read upload: %w", err)
		}
		if err := s.Blobs.Put(ctx, m.blobKey, io.LimitReader(up.File, size), blob.PutOptions{ContentType: ct, CacheControl: MediaCacheControl}); err != nil {
			return nil, false, apperr.Wrap(err, apperr.Unavailable, "the file could not be stored; try again")
		}
	} else if err != nil {
		return nil, false, apperr.Wrap(err, apperr.Unavailable, "the file could not be stored; try again")
	}
	if old, err := s.mediaByHash(ctx, owner, m.SHA256); err != nil || old != nil {
		return old, false, err
	}
	var w, hgt *int
	if kind == KindImage {
		w, hgt = &m.Width, &m.Height
	}
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO presentation_media (id, owner_id, blob_key, kind, content_type, size_bytes, width, height, sha256, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.ID, owner, m.blobKey, kind, ct, size, w, hgt, m.SHA256, m.CreatedAt); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "presentation.media_uploaded", TargetType: "presentation_media", TargetID: m.ID,
			After: map[string]any{"owner_id": owner, "content_type": ct, "size_bytes": size}})
	})
	if database.IsUniqueViolation(err) {
		// The same file, uploaded at the same moment by the same owner.
		old, err := s.mediaByHash(ctx, owner, m.SHA256)
		return old, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("presentation: upload: %w", err)
	}
	m.URL = MediaURL(m.ID)
	return m, true, nil
}

const mediaColumns = `id, owner_id, blob_key, kind, content_type, size_bytes, width, height, sha256, created_at`

func scanMedia(scan func(...any) error) (*Media, error) {
	var m Media
	var w, h *int64
	if err := scan(&m.ID, &m.OwnerID, &m.blobKey, &m.Kind, &m.ContentType, &m.SizeBytes, &w, &h, &m.SHA256, &m.CreatedAt); err != nil {
		return nil, err
	}
	m.Width, m.Height = int(derefInt(w)), int(derefInt(h))
	m.URL = MediaURL(m.ID)
	return &m, nil
}

func (s *Service) mediaByHash(ctx context.Context, owner, sum string) (*Media, error) {
	m, err := scanMedia(s.DB.QueryRow(ctx, `SELECT `+mediaColumns+` FROM presentation_media WHERE owner_id = ? AND sha256 = ?`, owner, sum).Scan)
	if errors.Is(err, database.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("presentation: media: %w", err)
	}
	return m, nil
}

// OpenMedia returns a file the caller may see (its owner, administrators)
// and a reader of its bytes, which the caller closes. It returns
// not_found for anyone else and for a file missing from the store.
func (s *Service) OpenMedia(ctx context.Context, id string) (*Media, *blob.Reader, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	m, err := scanMedia(s.DB.QueryRow(ctx, `SELECT `+mediaColumns+` FROM presentation_media WHERE id = ?`, id).Scan)
	if errors.Is(err, database.ErrNoRows) || (err == nil && !sees(p, m.OwnerID)) {
		return nil, nil, notFound("file")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("presentation: media: %w", err)
	}
	r, err := s.Blobs.Open(ctx, m.blobKey)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil, apperr.Wrap(err, apperr.NotFound, "no such file")
	}
	if err != nil {
		return nil, nil, apperr.Wrap(err, apperr.Unavailable, "the file cannot be read now; try again")
	}
	return m, r, nil
}
