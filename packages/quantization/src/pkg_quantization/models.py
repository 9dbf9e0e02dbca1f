"""The spec's models: LeNet (and a BatchNorm variant) for 28x28 images, ResNet-20 for CIFAR-10."""

from __future__ import annotations

from collections import OrderedDict

import torch.nn.functional as F
from torch import Tensor, nn

from pkg_shared.errors import UserError

from .options import MODELS


def lenet(classes: int = 10, in_channels: int = 1, bn: bool = False) -> nn.Sequential:
    """conv 1->16 5x5, ReLU, max-pool 2; conv 16->32 5x5, ReLU, max-pool 2; FC 512->128, ReLU; FC 128->10.

    With ``bn`` a BatchNorm2d follows each convolution (the variant that tests :func:`fold_bn`).
    """

    def block(i: int, c_in: int, c_out: int) -> list[tuple[str, nn.Module]]:
        layers: list[tuple[str, nn.Module]] = [(f"conv{i}", nn.Conv2d(c_in, c_out, 5))]
        if bn:
            layers.append((f"bn{i}", nn.BatchNorm2d(c_out)))
        return [*layers, (f"relu{i}", nn.ReLU()), (f"pool{i}", nn.MaxPool2d(2))]

    return nn.Sequential(
        OrderedDict(
            [
                *block(1, in_channels, 16),
                *block(2, 16, 32),
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(512, 128)),
                ("relu3", nn.ReLU()),
                ("fc2", nn.Linear(128, classes)),
            ]
        )
    )


class BasicBlock(nn.Module):
    """ResNet basic block (He et al. 2016): conv-BN-ReLU-conv-BN plus a (1x1 conv + BN) projection shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet20(nn.Module):
    """ResNet-20 for 32x32 images: 3 stages of 3 basic blocks (16, 32, 64 channels), global pool, FC."""

    def __init__(self, classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, c_in = [], 16
        for c_out, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(3):
                blocks.append(BasicBlock(c_in, c_out, stride if i == 0 else 1))
                c_in = c_out
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, classes)

    def forward(self, x: Tensor) -> Tensor:
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


def build_model(name: str, classes: int = 10, in_channels: int = 1) -> nn.Module:
    """``lenet``, ``lenet-bn`` or ``resnet20``."""
    if name == "lenet":
        return lenet(classes, in_channels)
    if name == "lenet-bn":
        return lenet(classes, in_channels, bn=True)
    if name == "resnet20":
        return ResNet20(classes, in_channels)
    raise UserError(f"unknown model {name!r} (one of {', '.join(MODELS)})")
