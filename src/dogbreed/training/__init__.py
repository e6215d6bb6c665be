"""Training: the train.py entry point, its loop, distributed helpers, checkpoints and metrics."""
