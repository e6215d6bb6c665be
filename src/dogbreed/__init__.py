"""dogbreed: a dog-breed image classifier from training to a secured, autoscaled prediction API on AWS.

Subpackages: `data` (the dogImages layout), `training`, `packing` (model.tar.gz, the Lambda zip), `serving`
(the SageMaker hooks), `orchestration` (the SageMaker SDK launcher), `local_endpoint`, `utils`; `model` and
`preprocessing` are shared by training and serving.

Kept free of imports on purpose: parts of this package ship inside `model.tar.gz` and the Lambda zip, where
only what those runtimes provide exists.
"""
