package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"mitra/internal/auth"
	"mitra/internal/auth/authtest"
	"mitra/internal/insurance/presentation"
	"mitra/internal/insurance/presentation/presentationtest"
	"mitra/internal/platform/blob"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
)

// carouselQuota, when set, is the media quota of the services
// presentationService makes (tests set it before building a server).
var carouselQuota int64

// presentationService is the carousel on db with its files in a temporary
// directory and the test's clock.
func presentationService(t *testing.T, db *database.DB, e *authtest.Env) *presentation.Service {
	t.Helper()
	u, err := blob.FileURL(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bs, err := blob.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	svc := presentation.NewService(db, bs, e.Clock.Now)
	svc.MediaQuota = carouselQuota
	e.Svc.RegisterDataSource(svc)
	return svc
}

type carouselUser struct{ token, id string }

// carousel is a running server (uploads need a real one: it removes the
// multipart temporary files) with two agents, an administrator, a
// provider administrator and a member.
type carousel struct {
	t                                *testing.T
	srv                              *httptest.Server
	e                                *authtest.Env
	agent, other, adm, staff, member carouselUser
	anon                             carouselUser
}

func newCarousel(t *testing.T, db *database.DB) *carousel {
	t.Helper()
	s, e := newServerEnv(t, db, nil, authtest.Memory)
	c := &carousel{t: t, srv: httptest.NewServer(s), e: e}
	t.Cleanup(c.srv.Close)
	adm := admin(t, s, e, "carousel-admin@example.com")
	_, me := adm.do(http.MethodGet, "/api/v1/auth/me", nil)
	c.adm = carouselUser{adm.token, me["id"].(string)}
	promote := func(email, role, ip string) carouselUser {
		t.Helper()
		_, id := signUp(t, s, email)
		if role != "member" && role != "agent" { // agents are made by approval, below
			if w, b := adm.do(http.MethodPut, "/api/v1/users/"+id, map[string]string{"role": role}); w.Code != 200 {
				t.Fatalf("make %s %s: %d %v", email, role, w.Code, b)
			}
		}
		if role == "agent" {
			// Approval (package insurance) gives an agent the code that
			// lets them sign in; the identity adapter does just that.
			if err := e.DB.InTx(t.Context(), func(tx *database.Tx) error {
				if _, err := tx.Exec(t.Context(), `UPDATE users SET role = 'agent' WHERE id = ?`, id); err != nil {
					return err
				}
				return auth.AgentAccounts{S: e.Svc}.SetAgentCode(t.Context(), tx, id, "AG"+strings.ToUpper(id[len(id)-8:]))
			}); err != nil {
				t.Fatal(err)
			}
		}
		cl := client{t: t, h: s, ip: ip}
		w, b := cl.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"identifier": email, "password": "correct horse battery"})
		if w.Code != 200 {
			t.Fatalf("login %s: %d %v", email, w.Code, b)
		}
		return carouselUser{b["access_token"].(string), id}
	}
	c.agent = promote("agent-a@example.com", "agent", "198.51.100.91")
	c.other = promote("agent-b@example.com", "agent", "198.51.100.92")
	c.staff = promote("provider-admin@example.com", "provider_admin", "198.51.100.93")
	c.member = promote("member@example.com", "member", "198.51.100.94")
	return c
}

// call sends a JSON request as u and returns the status, the decoded body
// and the headers.
func (c *carousel) call(u carouselUser, method, path string, body any) (int, map[string]any, http.Header) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(u, req)
}

func (c *carousel) send(u carouselUser, req *http.Request) (int, map[string]any, http.Header) {
	c.t.Helper()
	if u.token != "" {
		req.Header.Set("Authorization", "Bearer "+u.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if strings.Contains(resp.Header.Get("Content-Type"), "json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			c.t.Fatalf("%s %s: invalid JSON: %s", req.Method, req.URL.Path, raw)
		}
	}
	return resp.StatusCode, m, resp.Header
}

// upload sends data as the multipart field file, named filename and
// declared as contentType, with extra form fields (name, value, ...).
func (c *carousel) upload(u carouselUser, filename, contentType string, data []byte, fields ...string) (int, map[string]any) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = mw.WriteField(fields[i], fields[i+1])
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	h.Set("Content-Type", contentType)
	part, _ := mw.CreatePart(h)
	_, _ = part.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+"/api/v1/presentations/media/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	code, m, _ := c.send(u, req)
	return code, m
}

