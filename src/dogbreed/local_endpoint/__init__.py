"""A local SageMaker endpoint: the PyTorch inference container protocol and the InvokeEndpoint REST call."""

from dogbreed.local_endpoint.endpoint import LocalEndpoint

__all__ = ["LocalEndpoint"]
