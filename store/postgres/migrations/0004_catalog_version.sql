-- The catalog's version (issue 10: movies imported while replicas run).
-- An import that adds movies increments it in its transaction; a replica
-- that sees it move reads the catalog again (engine.CatalogVersioner), so
-- imported movies reach running replicas, with their ratings, without a
-- restart.
ALTER TABLE meta ADD COLUMN catalog_version bigint NOT NULL DEFAULT 0;
