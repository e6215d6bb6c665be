"""The prediction Lambda: validate an image request, call the SageMaker endpoint, answer the top-k breeds.

`app.handler` is the entry point (`functions/predict/handler.py` re-exports it for the Lambda runtime). One
module per concern: `settings` (the environment), `errors`, `request` (the request model), `url_fetch`,
`image` (magic bytes), `endpoint` (InvokeEndpoint and its error mapping), `observability` (Powertools Logger,
Metrics, Tracer) and `app`. The contract is docs/prediction_api.md.

Kept free of imports: the Lambda zip ships exactly the modules `app` imports (dogbreed.packing.lambda_zip).
"""
