-- Catalog, ratings (one row per user and movie), trained models, and a
-- one-row meta table holding the data version.
CREATE TABLE movies (
    id     INTEGER PRIMARY KEY,
    title  TEXT NOT NULL,
    genres TEXT NOT NULL
);

CREATE TABLE ratings (
    user_id  INTEGER NOT NULL,
    movie_id INTEGER NOT NULL REFERENCES movies(id),
    rating   REAL    NOT NULL,
    ts       INTEGER NOT NULL,
    PRIMARY KEY (user_id, movie_id)
) WITHOUT ROWID;

CREATE TABLE meta (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    data_version INTEGER NOT NULL,
    scale_min    REAL    NOT NULL,
    scale_max    REAL    NOT NULL,
    scale_step   REAL    NOT NULL
);
INSERT INTO meta (id, data_version, scale_min, scale_max, scale_step) VALUES (1, 0, 0.5, 5, 0.5);

CREATE TABLE models (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    data_version  INTEGER NOT NULL,
    params        TEXT    NOT NULL,
    backend       TEXT    NOT NULL,
    trained_at    INTEGER NOT NULL,
    train_seconds REAL    NOT NULL,
    train_rmse    REAL    NOT NULL,
    num_ratings   INTEGER NOT NULL,
    rank          INTEGER NOT NULL,
    bias          INTEGER NOT NULL,
    mean          REAL    NOT NULL,
    user_ids      BLOB    NOT NULL,
    movie_ids     BLOB    NOT NULL,
    user_factors  BLOB    NOT NULL,
    item_factors  BLOB    NOT NULL,
    user_bias     BLOB,
    item_bias     BLOB
);
