"""The prediction Lambda's entry module: the runtime loads `handler.handler` from the zip's root.

The code lives in the package (dogbreed.predict_api, shipped inside the zip by dogbreed-build-lambda-zip);
Powertools comes from the AWS-managed layer. See docs/prediction_api.md.
"""

from dogbreed.predict_api.app import handler

__all__ = ["handler"]
