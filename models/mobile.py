"""Mobile convnets built from inverted residual blocks: MobileNetV2 and EfficientNet.

* MobileNetV2 (Sandler et al. 2018, Table 1, Table 2, Fig. 4d): a 3x3/2 conv of 32, then
  bottlenecks (t, c, n, s): 1x1 expansion by t with ReLU6, 3x3 depthwise with ReLU6, linear
  1x1 projection to c, residual where stride 1 and shapes match; 1x1 conv to 1280, pool, FC.
* EfficientNet (Tan & Le 2019, Table 1, Sec. 3.3, Sec. 4): the MBConv block (as above, with
  squeeze-and-excitation of ratio 0.25 on the block's input width, Hu et al. 2018, and swish,
  Ramachandran et al. 2017), compound-scaled in width and depth with the rounding of the
  authors' code (`round_filters`, `round_repeats`). EfficientNet-L2 is the scaled-up model of
  Noisy Student (Xie et al. 2020, Table 7 / Sec. 3): width 4.3, depth 5.3.

Padding is k // 2 on every conv: with odd kernels that gives TensorFlow's "SAME" output sizes,
ceil(s / stride), so the FLOP match the TensorFlow originals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from models._entry import Entry, Facts
from models.convnets import image_inputs


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to a multiple of `divisor`, never more than 10% down (the
    authors' TensorFlow code for MobileNetV2 and EfficientNet: `_make_divisible`, `round_filters`)."""
    min_value = divisor if min_value is None else min_value
    new = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new < 0.9 * v:
        new += divisor
    return new


class ConvBNAct(nn.Sequential):
    """conv (no bias) -> BN -> activation; padding k // 2."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1,
                 act: type[nn.Module] | None = nn.ReLU6) -> None:  # fmt: skip
        layers: list[nn.Module] = [
            nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(c_out),
        ]
        if act is not None:
            layers.append(act())
        super().__init__(*layers)


# =============================================================================== MobileNetV2


@dataclass(frozen=True)
class MobileNetV2Config:
    # Table 2: (t expansion, c output channels, n repeats, s stride of the first repeat)
    settings: tuple[tuple[int, int, int, int], ...] = (
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
        (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    )  # fmt: skip
    width_mult: float = 1.0  # Sec. 6.1: the width multiplier; 1.0 is the 3.4M model
    stem: int = 32  # Table 2: conv2d 3x3, 32, stride 2
    last: int = 1280  # Table 2: conv2d 1x1, 1280 (Sec. 6.1: not shrunk for multipliers < 1)
    divisor: int = 8  # the authors' code rounds every width to a multiple of 8
    image_size: int = 224
    in_channels: int = 3
    n_classes: int = 1000
    # The paper names no dropout before the classifier; the authors' TF-slim code and torchvision
    # use 0.2. Left out (0.0): it changes only elementwise FLOP.
    dropout: float = 0.0


class InvertedResidual(nn.Module):
    """Table 1: 1x1 conv (t k) + ReLU6, 3x3 depthwise stride s + ReLU6, linear 1x1 to k'."""

    def __init__(self, c_in: int, c_out: int, stride: int, t: int) -> None:
        super().__init__()
        hidden = c_in * t
        layers: list[nn.Module] = [] if t == 1 else [ConvBNAct(c_in, hidden, 1)]
        layers += [ConvBNAct(hidden, hidden, 3, stride, groups=hidden), ConvBNAct(hidden, c_out, 1, act=None)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self, cfg: MobileNetV2Config) -> None:
        super().__init__()
        c = make_divisible(cfg.stem * cfg.width_mult, cfg.divisor)
        last = make_divisible(cfg.last * max(1.0, cfg.width_mult), cfg.divisor)
        layers: list[nn.Module] = [ConvBNAct(cfg.in_channels, c, 3, 2)]
        for t, ch, n, s in cfg.settings:
            c_out = make_divisible(ch * cfg.width_mult, cfg.divisor)
            for i in range(n):
                layers.append(InvertedResidual(c, c_out, s if i == 0 else 1, t))
                c = c_out
        layers.append(ConvBNAct(c, last, 1))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(cfg.dropout) if cfg.dropout else nn.Identity()
        self.classifier = nn.Linear(last, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.pool(self.features(x)).flatten(1)))


# =============================================================================== EfficientNet


