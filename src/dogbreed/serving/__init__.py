"""Serving: the SageMaker inference hooks shipped inside model.tar.gz (no imports here: it ships too)."""
