-- +goose Up
-- Agent (insurance): the presentation carousel of an agent's home page
-- (PRODUCT.md I5). Media files live in the blob store (MITRA_BLOB_URL),
-- one blob per file ('media/' || id); these tables hold what the API
-- needs to know about them. Overlays and template slides are JSON text.
-- See docs/decisions/0012-media-storage-and-presentations.md.
CREATE TABLE presentation_templates (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL,
    slides      TEXT NOT NULL, -- JSON array of slides (text only: templates carry no files)
    sort_order  INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);

-- One row per file per owner: uploading the same bytes again finds it.
-- The owner's sizes add up to their storage quota.
CREATE TABLE presentation_media (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blob_key     TEXT NOT NULL,
    kind         TEXT NOT NULL,    -- image | video
    content_type TEXT NOT NULL,    -- sniffed from the bytes, never the name
    size_bytes   INTEGER NOT NULL,
    width        INTEGER,          -- images only
    height       INTEGER,
    sha256       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    UNIQUE (owner_id, sha256)
);

CREATE TABLE presentations (
    id          TEXT PRIMARY KEY,
    agent_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    template_id TEXT REFERENCES presentation_templates (id) ON DELETE SET NULL,
    is_active   INTEGER NOT NULL DEFAULT 0,
    starts_at   TEXT,
    ends_at     TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
-- An agent's presentations, newest first (ids are UUIDv7).
CREATE INDEX presentations_agent_idx ON presentations (agent_id, id);
-- At most one active presentation per agent.
CREATE UNIQUE INDEX presentations_one_active_idx ON presentations (agent_id) WHERE is_active = TRUE;

CREATE TABLE presentation_slides (
    id               TEXT PRIMARY KEY,
    presentation_id  TEXT NOT NULL REFERENCES presentations (id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    type             TEXT NOT NULL,  -- image | video | text
    media_id         TEXT REFERENCES presentation_media (id),
    duration_seconds INTEGER NOT NULL,
    overlay          TEXT,           -- JSON: text, position, colours, font size
    UNIQUE (presentation_id, position)
);
CREATE INDEX presentation_slides_media_idx ON presentation_slides (media_id);

INSERT INTO presentation_templates (id, name, description, category, slides, sort_order, created_at) VALUES
    ('01936f6e-8a00-7000-8000-000000000001', 'Term plan basics', 'Why a term plan is the first policy a family needs: pure protection, low premium.', 'protection', '[{"type":"text","duration_seconds":6,"overlay":{"text":"Protect your family''s tomorrow","position":"center","text_color":"#FFFFFF","background_color":"#1E3A8A","font_size":44}},{"type":"text","duration_seconds":6,"overlay":{"text":"A term plan pays your family the sum assured if something happens to you during the policy term.","position":"center","text_color":"#FFFFFF","background_color":"#1E3A8A","font_size":28}},{"type":"text","duration_seconds":6,"overlay":{"text":"High cover, low premium: pure protection costs far less than savings plans for the same cover.","position":"center","text_color":"#1E3A8A","background_color":"#DBEAFE","font_size":28}},{"type":"text","duration_seconds":6,"overlay":{"text":"Buy early: premiums are lower when you are young and healthy, and stay the same for the whole term.","position":"center","text_color":"#1E3A8A","background_color":"#DBEAFE","font_size":28}},{"type":"text","duration_seconds":6,"overlay":{"text":"Let''s find the right cover for your family. Ask me today.","position":"bottom","text_color":"#FFFFFF","background_color":"#F97316","font_size":32}}]', 1, '2026-11-22T00:00:00.000000Z'),
    ('01936f6e-8a00-7000-8000-000000000002', 'Child education', 'Plan for a child''s higher education with a plan that keeps going even if the parent cannot.', 'savings', '[{"type":"text","duration_seconds":6,"overlay":{"text":"Secure your child''s dreams","position":"center","text_color":"#FFFFFF","background_color":"#065F46","font_size":44}},{"type":"text","duration_seconds":6,"overlay":{"text":"Education costs rise every year. A plan started today builds the fund your child will need.","position":"center","text_color":"#FFFFFF","background_color":"#065F46","font_size":28}},{"type":"text","duration_seconds":6,"overlay":{"text":"Many child plans waive future premiums if the parent passes away, and the plan continues for the child.","position":"center","text_color":"#065F46","background_color":"#D1FAE5","font_size":28}},{"type":"text","duration_seconds":6,"overlay":{"text":"Money arrives when it is needed: at school completion, college admission and graduation.","position":"center","text_color":"#065F46","background_color":"#D1FAE5","font_size":28}},{"type":"text","duration_seconds":6,"overlay":{"text":"Let''s plan your child''s education fund together.","position":"bottom","text_color":"#FFFFFF","background_color":"#F59E0B","font_size":32}}]', 2, '2026-11-22T00:00:00.000000Z'),
    ('01936f6e-8a00-7000-8000-000000000003', 'Retirement', 'A pension plan for a regular income after work stops.', 'retirement', '[{"type":"text","duration_seconds":6,"overlay":{"text":"Plan a retirement you look forward to","position":"center","text_color":"#FFFFFF","background_color":"#7C2D12","font_size":44}},{"type":"text","duration_seconds":6,"overlay":{"text":"A pension plan gives you a regular income after you stop working, for as long as you live.","position":"center","text_color":"#FFFFFF","background_color":"#7C2D12","font_size":28}},{"type":"text","duration_seconds":6,"overlay":{"text":"Start early: small contributions today grow over the years you keep investing.","position":"center","text_color":"#7C2D12","background_color":"#FFEDD5","font_size":28}},{"type":"text","duration_seconds":6,"overlay":{"text":"Choose an annuity that continues for your spouse after you.","position":"center","text_color":"#7C2D12","background_color":"#FFEDD5","font_size":28}},{"type":"text","duration_seconds":6,"overlay":{"text":"How much will you need? Ask me for a retirement plan made for you.","position":"bottom","text_color":"#FFFFFF","background_color":"#0F766E","font_size":32}}]', 3, '2026-11-22T00:00:00.000000Z');

-- +goose Down
DROP TABLE presentation_slides;
DROP TABLE presentations;
DROP TABLE presentation_media;
DROP TABLE presentation_templates;
