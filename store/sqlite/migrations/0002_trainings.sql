-- The training history: one row per retrain (both models of a snapshot),
-- the newest 50 kept. models is a JSON array of
-- {"model", "params", "iterations": [{"n", "train_error", "seconds"}]}.
CREATE TABLE trainings (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at   INTEGER NOT NULL, -- Unix milliseconds
    seconds      REAL    NOT NULL,
    backend      TEXT    NOT NULL,
    device       TEXT    NOT NULL,
    result       TEXT    NOT NULL CHECK (result IN ('ok', 'failed', 'canceled')),
    error        TEXT    NOT NULL,
    data_version INTEGER NOT NULL,
    ratings      INTEGER NOT NULL,
    models       TEXT    NOT NULL
);
