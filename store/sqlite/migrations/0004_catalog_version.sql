-- The catalog's version, as in the PostgreSQL store: an import that adds
-- movies increments it in its transaction (store.DB's CatalogVersion).
ALTER TABLE meta ADD COLUMN catalog_version INTEGER NOT NULL DEFAULT 0;
