"""Deep residual networks (He, Zhang, Ren, Sun 2015, "Deep Residual Learning for Image
Recognition"): ResNet-50 and ResNet-152 with bottleneck blocks, as in Table 1 and Fig. 5.

Stem: 7x7/2 conv of 64, BN, ReLU, 3x3/2 max-pool. Stages conv2_x .. conv5_x of bottleneck
blocks 1x1 (width) -> 3x3 (width) -> 1x1 (4 x width), batch norm after every conv (Sec. 3.4),
ReLU after each BN and after the addition. Shortcuts are identities, except where the shape
changes: a 1x1 projection with BN (option B, Sec. 3.3). Global average pool, 1000-way FC.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from models._entry import Entry, Facts
from models.convnets import image_inputs


@dataclass(frozen=True)
class ResNetConfig:
    layers: tuple[int, ...] = (3, 4, 6, 3)  # Table 1: blocks per stage conv2_x .. conv5_x
    widths: tuple[int, ...] = (64, 128, 256, 512)  # Table 1: bottleneck width of each stage
    expansion: int = 4  # Fig. 5: the last 1x1 restores 4 x width channels
    stem: int = 64  # conv1: 7x7, 64, stride 2
    # Sec. 3.4: "downsampling is performed by conv3_1, conv4_1, and conv5_1 with a stride of 2".
    # The authors' released (Caffe) models put that stride on the block's first 1x1 conv, which
    # gives Table 1's 3.8 / 11.3 billion multiply-adds; stride on the 3x3 ("ResNet v1.5",
    # torchvision) costs ~7% more. False follows the paper.
    stride_on_3x3: bool = False
    image_size: int = 224  # Sec. 3.4: 224x224 random crops
    in_channels: int = 3
    n_classes: int = 1000


class Bottleneck(nn.Module):
    def __init__(self, c_in: int, width: int, stride: int, cfg: ResNetConfig) -> None:
        super().__init__()
        c_out = width * cfg.expansion
        s1, s3 = (1, stride) if cfg.stride_on_3x3 else (stride, 1)
        self.conv1 = nn.Conv2d(c_in, width, 1, stride=s1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=s3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU()
        self.shortcut = (
            nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))
            if stride != 1 or c_in != c_out
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, cfg: ResNetConfig) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(cfg.in_channels, cfg.stem, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(cfg.stem),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        stages: list[nn.Module] = []
        c = cfg.stem
        for i, (n, width) in enumerate(zip(cfg.layers, cfg.widths)):
            blocks = []
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1  # conv2_x follows the max-pool: stride 1
                blocks.append(Bottleneck(c, width, stride, cfg))
                c = width * cfg.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.stages(self.stem(x))).flatten(1))


RESNET50 = ResNetConfig()
RESNET152 = ResNetConfig(layers=(3, 8, 36, 3))
TINY = ResNetConfig(layers=(1, 2, 1, 1), widths=(4, 8, 8, 16), stem=8, image_size=64, n_classes=10)

_TRAINING = dict(
    examples=1.28e6,
    epochs=120,
    batch_size=256,
    source="He et al. 2015, Sec. 3.4 (mini-batch 256, up to 60 x 10^4 iterations) and Sec. 4.1 "
    "(1.28 million training images): 600K x 256 / 1.28M = 120 epochs",
)

ENTRIES = [
    Entry(
        name="resnet-50",
        family="resnet",
        domain="vision",
        config=RESNET50,
        build_fn=ResNet,
        inputs_fn=image_inputs,
        default_batch=1,
        facts=Facts(
            dataset_name="ResNet-50",
            year=2015,
            published_parameters=25.6e6,
            parameters_source="He et al. 2015 do not tabulate parameters; 25.6M is the standard count of "
            "Table 1's 50-layer network (e.g. He et al. 2016, Identity Mappings, and torchvision)",
            parameters_note="25,557,032 instantiated (BN scale and shift included)",
        ),
        tiny=TINY,
    ),
    Entry(
        name="resnet-152",
        family="resnet",
        domain="vision",
        config=RESNET152,
        build_fn=ResNet,
        inputs_fn=image_inputs,
        default_batch=1,
        facts=Facts(
            dataset_name="ResNet-152 (ImageNet)",
            year=2015,
            published_parameters=60.2e6,
            parameters_source="the dataset's 60.2M: the standard count of Table 1's 152-layer network "
            "(He et al. 2015 give FLOPs, 11.3 x 10^9, not parameters)",
            parameters_note="60,192,808 instantiated (BN scale and shift included)",
        ),
        tiny=TINY,
    ),
]
