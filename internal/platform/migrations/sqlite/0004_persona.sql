-- +goose Up
-- Professional crisis resources by country (ISO 3166-1 alpha-2; 'ZZ' is
-- the international fallback shown everywhere).
CREATE TABLE crisis_resources (
    id          TEXT PRIMARY KEY,
    country     TEXT NOT NULL,
    name        TEXT NOT NULL,
    phone       TEXT NOT NULL DEFAULT '',
    sms         TEXT NOT NULL DEFAULT '',
    url         TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    languages   TEXT NOT NULL DEFAULT '[]',
    hours       TEXT NOT NULL DEFAULT '',
    priority    INTEGER NOT NULL DEFAULT 100,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at  TEXT NOT NULL
);
CREATE INDEX crisis_resources_country_idx ON crisis_resources (country, priority);

INSERT INTO crisis_resources (id, country, name, phone, sms, url, description, languages, hours, priority, updated_at) VALUES
 ('01930000-0000-7000-8000-000000000001', 'ID', 'Layanan SEJIWA (Kementerian Kesehatan)', '119 ext 8', '', '', 'Layanan konseling kesehatan jiwa: hubungi 119, lalu tekan 8.', '["id"]', '24/7', 10, '2026-11-22T00:00:00.000000Z'),
 ('01930000-0000-7000-8000-000000000002', 'ID', 'Nomor darurat', '112', '', '', 'Jika nyawa dalam bahaya sekarang, hubungi 112.', '["id"]', '24/7', 5, '2026-11-22T00:00:00.000000Z'),
 ('01930000-0000-7000-8000-000000000003', 'IN', 'Tele-MANAS', '14416', '', 'https://telemanas.mohfw.gov.in', 'National tele mental health helpline; also 1-800-891-4416.', '["en","hi","bn","ta","te","mr","gu","kn","ml","pa"]', '24/7', 10, '2026-11-22T00:00:00.000000Z'),
 ('01930000-0000-7000-8000-000000000004', 'US', '988 Suicide & Crisis Lifeline', '988', '988', 'https://988lifeline.org', 'Call or text 988.', '["en","es"]', '24/7', 10, '2026-11-22T00:00:00.000000Z'),
 ('01930000-0000-7000-8000-000000000005', 'GB', 'Samaritans', '116 123', '', 'https://www.samaritans.org', 'Call free on 116 123.', '["en"]', '24/7', 10, '2026-11-22T00:00:00.000000Z'),
 ('01930000-0000-7000-8000-000000000006', 'MY', 'Befrienders Kuala Lumpur', '03-7627 2929', '', 'https://www.befrienders.org.my', 'Emotional support.', '["ms","en","zh"]', '24/7', 10, '2026-11-22T00:00:00.000000Z'),
 ('01930000-0000-7000-8000-000000000007', 'SG', 'Samaritans of Singapore (SOS)', '1767', '', 'https://www.sos.org.sg', 'Call 1767.', '["en"]', '24/7', 10, '2026-11-22T00:00:00.000000Z'),
 ('01930000-0000-7000-8000-000000000008', 'PH', 'NCMH Crisis Hotline', '1553', '', 'https://ncmh.gov.ph', 'National Center for Mental Health crisis hotline.', '["en","tl"]', '24/7', 10, '2026-11-22T00:00:00.000000Z'),
 ('01930000-0000-7000-8000-000000000009', 'AU', 'Lifeline Australia', '13 11 14', '0477 13 11 14', 'https://www.lifeline.org.au', 'Crisis support.', '["en"]', '24/7', 10, '2026-11-22T00:00:00.000000Z'),
 ('01930000-0000-7000-8000-00000000000a', 'ZZ', 'Find A Helpline', '', '', 'https://findahelpline.com', 'Free, confidential helplines in other countries.', '["en"]', '', 1000, '2026-11-22T00:00:00.000000Z');

-- Mood check-ins; the note is sealed with the vault.
CREATE TABLE mood_checkins (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    score       INTEGER NOT NULL,
    emotions    TEXT NOT NULL DEFAULT '[]',
    note_sealed TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX mood_checkins_user_idx ON mood_checkins (user_id, created_at);

-- PHQ-9 and GAD-7 results; answers are sealed with the vault.
CREATE TABLE assessments (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    type           TEXT NOT NULL,
    answers_sealed TEXT NOT NULL,
    score          INTEGER NOT NULL,
    severity       TEXT NOT NULL,
    item9          INTEGER,
    created_at     TEXT NOT NULL
);
CREATE INDEX assessments_user_idx ON assessments (user_id, created_at);

-- +goose Down
DROP TABLE assessments;
DROP TABLE mood_checkins;
DROP TABLE crisis_resources;
