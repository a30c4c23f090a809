-- A compact copy of every rating as of one data version, read at start
-- instead of the rows while it is current (snapshot.go). Each row is one
-- chunk of ratings in key order, store.EncodeRatingsChunk's encoding.
CREATE TABLE ratings_snapshot (
    chunk        INTEGER PRIMARY KEY, -- 0, 1, … in key order
    data_version INTEGER NOT NULL,    -- meta.data_version the snapshot holds
    chunks       INTEGER NOT NULL,    -- how many chunks the snapshot has
    ratings      INTEGER NOT NULL,    -- how many ratings it holds in all
    crc          INTEGER NOT NULL,    -- CRC-32C (Castagnoli) of data
    data         BLOB    NOT NULL
);
