"""Orchestration: the SageMaker SDK v3 launcher (tune, train, publish) and its CLI, `dogbreed-launch`.

settings (flags and terraform outputs), specs and hyperparameters (what a job is, checked by train.py),
source and s3 (the code and data the jobs read), session and sdk (the SDK objects), jobs, dry_run, results,
publish, invoke (the deployed Lambda), commands and cli.
"""
