"""Small utilities shared by several parts (no imports here: parts of it ship in model.tar.gz)."""
