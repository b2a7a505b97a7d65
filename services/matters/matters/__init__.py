"""Matters service: the catalogue of government service matters (事项)."""
