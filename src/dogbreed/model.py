"""The classifier: a torchvision backbone with its ImageNet head swapped for one sized to our classes.

`Classifier` keeps the two parts as separate modules (`backbone` -> feature vector, `head` -> logits) so the
optimiser can give them different learning rates and features can be computed once and reused.
Only torch and torchvision are imported here: this module ships inside `model.tar.gz`.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from torch import nn
from torchvision import models


class PretrainedWeightsUnavailable(RuntimeError):
    """The pretrained weights file is missing or does not fit the architecture (nothing is downloaded)."""


class UnknownArchitecture(ValueError):
    """--arch names no torchvision classification model."""


class Classifier(nn.Module):
    """`head(backbone(images))`; `backbone` maps images to feature vectors, `head` is one Linear layer."""

    def __init__(self, backbone: nn.Module, head: nn.Linear):
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.backbone_frozen = False

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(images))

    def freeze_backbone(self, frozen: bool = True) -> Classifier:
        """Stop training the backbone: no gradients, and BatchNorm statistics stay as loaded."""
        self.backbone_frozen = frozen
        self.backbone.requires_grad_(not frozen)
        return self.train(self.training)

    def train(self, mode: bool = True) -> Classifier:
        super().train(mode)
        if self.backbone_frozen:
            self.backbone.eval()  # a frozen backbone is a fixed feature extractor, also in training mode
        return self


def build_model(
    arch: str, num_classes: int, pretrained: bool = False, weights_path: Path | None = None
) -> Classifier:
    """Build `arch` from torchvision with a new head; `pretrained`: its ImageNet weights from `weights_path`.

    The file is a plain state dict (torchvision's own weights file), loaded with `weights_only=True`; the
    caller has checked it (training: `dogbreed.pretrained.files.locate`). Nothing is downloaded, ever.
    """
    network = _load_torchvision_model(arch, pretrained, weights_path)
    backbone, feature_dim = split_off_head(network)
    return Classifier(backbone, nn.Linear(feature_dim, num_classes))


def split_off_head(network: nn.Module) -> tuple[nn.Module, int]:
    """Replace the network's final Linear layer by Identity; return the network and that layer's input size.

    Works for every torchvision classifier whose last Linear layer is the ImageNet head (ResNet `fc`,
    MobileNet/EfficientNet/ConvNeXt/VGG `classifier[-1]`, DenseNet `classifier`, ViT `heads.head`, ...).
    """
    head_name = _last_linear_name(network)
    head = network.get_submodule(head_name)
    parent_name, _, attribute = head_name.rpartition(".")
    parent = network.get_submodule(parent_name) if parent_name else network
    setattr(parent, attribute, nn.Identity())
    return network, head.in_features


def parameter_groups(
    model: Classifier, learning_rate: float, backbone_lr_scale: float, freeze_backbone: bool
) -> list[dict]:
    """Optimiser groups: the head alone when the backbone is frozen, else both, the backbone at a lower LR."""
    model.freeze_backbone(freeze_backbone)
    groups = [{"params": list(model.head.parameters()), "lr": learning_rate, "name": "head"}]
    if not freeze_backbone:
        backbone_lr = learning_rate * backbone_lr_scale
        groups.append({"params": list(model.backbone.parameters()), "lr": backbone_lr, "name": "backbone"})
    return groups


def _last_linear_name(network: nn.Module) -> str:
    linear_names = [name for name, module in network.named_modules() if isinstance(module, nn.Linear)]
    if not linear_names:
        raise ValueError(f"{type(network).__name__} has no Linear classification head to replace")
    return linear_names[-1]


def check_architecture(arch: str) -> None:
    if arch not in models.list_models(module=models):
        raise UnknownArchitecture(f"unknown --arch {arch!r}: not a torchvision classification model")


def _load_torchvision_model(arch: str, pretrained: bool, weights_path: Path | None) -> nn.Module:
    check_architecture(arch)
    network = models.get_model(arch, weights=None)
    if not pretrained:
        return network
    if weights_path is None:
        raise PretrainedWeightsUnavailable(f"pretrained {arch}: no weights file given")
    try:
        network.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    except (OSError, RuntimeError, KeyError, pickle.UnpicklingError) as error:  # unreadable or another arch's
        raise PretrainedWeightsUnavailable(
            f"{Path(weights_path).name} does not load into {arch}: {_short_reason(error)}"
        ) from error
    return network


def _short_reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    return str(reason).splitlines()[0][:200]