// problem checks a problem answer: status, code and, when given, a field.
func (c *carousel) problem(what string, status int, body map[string]any, wantStatus int, wantCode, wantField string) {
	c.t.Helper()
	if status != wantStatus || body["code"] != wantCode {
		c.t.Errorf("%s: %d %v, want %d %s", what, status, body, wantStatus, wantCode)
		return
	}
	if wantField == "" {
		return
	}
	errs, _ := body["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["location"] == wantField {
			return
		}
	}
	c.t.Errorf("%s: errors %v, want one on %s", what, errs, wantField)
}

func slideIDsOf(list []any, key string) []string {
	var out []string
	for _, x := range list {
		out = append(out, x.(map[string]any)[key].(string))
	}
	return out
}

func TestPresentationCRUDOverHTTP(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		c := newCarousel(t, db)
		// Templates: every holder of book:work.
		code, b, _ := c.call(c.agent, http.MethodGet, "/api/v1/presentations/templates", nil)
		tpls, _ := b["templates"].([]any)
		if code != 200 || len(tpls) < 3 || tpls[0].(map[string]any)["name"] != "Term plan basics" {
			t.Fatalf("templates: %d %v", code, b)
		}
		tplID := tpls[0].(map[string]any)["id"].(string)
		for _, who := range []carouselUser{c.staff, c.adm} {
			if code, _, _ := c.call(who, http.MethodGet, "/api/v1/presentations/templates", nil); code != 200 {
				t.Errorf("templates as staff/admin: %d", code)
			}
		}
		code, b, _ = c.call(c.member, http.MethodGet, "/api/v1/presentations/templates", nil)
		c.problem("templates as member", code, b, 403, "forbidden", "")
		code, b, _ = c.call(c.anon, http.MethodGet, "/api/v1/presentations/templates", nil)
		c.problem("templates anonymously", code, b, 401, "unauthorized", "")

		// Create from a template.
		code, p, _ := c.call(c.agent, http.MethodPost, "/api/v1/presentations", map[string]any{"template_id": tplID})
		if code != 201 || p["title"] != "Term plan basics" || p["template_id"] != tplID || p["agent_id"] != c.agent.id || p["active"] != false || len(p["slides"].([]any)) != 5 {
			t.Fatalf("from template: %d %v", code, p)
		}
		pid := p["id"].(string)

		// Each rule answers 422 with the field at fault.
		slide := func(o map[string]any) map[string]any { return map[string]any{"type": "text", "overlay": o} }
		many := make([]any, 21)
		for i := range many {
			many[i] = slide(map[string]any{"text": "x"})
		}
		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"bad colour", map[string]any{"title": "t", "slides": []any{slide(map[string]any{"text": "x", "text_color": "#FFF"})}}, "body.slides[0].overlay.text_color"},
			{"named colour", map[string]any{"title": "t", "slides": []any{slide(map[string]any{"text": "x", "background_color": "red"})}}, "body.slides[0].overlay.background_color"},
			{"font size", map[string]any{"title": "t", "slides": []any{slide(map[string]any{"text": "x", "font_size": 200})}}, "body.slides[0].overlay.font_size"},
			{"position", map[string]any{"title": "t", "slides": []any{slide(map[string]any{"text": "x", "position": "middle"})}}, "body.slides[0].overlay.position"},
			{"slide type", map[string]any{"title": "t", "slides": []any{map[string]any{"type": "gif"}}}, "body.slides[0].type"},
			{"text slide without overlay", map[string]any{"title": "t", "slides": []any{map[string]any{"type": "text"}}}, "body.slides[0].overlay"},
			{"image slide without file", map[string]any{"title": "t", "slides": []any{map[string]any{"type": "image"}}}, "body.slides[0].media_id"},
			{"ends before it starts", map[string]any{"title": "t", "starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z"}, "body.ends_at"},
			{"too many slides", map[string]any{"title": "t", "slides": many}, "body.slides"},
			{"no title", map[string]any{"slides": []any{slide(map[string]any{"text": "x"})}}, "body.title"},
			{"unknown template", map[string]any{"template_id": "01936f6e-8a00-7000-8000-0000000000ff"}, "body.template_id"},
			{"owner chosen by the client", map[string]any{"title": "t", "owner_id": c.other.id}, "body.owner_id"},
		} {
			code, b, _ := c.call(c.agent, http.MethodPost, "/api/v1/presentations", tc.body)
			c.problem(tc.name, code, b, 422, "invalid", tc.field)
		}

		// Ownership: another agent and a provider admin are told it does not exist.
		for who, u := range map[string]carouselUser{"other agent": c.other, "provider admin": c.staff} {
			for _, r := range []struct {
				method, path string
				body         any
				code         string
			}{
				{http.MethodGet, "/api/v1/presentations/" + pid, nil, "presentation_not_found"},
				{http.MethodPut, "/api/v1/presentations/" + pid, map[string]any{"title": "mine now"}, "presentation_not_found"},
				{http.MethodDelete, "/api/v1/presentations/" + pid, nil, "presentation_not_found"},
				{http.MethodPost, "/api/v1/presentations/" + pid + "/reorder", map[string]any{"slide_ids": []string{}}, "presentation_not_found"},
				{http.MethodPost, "/api/v1/presentations/" + pid + "/activate", nil, "presentation_not_found"},
				{http.MethodPost, "/api/v1/presentations/" + pid + "/deactivate", nil, "presentation_not_found"},
				{http.MethodGet, "/api/v1/presentations/agent/" + c.agent.id + "/active", nil, "agent_not_found"},
				{http.MethodGet, "/api/v1/presentations?agent_id=" + c.agent.id, nil, "agent_not_found"},
			} {
				code, b, _ := c.call(u, r.method, r.path, r.body)
				c.problem(who+" "+r.method+" "+r.path, code, b, 404, r.code, "")
			}
		}
		code, b, _ = c.call(c.member, http.MethodGet, "/api/v1/presentations/"+pid, nil)
		c.problem("member get", code, b, 403, "forbidden", "")
		code, b, _ = c.call(c.staff, http.MethodGet, "/api/v1/presentations", nil)
		c.problem("provider admin list", code, b, 403, "not_an_agent", "")
		code, b, _ = c.call(c.other, http.MethodPost, "/api/v1/presentations", map[string]any{"title": "for a", "agent_id": c.agent.id})
		c.problem("creating for another agent", code, b, 404, "agent_not_found", "")

		// Lists: the agent's own; administrators anyone's.
		if code, _, _ := c.call(c.other, http.MethodPost, "/api/v1/presentations", map[string]any{"title": "b's"}); code != 201 {
			t.Fatalf("other agent create: %d", code)
		}
		code, b, _ = c.call(c.agent, http.MethodGet, "/api/v1/presentations", nil)
		if list := b["presentations"].([]any); code != 200 || len(list) != 1 || list[0].(map[string]any)["id"] != pid || list[0].(map[string]any)["slide_count"] != 5.0 {
			t.Fatalf("own list: %d %v", code, b)
		}
		code, b, _ = c.call(c.adm, http.MethodGet, "/api/v1/presentations", nil)
		if code != 200 || len(b["presentations"].([]any)) != 2 {
			t.Fatalf("admin list: %d %v", code, b)
		}
		code, b, _ = c.call(c.adm, http.MethodGet, "/api/v1/presentations?agent_id="+c.other.id, nil)
		if list := b["presentations"].([]any); code != 200 || len(list) != 1 || list[0].(map[string]any)["agent_id"] != c.other.id {
			t.Fatalf("admin list of one agent: %d %v", code, b)
		}
		if code, got, _ := c.call(c.adm, http.MethodGet, "/api/v1/presentations/"+pid, nil); code != 200 || got["id"] != pid {
			t.Fatalf("admin get: %d", code)
		}
		code, b, _ = c.call(c.adm, http.MethodPost, "/api/v1/presentations", map[string]any{"title": "t"})
		c.problem("admin create without agent", code, b, 422, "invalid", "body.agent_id")
		code, b, _ = c.call(c.adm, http.MethodPost, "/api/v1/presentations", map[string]any{"title": "t", "agent_id": c.member.id})
		c.problem("admin create for a member", code, b, 404, "agent_not_found", "")
		if code, b, _ := c.call(c.adm, http.MethodPost, "/api/v1/presentations", map[string]any{"title": "from the office", "agent_id": c.agent.id}); code != 201 || b["agent_id"] != c.agent.id {
			t.Fatalf("admin create for an agent: %d %v", code, b)
		}

		// Reorder.
		slides := slideIDsOf(p["slides"].([]any), "id")
		order := []string{slides[4], slides[0], slides[1], slides[2], slides[3]}
		code, b, _ = c.call(c.agent, http.MethodPost, "/api/v1/presentations/"+pid+"/reorder", map[string]any{"slide_ids": order})
		if got := slideIDsOf(b["slides"].([]any), "id"); code != 200 || strings.Join(got, ",") != strings.Join(order, ",") {
			t.Fatalf("reorder: %d %v", code, b)
		}
		code, b, _ = c.call(c.agent, http.MethodPost, "/api/v1/presentations/"+pid+"/reorder", map[string]any{"slide_ids": order[:4]})
		c.problem("reorder missing a slide", code, b, 422, "invalid", "body.slide_ids")
		code, b, _ = c.call(c.agent, http.MethodPost, "/api/v1/presentations/"+pid+"/reorder", map[string]any{"slide_ids": []string{order[0], order[0], order[1], order[2], order[3]}})
		c.problem("reorder with a slide twice", code, b, 422, "invalid", "body.slide_ids")

		// Update keeps the slides sent with their id.
		code, b, _ = c.call(c.agent, http.MethodPut, "/api/v1/presentations/"+pid, map[string]any{"title": "My term plans", "description": "for young parents",
			"slides": []any{map[string]any{"id": order[0], "type": "text", "overlay": map[string]any{"text": "Edited", "text_color": "#00ff00"}}, slide(map[string]any{"text": "New"})}})
		got := b["slides"].([]any)
		if code != 200 || b["title"] != "My term plans" || len(got) != 2 || got[0].(map[string]any)["id"] != order[0] ||
			got[0].(map[string]any)["overlay"].(map[string]any)["text_color"] != "#00FF00" {
			t.Fatalf("update: %d %v", code, b)
		}
		code, b, _ = c.call(c.agent, http.MethodPut, "/api/v1/presentations/"+pid, map[string]any{"title": "t", "slides": []any{map[string]any{"id": order[3], "type": "text", "overlay": map[string]any{"text": "x"}}}})
		c.problem("update with a dropped slide's id", code, b, 422, "invalid", "body.slides[0].id")

		// Delete.
		code, b, _ = c.call(c.other, http.MethodDelete, "/api/v1/presentations/"+pid, nil)
		c.problem("other agent delete", code, b, 404, "presentation_not_found", "")
		if code, _, _ := c.call(c.agent, http.MethodDelete, "/api/v1/presentations/"+pid, nil); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		code, b, _ = c.call(c.agent, http.MethodGet, "/api/v1/presentations/"+pid, nil)
		c.problem("after delete", code, b, 404, "presentation_not_found", "")

		// Audited.
		code, b, _ = c.call(c.adm, http.MethodGet, "/api/v1/audit?action=presentation.&limit=100", nil)
		actions := map[string]bool{}
		for _, en := range b["entries"].([]any) {
			actions[en.(map[string]any)["action"].(string)] = true
		}
		if code != 200 || !actions["presentation.created"] || !actions["presentation.deleted"] || !actions["presentation.updated"] {
			t.Fatalf("audit: %d %v", code, actions)
		}
	})
}

