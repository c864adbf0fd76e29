package presentation_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"mitra/internal/insurance/presentation"
	"mitra/internal/insurance/presentation/presentationtest"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/blob"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/ids"
)

func TestSniff(t *testing.T) {
	cases := []struct {
		name      string
		data      []byte
		kind, typ string
	}{
		{"png", presentationtest.PNG(300, 300), "image", "image/png"},
		{"jpeg", presentationtest.JPEG(300, 300), "image", "image/jpeg"},
		{"webp", presentationtest.WebP(300, 300), "image", "image/webp"},
		{"mp4 isom", presentationtest.MP4("isom", 2000), "video", "video/mp4"},
		{"mp4 mp42", presentationtest.MP4("mp42", 2000), "video", "video/mp4"},
		{"quicktime", presentationtest.MP4("qt  ", 2000), "", ""},
		{"heic", presentationtest.MP4("heic", 2000), "", ""},
		{"avif", presentationtest.MP4("avif", 2000), "", ""},
		{"m4a audio", presentationtest.MP4("M4A ", 2000), "", ""},
		{"html", presentationtest.HTML, "", ""},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "", ""},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "", ""},
		{"pdf", []byte("%PDF-1.7\n1 0 obj"), "", ""},
		{"text", []byte("hello"), "", ""},
		{"ftyp with a bad size", append([]byte{0, 0, 0, 7}, presentationtest.MP4("isom", 100)[4:]...), "", ""},
		{"ftyp too short", []byte("\x00\x00\x00\x18ftypisom"), "", ""},
		{"empty", nil, "", ""},
	}
	for _, c := range cases {
		kind, typ, ok := presentation.Sniff(c.data)
		if ok != (c.kind != "") || (ok && (kind != c.kind || typ != c.typ)) {
			t.Errorf("%s: got %q %q %v, want %q %q", c.name, kind, typ, ok, c.kind, c.typ)
		}
	}
}

// Whatever the bytes, Sniff accepts only the four types, with their kind.
func FuzzSniff(f *testing.F) {
	f.Add(presentationtest.PNG(2, 2))
	f.Add(presentationtest.WebP(300, 300))
	f.Add(presentationtest.MP4("isom", 64))
	f.Add(presentationtest.MP4("qt  ", 64))
	f.Add(presentationtest.HTML)
	f.Add([]byte{})
	want := map[string]string{"image/jpeg": "image", "image/png": "image", "image/webp": "image", "video/mp4": "video"}
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, typ, ok := presentation.Sniff(b)
		if ok && want[typ] != kind {
			t.Fatalf("accepted %q as %q", typ, kind)
		}
		if !ok && kind != "" {
			t.Fatalf("refused with a kind %q", kind)
		}
	})
}

func code(err error) apperr.Code { return apperr.CodeOf(err) }

// field returns the location of err's first field error.
func field(err error) string {
	if e, ok := apperr.As(err); ok && len(e.Fields) > 0 {
		return e.Fields[0].Location
	}
	return ""
}

func upload(ctx context.Context, s *presentation.Service, data []byte, agentID string) (*presentation.Media, bool, error) {
	return s.Upload(ctx, presentation.Upload{AgentID: agentID, File: bytes.NewReader(data), Size: int64(len(data))})
}

