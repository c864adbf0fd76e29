-- +goose Up
-- Instance-wide settings that must survive restarts (instance id and the like).
CREATE TABLE app_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- +goose Down
DROP TABLE app_settings;
