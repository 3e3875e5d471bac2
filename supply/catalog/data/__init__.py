"""Data files shipped with the catalog app (units-of-issue table, demo catalog)."""
