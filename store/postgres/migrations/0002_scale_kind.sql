-- The kind of the rating scale (issue 11), persisted as in the SQLite store:
-- (scale_kind, scale_min, scale_max, scale_step)
--   stepped     min, max and step > 0: min, min+step, …, max (0.5, 5, 0.5)
--   continuous  min < max, step 0: any real in [min, max]
--   unbounded   min, max and step 0: any finite real, nothing clamped
-- engine.ScaleOf rebuilds the scale from these four.
ALTER TABLE meta ADD COLUMN scale_kind text NOT NULL DEFAULT 'stepped'
    CHECK (scale_kind IN ('stepped', 'continuous', 'unbounded'));