func TestUploadRules(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		png := presentationtest.PNG(400, 300)
		m, created, err := upload(e.agent, e.svc, png, "")
		if err != nil || !created || m.Kind != "image" || m.ContentType != "image/png" || m.Width != 400 || m.Height != 300 ||
			m.SizeBytes != int64(len(png)) || len(m.SHA256) != 64 || m.OwnerID != e.agentID || m.URL != "/api/v1/presentations/media/"+m.ID {
			t.Fatalf("png: %+v %v %v", m, created, err)
		}
		// Stored in a blob of its own, with its type.
		a, err := e.blobs.Attributes(ctx, "media/"+m.ID)
		if err != nil || a.ContentType != "image/png" || a.Size != int64(len(png)) {
			t.Fatalf("blob: %+v %v", a, err)
		}
		// The same bytes again: the same file.
		again, created, err := upload(e.agent, e.svc, png, "")
		if err != nil || created || again.ID != m.ID {
			t.Fatalf("again: %+v %v %v", again, created, err)
		}
		// Another agent's copy is theirs, with its own blob (deleting one
		// never touches the other).
		theirs, created, err := upload(e.other, e.svc, png, "")
		if err != nil || !created || theirs.ID == m.ID || theirs.OwnerID != e.otherID {
			t.Fatalf("other agent's copy: %+v %v %v", theirs, created, err)
		}
		if n := blobCount(t, e.blobDir); n != 2 {
			t.Fatalf("blobs after two owners uploaded the same bytes: %d", n)
		}
		for _, c := range []struct {
			name  string
			data  []byte
			code  apperr.Code
			field string
		}{
			{"html", presentationtest.HTML, presentation.CodeMediaType, "body.file"},
			{"quicktime", presentationtest.MP4("qt  ", 4096), presentation.CodeMediaType, "body.file"},
			{"empty", nil, apperr.Invalid, "body.file"},
			{"image too large", presentationtest.Padded(presentationtest.PNG(300, 300), presentation.MaxImageBytes+1), presentation.CodeMediaTooLarge, "body.file"},
			{"too small", presentationtest.PNG(199, 300), presentation.CodeImageDimensions, "body.file"},
			{"too wide", presentationtest.PNG(4097, 200), presentation.CodeImageDimensions, "body.file"},
			{"webp too tall", presentationtest.WebP(300, 5000), presentation.CodeImageDimensions, "body.file"},
			{"broken png header", append(append([]byte{}, png[:8]...), bytes.Repeat([]byte{0xff}, 100)...), presentation.CodeMediaUnreadable, "body.file"},
			{"broken jpeg header", append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{0x00}, 100)...), presentation.CodeMediaUnreadable, "body.file"},
		} {
			_, _, err := upload(e.agent, e.svc, c.data, "")
			if code(err) != c.code || field(err) != c.field {
				t.Errorf("%s: %v (field %q), want %s on %s", c.name, err, field(err), c.code, c.field)
			}
			if e, ok := apperr.As(err); ok && e.HTTPStatus() == 500 {
				t.Errorf("%s: status 500", c.name)
			}
		}
		// A large video is fine; a video over its own limit is not.
		v, created, err := upload(e.agent, e.svc, presentationtest.MP4("isom", 3<<20), "")
		if err != nil || !created || v.Kind != "video" || v.ContentType != "video/mp4" || v.Width != 0 {
			t.Fatalf("video: %+v %v", v, err)
		}
		if _, _, err := upload(e.agent, e.svc, presentationtest.MP4("isom", presentation.MaxVideoBytes+1), ""); code(err) != presentation.CodeMediaTooLarge {
			t.Fatalf("video over the limit: %v", err)
		}
		// The declared size is not trusted: a short count is caught while hashing.
		big := presentationtest.Padded(presentationtest.PNG(300, 300), presentation.MaxImageBytes+10)
		if _, _, err := e.svc.Upload(e.agent, presentation.Upload{File: bytes.NewReader(big), Size: 1000}); code(err) != presentation.CodeMediaTooLarge {
			t.Fatalf("understated size: %v", err)
		}
		// WebP and JPEG decode.
		if m, _, err := upload(e.agent, e.svc, presentationtest.WebP(640, 480), ""); err != nil || m.Width != 640 || m.ContentType != "image/webp" {
			t.Fatalf("webp: %+v %v", m, err)
		}
		if m, _, err := upload(e.agent, e.svc, presentationtest.JPEG(320, 240), ""); err != nil || m.Height != 240 || m.ContentType != "image/jpeg" {
			t.Fatalf("jpeg: %+v %v", m, err)
		}

		// Who may upload for whom.
		if _, _, err := upload(e.agent, e.svc, png, e.otherID); code(err) != presentation.CodeAgentNotFound {
			t.Fatalf("agent uploading for another: %v", err)
		}
		if _, _, err := upload(e.admin, e.svc, png, ""); code(err) != apperr.Invalid || field(err) != "body.agent_id" {
			t.Fatalf("admin without agent: %v", err)
		}
		if _, _, err := upload(e.admin, e.svc, png, e.memberID); code(err) != presentation.CodeAgentNotFound {
			t.Fatalf("admin for a member: %v", err)
		}
		if m, _, err := upload(e.admin, e.svc, presentationtest.PNG(500, 500), e.agentID); err != nil || m.OwnerID != e.agentID {
			t.Fatalf("admin for an agent: %+v %v", m, err)
		}
		if _, _, err := upload(e.staff, e.svc, png, ""); code(err) != presentation.CodeNotAnAgent {
			t.Fatalf("provider admin: %v", err)
		}
		if _, _, err := upload(ctx, e.svc, png, ""); code(err) != apperr.Unauthorized {
			t.Fatalf("anonymous: %v", err)
		}

		// Reading: the owner and administrators.
		_, r, err := e.svc.OpenMedia(e.agent, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, png) {
			t.Fatal("stored bytes differ")
		}
		if _, r, err := e.svc.OpenMedia(e.admin, m.ID); err != nil {
			t.Fatalf("admin read: %v", err)
		} else {
			r.Close()
		}
		for name, ctx := range map[string]context.Context{"other agent": e.other, "provider admin": e.staff, "member": e.member} {
			if _, _, err := e.svc.OpenMedia(ctx, m.ID); code(err) != presentation.CodeMediaNotFound {
				t.Errorf("%s read: %v", name, err)
			}
		}
		// A file lost from the store is not found, not a crash.
		if err := e.blobs.Delete(ctx, "media/"+v.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.OpenMedia(e.agent, v.ID); code(err) != presentation.CodeMediaNotFound {
			t.Fatalf("lost blob: %v", err)
		}
	})
}