func TestPresentationMediaOverHTTP(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		c := newCarousel(t, db)
		png := presentationtest.PNG(640, 360)

		// The type comes from the bytes: a PNG named .mp4 is a PNG ...
		code, m := c.upload(c.agent, "clip.mp4", "video/mp4", png)
		if code != 201 || m["content_type"] != "image/png" || m["kind"] != "image" || m["width"] != 640.0 || m["height"] != 360.0 || m["owner_id"] != c.agent.id {
			t.Fatalf("png named .mp4: %d %v", code, m)
		}
		img := m["id"].(string)
		// ... and a page named .jpg is refused.
		code, m = c.upload(c.agent, "photo.jpg", "image/jpeg", presentationtest.HTML)
		c.problem("html named .jpg", code, m, 415, "media_type_not_allowed", "body.file")
		code, m = c.upload(c.agent, "movie.mov", "video/quicktime", presentationtest.MP4("qt  ", 4096))
		c.problem("quicktime", code, m, 415, "media_type_not_allowed", "body.file")
		code, m = c.upload(c.agent, "tiny.png", "image/png", presentationtest.PNG(120, 120))
		c.problem("too small", code, m, 422, "image_dimensions", "body.file")
		code, m = c.upload(c.agent, "wide.png", "image/png", presentationtest.PNG(4100, 200))
		c.problem("too wide", code, m, 422, "image_dimensions", "body.file")
		code, m = c.upload(c.agent, "big.png", "image/png", presentationtest.Padded(png, presentation.MaxImageBytes+1))
		c.problem("image over 10 MiB", code, m, 413, "media_too_large", "body.file")
		code, m = c.upload(c.agent, "broken.png", "image/png", append(append([]byte{}, png[:8]...), bytes.Repeat([]byte{1}, 64)...))
		c.problem("broken image", code, m, 422, "media_unreadable", "body.file")
		// A declared body over the upload limit is refused before it is read.
		req, _ := http.NewRequest(http.MethodPost, c.srv.URL+"/api/v1/presentations/media/upload", io.LimitReader(zeroReader{}, presentation.MaxUploadBytes+1))
		req.ContentLength = presentation.MaxUploadBytes + 1
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		code, m, _ = c.send(c.agent, req)
		c.problem("body over the upload limit", code, m, 413, "payload_too_large", "")
		code, m = c.upload(c.agent, "nothing.png", "image/png", nil)
		c.problem("empty file", code, m, 422, "invalid", "body.file")

		// A video larger than the ordinary body limit.
		mp4 := presentationtest.MP4("isom", 2<<20)
		code, m = c.upload(c.agent, "video.bin", "application/octet-stream", mp4)
		if code != 201 || m["content_type"] != "video/mp4" || m["kind"] != "video" || m["size_bytes"] != float64(len(mp4)) {
			t.Fatalf("mp4: %d %v", code, m)
		}
		vid := m["id"].(string)
		// The same bytes again: the same file, 200.
		if code, m := c.upload(c.agent, "again.png", "image/png", png); code != 200 || m["id"] != img {
			t.Fatalf("same file again: %d %v", code, m)
		}
		// Who uploads for whom.
		code, m = c.upload(c.adm, "a.png", "image/png", png)
		c.problem("admin without agent_id", code, m, 422, "invalid", "body.agent_id")
		if code, m := c.upload(c.adm, "a.png", "image/png", presentationtest.JPEG(300, 300), "agent_id", c.agent.id); code != 201 || m["owner_id"] != c.agent.id || m["content_type"] != "image/jpeg" {
			t.Fatalf("admin for an agent: %d %v", code, m)
		}
		code, m = c.upload(c.other, "a.png", "image/png", png, "agent_id", c.agent.id)
		c.problem("agent uploading for another", code, m, 404, "agent_not_found", "")
		code, m = c.upload(c.staff, "a.png", "image/png", png)
		c.problem("provider admin upload", code, m, 403, "not_an_agent", "")
		code, m = c.upload(c.member, "a.png", "image/png", png)
		c.problem("member upload", code, m, 403, "forbidden", "")
		code, m = c.upload(c.anon, "a.png", "image/png", png)
		c.problem("anonymous upload", code, m, 401, "unauthorized", "")

		// Serving: type, caching, validators, ranges.
		req, _ = http.NewRequest(http.MethodGet, c.srv.URL+"/api/v1/presentations/media/"+img, nil)
		req.Header.Set("Authorization", "Bearer "+c.agent.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || !bytes.Equal(body, png) || resp.Header.Get("Content-Type") != "image/png" ||
			resp.Header.Get("Cache-Control") != "private, max-age=31536000, immutable" || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
			len(etag) != 66 || resp.Header.Get("Content-Length") != fmt.Sprint(len(png)) {
			t.Fatalf("media: %d %v", resp.StatusCode, resp.Header)
		}
		req.Header.Set("If-None-Match", etag)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 304 {
			t.Fatalf("If-None-Match: %d", resp.StatusCode)
		}
		req, _ = http.NewRequest(http.MethodGet, c.srv.URL+"/api/v1/presentations/media/"+vid, nil)
		req.Header.Set("Authorization", "Bearer "+c.agent.token)
		req.Header.Set("Range", "bytes=100-199")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 206 || !bytes.Equal(body, mp4[100:200]) || resp.Header.Get("Content-Type") != "video/mp4" ||
			resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(mp4)) {
			t.Fatalf("range: %d %v", resp.StatusCode, resp.Header)
		}
		if code, _, _ := c.call(c.adm, http.MethodGet, "/api/v1/presentations/media/"+img, nil); code != 200 {
			t.Fatalf("admin read: %d", code)
		}
		for who, u := range map[string]carouselUser{"other agent": c.other, "provider admin": c.staff} {
			code, b, _ := c.call(u, http.MethodGet, "/api/v1/presentations/media/"+img, nil)
			c.problem(who+" read", code, b, 404, "media_not_found", "")
		}
		code, b, _ := c.call(c.member, http.MethodGet, "/api/v1/presentations/media/"+img, nil)
		c.problem("member read", code, b, 403, "forbidden", "")

		// Slides show the agent's own files, of their kind.
		code, p, _ := c.call(c.agent, http.MethodPost, "/api/v1/presentations", map[string]any{"title": "With pictures", "slides": []any{
			map[string]any{"type": "image", "media_id": img, "overlay": map[string]any{"text": "Protect them", "position": "top", "text_color": "#FFFFFF", "background_color": "#1E3A8A", "font_size": 32}},
			map[string]any{"type": "video", "media_id": vid, "duration_seconds": 20},
			map[string]any{"type": "text", "overlay": map[string]any{"text": "Call me"}},
		}})
		sl, _ := p["slides"].([]any)
		if code != 201 || len(sl) != 3 || sl[0].(map[string]any)["media"].(map[string]any)["url"] != "/api/v1/presentations/media/"+img ||
			sl[1].(map[string]any)["media"].(map[string]any)["content_type"] != "video/mp4" {
			t.Fatalf("slides with files: %d %v", code, p)
		}
		code, b, _ = c.call(c.agent, http.MethodPost, "/api/v1/presentations", map[string]any{"title": "t", "slides": []any{map[string]any{"type": "video", "media_id": img}}})
		c.problem("video slide showing an image", code, b, 422, "invalid", "body.slides[0].media_id")
		code, b, _ = c.call(c.other, http.MethodPost, "/api/v1/presentations", map[string]any{"title": "t", "slides": []any{map[string]any{"type": "image", "media_id": img}}})
		c.problem("another agent's file in a slide", code, b, 422, "invalid", "body.slides[0].media_id")

		// Deleting a file: the owner and administrators, once no slide shows it.
		del := "/api/v1/presentations/media/" + img
		code, b, _ = c.call(c.agent, http.MethodDelete, del, nil)
		c.problem("delete a file a slide shows", code, b, 409, "media_in_use", "")
		for who, u := range map[string]carouselUser{"other agent": c.other, "provider admin": c.staff} {
			code, b, _ := c.call(u, http.MethodDelete, del, nil)
			c.problem(who+" delete", code, b, 404, "media_not_found", "")
		}
		code, b, _ = c.call(c.member, http.MethodDelete, del, nil)
		c.problem("member delete", code, b, 403, "forbidden", "")
		code, b, _ = c.call(c.anon, http.MethodDelete, del, nil)
		c.problem("anonymous delete", code, b, 401, "unauthorized", "")
		code, b, _ = c.call(c.agent, http.MethodDelete, "/api/v1/presentations/media/"+"01936f6e-8a00-7000-8000-0000000000ff", nil)
		c.problem("delete an unknown file", code, b, 404, "media_not_found", "")
		code, unused := c.upload(c.agent, "spare.png", "image/png", presentationtest.PNG(333, 333))
		if code != 201 {
			t.Fatalf("upload spare: %d %v", code, unused)
		}
		if code, b, _ := c.call(c.agent, http.MethodDelete, "/api/v1/presentations/media/"+unused["id"].(string), nil); code != 204 {
			t.Fatalf("owner deletes an unused file: %d %v", code, b)
		}
		code, b, _ = c.call(c.agent, http.MethodGet, "/api/v1/presentations/media/"+unused["id"].(string), nil)
		c.problem("read a deleted file", code, b, 404, "media_not_found", "")
		if code, b, _ := c.call(c.adm, http.MethodDelete, "/api/v1/presentations/media/"+vid, nil); code != 409 || b["code"] != "media_in_use" {
			t.Fatalf("admin deletes a file in use: %d %v", code, b)
		}
		code, b, _ = c.call(c.adm, http.MethodGet, "/api/v1/audit?action=presentation.media_deleted", nil)
		if code != 200 || len(b["entries"].([]any)) != 1 {
			t.Fatalf("delete audited: %d %v", code, b)
		}
	})
}