@dataclass(frozen=True)
class EfficientNetConfig:
    width: float = 1.0  # Sec. 3.3: width coefficient w (B0 = 1.0; L2 = 4.3)
    depth: float = 1.0  # depth coefficient d: each stage repeats ceil(d x n) times (L2 = 5.3)
    resolution: int = 224  # the compound-scaled resolution r (B0 224; L2 800, its test size)
    image_size: int = 224  # the training input (L2 trains at 475, Noisy Student Sec. 3 / Table 7)
    # Table 1 (B0): (expansion, kernel, stride, output channels, repeats) per MBConv stage
    blocks: tuple[tuple[int, int, int, int, int], ...] = (
        (1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
        (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1),
    )  # fmt: skip
    se_ratio: float = 0.25  # squeeze to 1/4 of the block's *input* width (authors' code)
    stem: int = 32  # Table 1: conv3x3, 32, stride 2 (rounded with the width)
    head: int = 1280  # Table 1: conv1x1, 1280 (rounded with the width)
    divisor: int = 8  # round_filters: multiples of 8
    dropout: float = 0.2  # Sec. 5.2: 0.2 for B0 rising to 0.5 for B7 (L2: 0.5)
    in_channels: int = 3
    n_classes: int = 1000
    # Stochastic depth (drop connect 0.2, Sec. 5.2) is left out: a training-time random mask
    # on the residual branch, no conv or matmul work, and it would make counts draw-dependent.

    def round_filters(self, c: int) -> int:
        return make_divisible(c * self.width, self.divisor)

    def round_repeats(self, n: int) -> int:
        return int(math.ceil(self.depth * n))


class SqueezeExcitation(nn.Module):
    """Hu et al. 2018: global average pool, 1x1 conv reduce + swish, 1x1 conv expand, sigmoid gate."""

    def __init__(self, channels: int, squeezed: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, squeezed, 1)
        self.expand = nn.Conv2d(squeezed, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.adaptive_avg_pool2d(x, 1)
        s = self.expand(F.silu(self.reduce(s)))
        return x * torch.sigmoid(s)


class MBConv(nn.Module):
    """Expansion 1x1 + swish (if t > 1), depthwise k x k stride s + swish, SE, linear 1x1 projection;
    identity residual where stride 1 and c_in == c_out."""

    def __init__(self, c_in: int, c_out: int, t: int, kernel: int, stride: int, se_ratio: float) -> None:
        super().__init__()
        hidden = c_in * t
        self.expand = ConvBNAct(c_in, hidden, 1, act=nn.SiLU) if t != 1 else nn.Identity()
        self.depthwise = ConvBNAct(hidden, hidden, kernel, stride, groups=hidden, act=nn.SiLU)
        self.se = SqueezeExcitation(hidden, max(1, int(c_in * se_ratio)))
        self.project = ConvBNAct(hidden, c_out, 1, act=None)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.se(self.depthwise(self.expand(x))))
        return x + y if self.residual else y


class EfficientNet(nn.Module):
    def __init__(self, cfg: EfficientNetConfig) -> None:
        super().__init__()
        c = cfg.round_filters(cfg.stem)
        layers: list[nn.Module] = [ConvBNAct(cfg.in_channels, c, 3, 2, act=nn.SiLU)]
        for t, k, s, ch, n in cfg.blocks:
            c_out = cfg.round_filters(ch)
            for i in range(cfg.round_repeats(n)):
                layers.append(MBConv(c, c_out, t, k, s if i == 0 else 1, cfg.se_ratio))
                c = c_out
        head = cfg.round_filters(cfg.head)
        layers.append(ConvBNAct(c, head, 1, act=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(cfg.dropout)
        self.classifier = nn.Linear(head, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.pool(self.features(x)).flatten(1)))


# =============================================================================== entries

MOBILENETV2 = MobileNetV2Config()
EFFICIENTNET_B0 = EfficientNetConfig()
EFFICIENTNET_L2 = EfficientNetConfig(width=4.3, depth=5.3, resolution=800, image_size=475, dropout=0.5)

ENTRIES = [
    Entry(
        name="mobilenetv2",
        family="mobilenetv2",
        domain="vision",
        config=MOBILENETV2,
        build_fn=MobileNetV2,
        inputs_fn=image_inputs,
        default_batch=1,
        facts=Facts(
            dataset_name="MobileNetV2",
            year=2018,
            published_parameters=3.4e6,
            parameters_source="Sandler et al. 2018, Table 4 (MobileNetV2: 3.4M parameters, 300M MAdds)",
            parameters_note="+3.1%: 3,470,760 conv and FC weights and biases (the 3.47M listed with the "
            "authors' released checkpoint) + 34,112 batch-norm scales and shifts = 3,504,872; Table 4's "
            "3.4M appears to truncate the former and leave out the latter",
        ),
        tiny=MobileNetV2Config(
            settings=((1, 8, 1, 1), (6, 8, 2, 2), (4, 16, 1, 2)), stem=8, last=32, image_size=32, n_classes=10
        ),
    ),
    Entry(
        name="efficientnet-b0",
        family="efficientnet",
        domain="vision",
        config=EFFICIENTNET_B0,
        build_fn=EfficientNet,
        inputs_fn=image_inputs,
        default_batch=1,
        facts=Facts(
            dataset_name="EfficientNet-B0",
            year=2019,
            published_parameters=5.3e6,
            parameters_source="Tan & Le 2019, Table 2 (EfficientNet-B0: 5.3M parameters, 0.39B FLOPs)",
            parameters_note="5,288,548 instantiated",
        ),
        tiny=EfficientNetConfig(
            width=0.25, depth=0.5, resolution=32, image_size=32, stem=32, head=64, n_classes=10,
            blocks=((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (4, 5, 2, 40, 1)),
        ),  # fmt: skip
    ),
    Entry(
        name="efficientnet-l2",
        family="efficientnet",
        domain="vision",
        config=EFFICIENTNET_L2,
        build_fn=EfficientNet,
        inputs_fn=image_inputs,
        default_batch=1,
        facts=Facts(
            dataset_name="Noisy Student (L2)",
            year=2020,
            published_parameters=480e6,
            parameters_source="Xie et al. 2020 (Noisy Student), Table 7 (EfficientNet-L2: w 4.3, d 5.3, "
            "train res 475, test res 800, 480M parameters)",
            parameters_note="480,309,308 instantiated (+0.06%)",
        ),
        tiny=EfficientNetConfig(
            width=0.5, depth=1.3, resolution=32, image_size=33, stem=16, head=48, n_classes=10,
            blocks=((1, 3, 1, 16, 1), (6, 5, 2, 24, 2)),
        ),  # fmt: skip
    ),
]