type failingBlobReader struct{ io.ReadSeeker }

func (failingBlobReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

// A read failure of the upload is an internal error, not a verdict on the file.
func TestUploadReadFailure(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t))
	_, _, err := e.svc.Upload(e.agent, presentation.Upload{File: failingBlobReader{strings.NewReader("")}, Size: 10})
	if err == nil || code(err) != apperr.Internal {
		t.Fatalf("read failure: %v", err)
	}
}

// blobCount is the number of files in the blob store's directory (their
// attribute sidecars aside).
func blobCount(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(path, ".attrs") {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mediaRows(t *testing.T, db *database.DB, owner string) (n int, bytes int64) {
	t.Helper()
	if err := db.QueryRow(context.Background(), `SELECT count(*), COALESCE(SUM(size_bytes), 0) FROM presentation_media WHERE owner_id = ?`, owner).Scan(&n, &bytes); err != nil {
		t.Fatal(err)
	}
	return n, bytes
}

// An agent's files stay within the quota; refused uploads leave no blob;
// deleting a file makes room; the same bytes again are not counted twice.
func TestMediaQuota(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		imgs := [][]byte{presentationtest.PNG(300, 300), presentationtest.PNG(301, 300), presentationtest.PNG(302, 300), presentationtest.PNG(303, 300)}
		e.svc.MediaQuota = int64(len(imgs[1]) + max(len(imgs[0]), len(imgs[2])))
		first, _, err := upload(e.agent, e.svc, imgs[0], "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := upload(e.agent, e.svc, imgs[1], ""); err != nil {
			t.Fatal(err)
		}
		_, _, err = upload(e.agent, e.svc, imgs[2], "")
		if ae, ok := apperr.As(err); !ok || ae.Code != presentation.CodeMediaQuota || ae.HTTPStatus() != 413 || field(err) != "body.file" {
			t.Fatalf("over the quota: %v", err)
		}
		if n := blobCount(t, e.blobDir); n != 2 {
			t.Fatalf("a refused upload left a blob: %d blobs", n)
		}
		// The same bytes again: the stored file, not counted twice.
		if again, created, err := upload(e.agent, e.svc, imgs[0], ""); err != nil || created || again.ID != first.ID {
			t.Fatalf("same bytes at the quota: %+v %v %v", again, created, err)
		}
		// Another agent has a quota of their own.
		if _, _, err := upload(e.other, e.svc, imgs[2], ""); err != nil {
			t.Fatalf("another agent: %v", err)
		}
		// Deleting a file makes room.
		if err := e.svc.DeleteMedia(e.agent, first.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := upload(e.agent, e.svc, imgs[2], ""); err != nil {
			t.Fatalf("after a delete: %v", err)
		}

		// Uploads at the same moment cannot all fit: the quota holds.
		e.svc.MediaQuota = 3*int64(len(imgs[3])) + 10
		before, _ := mediaRows(t, db, e.otherID)
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, errs[i] = upload(e.other, e.svc, presentationtest.PNG(400+i, 300), "")
			}()
		}
		wg.Wait()
		refused := 0
		for _, err := range errs {
			switch {
			case err == nil:
			case code(err) == presentation.CodeMediaQuota:
				refused++
			default:
				t.Fatalf("concurrent upload: %v", err)
			}
		}
		n, used := mediaRows(t, db, e.otherID)
		if used > e.svc.MediaQuota || refused == 0 || n != before+len(errs)-refused {
			t.Fatalf("concurrent uploads: %d files, %d bytes of %d, %d refused", n, used, e.svc.MediaQuota, refused)
		}
		if rows, _ := mediaRows(t, db, e.agentID); blobCount(t, e.blobDir) != rows+n {
			t.Fatalf("blobs %d, rows %d", blobCount(t, e.blobDir), rows+n)
		}
	})
}

