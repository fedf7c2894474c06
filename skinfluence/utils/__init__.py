"""Small shared helpers (validation, chunking)."""
