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
	"mitra/internal/platform/logging"
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
// file already stored (created false). An owner's files together stay
// within the service's quota (MediaQuota). It returns
// media_type_not_allowed (415), media_too_large and media_quota_exceeded
// (413), image_dimensions or media_unreadable (422), agent_not_found
// (another agent) or not_an_agent.
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
	if old, err := s.mediaByHash(ctx, owner, m.SHA256); err != nil || old != nil {
		return old, false, err
	}
	if err := s.checkQuota(ctx, s.DB, owner, size); err != nil {
		return nil, false, err
	}
	// Each file has a blob of its own (deleting one never touches another's
	// bytes). The blob is written first, then the row; when the row cannot
	// be written the blob is removed again, so a failed upload leaves
	// nothing behind (short of a crash between the two).
	m.blobKey = "media/" + m.ID
	if _, err := up.File.Seek(0, io.SeekStart); err != nil {
		return nil, false, fmt.Errorf("presentation: read upload: %w", err)
	}
	if err := s.Blobs.Put(ctx, m.blobKey, io.LimitReader(up.File, size), blob.PutOptions{ContentType: ct, CacheControl: MediaCacheControl}); err != nil {
		s.removeBlob(ctx, m.blobKey)
		return nil, false, apperr.Wrap(err, apperr.Unavailable, "the file could not be stored; try again")
	}
	var w, hgt *int
	if kind == KindImage {
		w, hgt = &m.Width, &m.Height
	}
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		if err := lockOwner(ctx, tx, owner); err != nil {
			return err
		}
		if err := s.checkQuota(ctx, tx, owner, size); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO presentation_media (id, owner_id, blob_key, kind, content_type, size_bytes, width, height, sha256, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, m.ID, owner, m.blobKey, kind, ct, size, w, hgt, m.SHA256, m.CreatedAt); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "presentation.media_uploaded", TargetType: "presentation_media", TargetID: m.ID,
			After: map[string]any{"owner_id": owner, "content_type": ct, "size_bytes": size}})
	})
	if err != nil {
		s.removeBlob(ctx, m.blobKey)
	}
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

// lockOwner serialises, on PostgreSQL, the uploads of one owner inside
// their transactions, so two at once cannot both fit under the quota.
// SQLite's transactions already take the database's one writer.
func lockOwner(ctx context.Context, tx *database.Tx, owner string) error {
	if tx.Dialect() != database.Postgres {
		return nil
	}
	var id string
	return tx.QueryRow(ctx, `SELECT id FROM users WHERE id = ? FOR NO KEY UPDATE`, owner).Scan(&id)
}

func (s *Service) quota() int64 {
	if s.MediaQuota > 0 {
		return s.MediaQuota
	}
	return DefaultMediaQuota
}

// checkQuota refuses a new file of size bytes that would take owner's
// files over the quota: media_quota_exceeded (413, body.file).
func (s *Service) checkQuota(ctx context.Context, q database.Querier, owner string, size int64) error {
	var used int64
	if err := q.QueryRow(ctx, `SELECT COALESCE(SUM(size_bytes), 0) FROM presentation_media WHERE owner_id = ?`, owner).Scan(&used); err != nil {
		return fmt.Errorf("presentation: media quota: %w", err)
	}
	if limit := s.quota(); used+size > limit {
		return fail(CodeMediaQuota, "body.file", fmt.Sprintf("this file (%s) does not fit: %s of your %s for files are used; delete files no slide shows to make room",
			sizeText(size), sizeText(used), sizeText(limit)))
	}
	return nil
}

// sizeText writes a byte count for people: MiB with one decimal, KiB below.
func sizeText(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", (n+1023)>>10)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// removeBlob deletes a blob nothing refers to, even when the request that
// wrote it has been cancelled; a failure is logged (the blob is left
// orphaned), not returned.
func (s *Service) removeBlob(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.Blobs.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
		logging.FromContext(ctx).Warn("presentation: could not remove a blob", "key", key, "err", err)
	}
}

// DeleteMedia removes a file no slide shows: its owner's or, for
// administrators, anyone's. Audited. It returns media_not_found for
// anyone else and media_in_use (409) while a slide shows it.
func (s *Service) DeleteMedia(ctx context.Context, id string) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	if !ids.Valid(id) {
		return notFound("file")
	}
	var m *Media
	var shared int
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		q := `SELECT ` + mediaColumns + ` FROM presentation_media WHERE id = ?`
		if tx.Dialect() == database.Postgres {
			q += ` FOR UPDATE`
		}
		var err error
		m, err = scanMedia(tx.QueryRow(ctx, q, id).Scan)
		if errors.Is(err, database.ErrNoRows) || (err == nil && !sees(p, m.OwnerID)) {
			return notFound("file")
		}
		if err != nil {
			return fmt.Errorf("presentation: media: %w", err)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM presentation_slides WHERE media_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("presentation: media slides: %w", err)
		}
		if n > 0 {
			return fail(CodeMediaInUse, "", fmt.Sprintf("%d slides show this file: remove it from them first", n))
		}
		if _, err := tx.Exec(ctx, `DELETE FROM presentation_media WHERE id = ?`, id); err != nil {
			if database.IsForeignKeyViolation(err) { // a slide added meanwhile
				return fail(CodeMediaInUse, "", "a slide shows this file: remove it from the slide first")
			}
			return fmt.Errorf("presentation: delete media: %w", err)
		}
		if m.blobKey != "media/"+m.ID {
			// A blob named by its hash (files stored before blobs were one
			// per file) may be another row's too.
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM presentation_media WHERE blob_key = ?`, m.blobKey).Scan(&shared); err != nil {
				return fmt.Errorf("presentation: delete media: %w", err)
			}
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "presentation.media_deleted", TargetType: "presentation_media", TargetID: id,
			Before: map[string]any{"owner_id": m.OwnerID, "content_type": m.ContentType, "size_bytes": m.SizeBytes}})
	})
	if err != nil {
		return err
	}
	if shared == 0 {
		s.removeBlob(ctx, m.blobKey)
	}
	return nil
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
// media_not_found for anyone else and for a file missing from the store.
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
		e := notFound("file")
		e.Err = err
		return nil, nil, e
	}
	if err != nil {
		return nil, nil, apperr.Wrap(err, apperr.Unavailable, "the file cannot be read now; try again")
	}
	return m, r, nil
}
