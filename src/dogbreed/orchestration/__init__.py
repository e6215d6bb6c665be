"""Orchestration: the SageMaker SDK v3 launcher (tune, train, publish) and its command line."""