// When the row cannot be written, the blob written before it is removed.
func TestUploadFailureLeavesNoBlob(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		stmts := []string{`CREATE TRIGGER media_boom BEFORE INSERT ON presentation_media BEGIN SELECT RAISE(ABORT, 'boom'); END`}
		if db.Dialect() == database.Postgres {
			stmts = []string{`CREATE FUNCTION media_boom() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER media_boom BEFORE INSERT ON presentation_media FOR EACH ROW EXECUTE FUNCTION media_boom()`}
		}
		for _, q := range stmts {
			if _, err := db.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err := upload(e.agent, e.svc, presentationtest.PNG(300, 300), "")
		if err == nil || code(err) != apperr.Internal {
			t.Fatalf("insert failure: %v", err)
		}
		if n := blobCount(t, e.blobDir); n != 0 {
			t.Fatalf("a failed upload left %d blobs", n)
		}
	})
}

func TestDeleteMedia(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		img, _, err := upload(e.agent, e.svc, presentationtest.PNG(300, 300), "")
		if err != nil {
			t.Fatal(err)
		}
		shown, _, err := upload(e.agent, e.svc, presentationtest.PNG(310, 300), "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.svc.Create(e.agent, presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t",
			Slides: []presentation.SlideInput{{Type: "image", MediaID: shown.ID}}}})
		if err != nil {
			t.Fatal(err)
		}
		// Nobody else: not found.
		for name, c := range map[string]context.Context{"other agent": e.other, "provider admin": e.staff, "member": e.member} {
			if err := e.svc.DeleteMedia(c, img.ID); code(err) != presentation.CodeMediaNotFound {
				t.Errorf("%s: %v", name, err)
			}
		}
		for _, id := range []string{"nope", ids.New()} {
			if err := e.svc.DeleteMedia(e.agent, id); code(err) != presentation.CodeMediaNotFound {
				t.Errorf("%s: %v", id, err)
			}
		}
		if err := e.svc.DeleteMedia(ctx, img.ID); code(err) != apperr.Unauthorized {
			t.Errorf("anonymous: %v", err)
		}
		// A file a slide shows stays.
		err = e.svc.DeleteMedia(e.agent, shown.ID)
		if ae, ok := apperr.As(err); !ok || ae.Code != presentation.CodeMediaInUse || ae.HTTPStatus() != 409 {
			t.Fatalf("in use: %v", err)
		}
		// The owner deletes: row and blob go, audited.
		if err := e.svc.DeleteMedia(e.agent, img.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.blobs.Attributes(ctx, "media/"+img.ID); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("blob after delete: %v", err)
		}
		if _, _, err := e.svc.OpenMedia(e.agent, img.ID); code(err) != presentation.CodeMediaNotFound {
			t.Fatalf("read after delete: %v", err)
		}
		if err := e.svc.DeleteMedia(e.agent, img.ID); code(err) != presentation.CodeMediaNotFound {
			t.Fatalf("deleted twice: %v", err)
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'presentation.media_deleted' AND target_id = ? AND actor_id = ?`, img.ID, e.agentID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("audit: %d %v", n, err)
		}
		// Once no slide shows it, an administrator may delete it.
		if _, err := e.svc.Update(e.agent, p.ID, presentation.PresentationInput{Title: "t"}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteMedia(e.admin, shown.ID); err != nil {
			t.Fatalf("admin delete: %v", err)
		}
		// A slide naming a file deleted since is refused on its field.
		if _, err := e.svc.Update(e.agent, p.ID, presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{{Type: "image", MediaID: shown.ID}}}); field(err) != "body.slides[0].media_id" {
			t.Fatalf("slide with a deleted file: %v", err)
		}
	})
}
