-- Catalog, ratings (one row per user and movie), the one-row meta table
-- (data version, rating scale, where the change log starts), the change
-- log replicas follow, trained models and the training history.
CREATE TABLE movies (
    id     integer PRIMARY KEY,
    title  text NOT NULL,
    genres text NOT NULL
);

-- No foreign key to movies: Import checks the catalog itself, once (a
-- per-row check would halve COPY's rate), and AddRatings checks it in the
-- statement that inserts.
CREATE TABLE ratings (
    user_id  integer NOT NULL,
    movie_id integer NOT NULL,
    rating   real    NOT NULL,
    ts       bigint  NOT NULL,
    CONSTRAINT ratings_pkey PRIMARY KEY (user_id, movie_id)
);

-- data_version is taken (incremented) first by every write transaction,
-- so the row lock orders versions as commits. log_floor: the change log
-- holds every change of the versions after it (an import or a prune
-- raises it; a follower behind it reloads).
CREATE TABLE meta (
    id           integer PRIMARY KEY CHECK (id = 1),
    data_version bigint NOT NULL,
    log_floor    bigint NOT NULL,
    scale_min    real   NOT NULL,
    scale_max    real   NOT NULL,
    scale_step   real   NOT NULL
);
INSERT INTO meta (id, data_version, log_floor, scale_min, scale_max, scale_step) VALUES (1, 0, 0, 0.5, 5, 0.5);

-- One row per rating written or deleted by AddRatings and DeleteRating,
-- with the version of the transaction that committed it.
CREATE TABLE changes (
    version  bigint  NOT NULL,
    seq      integer NOT NULL, -- order within the transaction
    user_id  integer NOT NULL,
    movie_id integer NOT NULL,
    rating   real    NOT NULL, -- 0 for a deletion
    ts       bigint  NOT NULL, -- 0 for a deletion
    deleted  boolean NOT NULL,
    PRIMARY KEY (version, seq)
);

CREATE TABLE models (
    id            bigserial PRIMARY KEY,
    data_version  bigint  NOT NULL,
    params        text    NOT NULL, -- als.Params as JSON: the key
    backend       text    NOT NULL,
    trained_at    bigint  NOT NULL, -- Unix milliseconds
    train_seconds double precision NOT NULL,
    train_rmse    double precision NOT NULL,
    num_ratings   bigint  NOT NULL,
    rank          integer NOT NULL,
    bias          boolean NOT NULL,
    mean          real    NOT NULL,
    user_ids      bytea   NOT NULL, -- little-endian int32s
    movie_ids     bytea   NOT NULL,
    user_factors  bytea   NOT NULL, -- little-endian float32s, row-major
    item_factors  bytea   NOT NULL,
    user_bias     bytea,
    item_bias     bytea
);
CREATE INDEX models_params ON models (params, id);

-- The training history, the newest 50 kept. models is a JSON array of
-- {"model", "params", "iterations": [{"n", "train_error", "seconds"}]}.
CREATE TABLE trainings (
    id           bigserial PRIMARY KEY,
    started_at   bigint  NOT NULL, -- Unix milliseconds
    seconds      double precision NOT NULL,
    backend      text    NOT NULL,
    device       text    NOT NULL,
    result       text    NOT NULL CHECK (result IN ('ok', 'failed', 'canceled')),
    error        text    NOT NULL,
    data_version bigint  NOT NULL,
    ratings      bigint  NOT NULL,
    models       text    NOT NULL
);
