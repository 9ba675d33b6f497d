"""A small VGG-style convnet for 32x32 images (CIFAR-10 shapes): three conv-BN-ReLU-pool
stages and a linear classifier. Small enough to run every counter on CPU in a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass(frozen=True)
class ConvNetConfig:
    widths: tuple[int, ...] = (32, 64, 128)  # channels of each stage; each stage halves H, W
    in_channels: int = 3
    image_size: int = 32
    n_classes: int = 10


class ConvNet(nn.Module):
    def __init__(self, cfg: ConvNetConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = cfg.in_channels
        for w in cfg.widths:
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(c, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)).flatten(1))


def example_inputs(cfg: ConvNetConfig, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    return (torch.randn(batch, cfg.in_channels, cfg.image_size, cfg.image_size, device=device),)


from models._entry import Entry  # noqa: E402

TINY = ConvNetConfig(widths=(4, 8), image_size=8)

# Not a published system: a small convnet to build and test with (no dataset row, no facts).
ENTRIES = [Entry("small-cnn", "small-cnn", "vision", ConvNetConfig(), ConvNet, example_inputs, 8, None, tiny=TINY)]
