"""Packing the deploy units: model.tar.gz (weights + serving code) and the Lambda zip."""
