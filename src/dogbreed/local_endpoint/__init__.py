"""A local SageMaker endpoint: the PyTorch inference container's real serving stack (TorchServe + the
SageMaker toolkit, network isolated) behind SageMaker Runtime's InvokeEndpoint call."""

from dogbreed.local_endpoint.endpoint import LocalEndpoint
from dogbreed.local_endpoint.instance import StackError
from dogbreed.local_endpoint.stack import ModelEnvironment, ServingStack

__all__ = ["LocalEndpoint", "ModelEnvironment", "ServingStack", "StackError"]
