-- The ratings snapshot's change log (snapshot.go): while a snapshot
-- exists, every rating written or deleted after its data version, one row
-- each in commit order, with the data version its batch made. A start
-- reads the snapshot and applies the log instead of reading the rows, so
-- writes no longer make the snapshot useless. A snapshot not at the
-- current data version predates the log (the writes since it were not
-- logged), so it goes.
CREATE TABLE ratings_changes (
    seq          INTEGER PRIMARY KEY, -- commit order
    data_version INTEGER NOT NULL,    -- the version of the batch that made it
    user_id      INTEGER NOT NULL,
    movie_id     INTEGER NOT NULL,
    rating       REAL    NOT NULL,    -- 0 for a deletion
    ts           INTEGER NOT NULL,    -- 0 for a deletion
    deleted      INTEGER NOT NULL     -- 1 for a deletion
);
DELETE FROM ratings_snapshot WHERE data_version <> (SELECT data_version FROM meta WHERE id = 1);
