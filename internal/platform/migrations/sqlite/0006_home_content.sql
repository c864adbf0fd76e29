-- +goose Up
-- Home-tab content, one per user, day and language.
CREATE TABLE home_content (
    user_id    TEXT NOT NULL,
    day        TEXT NOT NULL,
    language   TEXT NOT NULL,
    content    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, day, language)
);

-- +goose Down
DROP TABLE home_content;
