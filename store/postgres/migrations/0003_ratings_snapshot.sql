-- A compact image of every rating as of one data version (issue 10: a
-- replica's start), in chunks of consecutive ratings in key order, all
-- written by one transaction. A reader takes the newest whose version is
-- at or above meta.log_floor and applies the change log after it; older
-- images are deleted when a newer one is written. The chunk format is
-- described in snapshot.go. Stored uncompressed: the format is already
-- compact, and PostgreSQL's compression would cost more than it saves.
CREATE TABLE ratings_snapshots (
    version bigint  NOT NULL,
    chunk   integer NOT NULL,
    first   bigint  NOT NULL, -- index of the chunk's first rating
    rows    integer NOT NULL,
    data    bytea   NOT NULL,
    PRIMARY KEY (version, chunk)
);
ALTER TABLE ratings_snapshots ALTER COLUMN data SET STORAGE EXTERNAL;