// An agent's files stay within their storage quota.
func TestPresentationMediaQuotaOverHTTP(t *testing.T) {
	png := presentationtest.PNG(640, 360)
	carouselQuota = int64(len(png)) + 100
	t.Cleanup(func() { carouselQuota = 0 })
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		c := newCarousel(t, db)
		code, m := c.upload(c.agent, "a.png", "image/png", png)
		if code != 201 {
			t.Fatalf("first file: %d %v", code, m)
		}
		code, m2 := c.upload(c.agent, "b.png", "image/png", presentationtest.PNG(641, 360))
		c.problem("over the quota", code, m2, 413, "media_quota_exceeded", "body.file")
		if code, again := c.upload(c.agent, "a-again.png", "image/png", png); code != 200 || again["id"] != m["id"] {
			t.Fatalf("the same file at the quota: %d %v", code, again)
		}
		if code, _, _ := c.call(c.agent, http.MethodDelete, "/api/v1/presentations/media/"+m["id"].(string), nil); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		if code, m := c.upload(c.agent, "b.png", "image/png", presentationtest.PNG(641, 360)); code != 201 {
			t.Fatalf("after making room: %d %v", code, m)
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestPresentationActiveOverHTTP(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		c := newCarousel(t, db)
		active := "/api/v1/presentations/agent/" + c.agent.id + "/active"
		mk := func(title string) string {
			t.Helper()
			code, p, _ := c.call(c.agent, http.MethodPost, "/api/v1/presentations", map[string]any{"title": title, "slides": []any{map[string]any{"type": "text", "overlay": map[string]any{"text": title}}}})
			if code != 201 {
				t.Fatalf("create %s: %d %v", title, code, p)
			}
			return p["id"].(string)
		}
		p1, p2 := mk("first"), mk("second")
		code, b, _ := c.call(c.agent, http.MethodGet, active, nil)
		c.problem("nothing active", code, b, 404, "no_active_presentation", "")

		if code, b, _ := c.call(c.agent, http.MethodPost, "/api/v1/presentations/"+p1+"/activate", nil); code != 200 || b["active"] != true {
			t.Fatalf("activate: %d %v", code, b)
		}
		code, b, h := c.call(c.agent, http.MethodGet, active, nil)
		if code != 200 || b["id"] != p1 || len(b["slides"].([]any)) != 1 || h.Get("Cache-Control") != "private, no-cache" {
			t.Fatalf("active: %d %v %v", code, b, h)
		}
		// One at a time.
		if code, _, _ := c.call(c.agent, http.MethodPost, "/api/v1/presentations/"+p2+"/activate", nil); code != 200 {
			t.Fatalf("activate second: %d", code)
		}
		if _, b, _ := c.call(c.agent, http.MethodGet, "/api/v1/presentations/"+p1, nil); b["active"] != false {
			t.Fatalf("first still active: %v", b)
		}
		if _, b, _ := c.call(c.agent, http.MethodGet, active, nil); b["id"] != p2 {
			t.Fatalf("active after switching: %v", b)
		}
		// Readers of /active: the agent and administrators.
		if code, b, _ := c.call(c.adm, http.MethodGet, active, nil); code != 200 || b["id"] != p2 {
			t.Fatalf("admin reads active: %d %v", code, b)
		}
		code, b, _ = c.call(c.member, http.MethodGet, active, nil)
		c.problem("member reads active", code, b, 403, "forbidden", "")
		code, b, _ = c.call(c.anon, http.MethodGet, active, nil)
		c.problem("anonymous reads active", code, b, 401, "unauthorized", "")
		code, b, _ = c.call(c.other, http.MethodGet, "/api/v1/presentations/agent/"+c.other.id+"/active", nil)
		c.problem("other agent has none", code, b, 404, "no_active_presentation", "")
		code, b, _ = c.call(c.adm, http.MethodGet, "/api/v1/presentations/agent/"+c.member.id+"/active", nil)
		c.problem("a member is no agent", code, b, 404, "agent_not_found", "")

		// Empty presentations are not shown.
		code, b, _ = c.call(c.agent, http.MethodPost, "/api/v1/presentations", map[string]any{"title": "empty"})
		if code != 201 {
			t.Fatalf("empty: %d", code)
		}
		code, b, _ = c.call(c.agent, http.MethodPost, "/api/v1/presentations/"+b["id"].(string)+"/activate", nil)
		c.problem("activate an empty one", code, b, 422, "presentation_empty", "")
		code, b, _ = c.call(c.agent, http.MethodPut, "/api/v1/presentations/"+p2, map[string]any{"title": "second"})
		c.problem("empty the active one", code, b, 422, "presentation_empty", "body.slides")

		// Schedule: shown only between starts_at and ends_at.
		_, cur, _ := c.call(c.agent, http.MethodGet, "/api/v1/presentations/"+p2, nil)
		keep := func(extra map[string]any) map[string]any {
			var slides []any
			for _, s := range cur["slides"].([]any) {
				sm := s.(map[string]any)
				slides = append(slides, map[string]any{"id": sm["id"], "type": sm["type"], "overlay": sm["overlay"]})
			}
			extra["title"], extra["slides"] = "second", slides
			return extra
		}
		now := c.e.Clock.Now()
		at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
		if code, b, _ := c.call(c.agent, http.MethodPut, "/api/v1/presentations/"+p2, keep(map[string]any{"starts_at": at(5 * time.Minute)})); code != 200 {
			t.Fatalf("schedule: %d %v", code, b)
		}
		code, b, _ = c.call(c.agent, http.MethodGet, active, nil)
		c.problem("before it starts", code, b, 404, "no_active_presentation", "")
		c.e.Clock.Add(6 * time.Minute)
		if code, b, _ := c.call(c.agent, http.MethodGet, active, nil); code != 200 || b["id"] != p2 {
			t.Fatalf("once started: %d %v", code, b)
		}
		if code, b, _ := c.call(c.agent, http.MethodPut, "/api/v1/presentations/"+p2, keep(map[string]any{"starts_at": at(-time.Hour), "ends_at": at(time.Minute)})); code != 200 {
			t.Fatalf("schedule: %d %v", code, b)
		}
		code, b, _ = c.call(c.agent, http.MethodGet, active, nil)
		c.problem("after it ends", code, b, 404, "no_active_presentation", "")
		code, b, _ = c.call(c.agent, http.MethodPut, "/api/v1/presentations/"+p2, keep(map[string]any{"starts_at": at(time.Hour), "ends_at": at(-time.Hour)}))
		c.problem("ends before it starts", code, b, 422, "invalid", "body.ends_at")

		// Deactivation.
		if code, b, _ := c.call(c.agent, http.MethodPut, "/api/v1/presentations/"+p2, keep(map[string]any{})); code != 200 {
			t.Fatalf("unschedule: %d %v", code, b)
		}
		if code, _, _ := c.call(c.agent, http.MethodGet, active, nil); code != 200 {
			t.Fatalf("shown again: %d", code)
		}
		if code, b, _ := c.call(c.agent, http.MethodPost, "/api/v1/presentations/"+p2+"/deactivate", nil); code != 200 || b["active"] != false {
			t.Fatalf("deactivate: %d %v", code, b)
		}
		code, b, _ = c.call(c.agent, http.MethodGet, active, nil)
		c.problem("after deactivation", code, b, 404, "no_active_presentation", "")
		// Administrators may activate an agent's presentation for them.
		if code, _, _ := c.call(c.adm, http.MethodPost, "/api/v1/presentations/"+p1+"/activate", nil); code != 200 {
			t.Fatalf("admin activates: %d", code)
		}
		if _, b, _ := c.call(c.agent, http.MethodGet, active, nil); b["id"] != p1 {
			t.Fatalf("after admin activation: %v", b)
		}
		code, b, _ = c.call(c.adm, http.MethodGet, "/api/v1/audit?action=presentation.activated", nil)
		if code != 200 || len(b["entries"].([]any)) != 3 {
			t.Fatalf("activation audit: %d %v", code, b)
		}
	})
}

