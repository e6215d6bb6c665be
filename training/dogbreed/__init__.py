"""Dog-breed classifier training package.

Kept free of imports on purpose: `model.py` and `preprocessing.py` ship inside `model.tar.gz` next to
`inference.py`, where only torch, torchvision and Pillow exist.
"""
