-- ratings becomes a table partitioned by ranges of user_id (issue 10: a
-- first import copies its partitions and builds their keys in parallel,
-- one connection each, where one table's COPY and key build each take one
-- backend). The rows stored so far become its one partition, covering
-- every user: nothing is moved, and nothing is scanned (the partition's
-- constraint, user_id IS NOT NULL, is its column's), and its key is
-- attached to the parent's rather than built again. An import into an
-- empty ratings table replaces the partitions with its own (import.go).
ALTER TABLE ratings RENAME TO ratings_p0;
ALTER TABLE ratings_p0 RENAME CONSTRAINT ratings_pkey TO ratings_p0_pkey;
CREATE TABLE ratings (
    user_id  integer NOT NULL,
    movie_id integer NOT NULL,
    rating   real    NOT NULL,
    ts       bigint  NOT NULL,
    CONSTRAINT ratings_pkey PRIMARY KEY (user_id, movie_id)
) PARTITION BY RANGE (user_id);
ALTER TABLE ratings ATTACH PARTITION ratings_p0 FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