// An agent's presentations and files are in their privacy export, and
// erasure deletes them with their stored bytes.
func TestCarouselPrivacyExportAndErasure(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		c := newCarousel(t, db)
		code, m := c.upload(c.agent, "p.png", "image/png", presentationtest.PNG(400, 300))
		if code != 201 {
			t.Fatalf("upload: %d %v", code, m)
		}
		mediaID := m["id"].(string)
		code, p, _ := c.call(c.agent, http.MethodPost, "/api/v1/presentations", map[string]any{"title": "Family plans",
			"slides": []map[string]any{{"type": "image", "media_id": mediaID}}})
		if code != 201 {
			t.Fatalf("create: %d %v", code, p)
		}
		code, ex, _ := c.call(c.agent, http.MethodGet, "/api/v1/users/"+c.agent.id+"/export", nil)
		if code != 200 {
			t.Fatalf("export: %d %v", code, ex)
		}
		d, _ := ex["domains"].(map[string]any)["presentations"].(map[string]any)
		if d == nil || len(d["presentations"].([]any)) != 1 || len(d["media"].([]any)) != 1 {
			t.Fatalf("export: %v", ex["domains"])
		}
		if code, b, _ := c.call(c.agent, http.MethodPost, "/api/v1/users/"+c.agent.id+"/erasure", map[string]any{}); code != 204 {
			t.Fatalf("erase: %d %v", code, b)
		}
		var n int
		if err := db.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM presentations WHERE agent_id = ?) + (SELECT count(*) FROM presentation_media WHERE owner_id = ?)`,
			c.agent.id, c.agent.id).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d rows left after erasure (%v)", n, err)
		}
		if code, _, _ := c.call(c.adm, http.MethodGet, "/api/v1/presentations/media/"+mediaID, nil); code != 404 {
			t.Fatalf("erased media still served: %d", code)
		}
	})
}
