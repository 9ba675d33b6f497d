"""The classic ImageNet-era convnets: LeNet-5, AlexNet, VGG, GoogLeNet (Inception v1).

Each follows its paper's figure and table, layer by layer, in plain PyTorch:

* LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998, "Gradient-based learning applied to document
  recognition", Sec. II.B, Fig. 2, Table I): C1-S2-C3-S4-C5-F6 and the Euclidean RBF output,
  trainable sub-sampling, C3's partial connection table, scaled tanh squashing.
* AlexNet (Krizhevsky, Sutskever, Hinton 2012, Sec. 3, Fig. 2): five conv layers, three fully
  connected, ReLU, local response normalisation, overlapping max-pooling, dropout; the two-GPU
  split as grouped convolutions (groups=2 where the paper's kernels see only their own GPU).
* VGG (Simonyan & Zisserman 2014, Table 1): stacks of 3x3 convs, 2x2 max-pools, three FC layers.
* GoogLeNet (Szegedy et al. 2014, "Going deeper with convolutions", Table 1, Fig. 2b, Fig. 3):
  the nine Inception modules with their 1x1 reductions, optional auxiliary classifiers.

The configs are plain tuples and integers, so the analytic formulas of
`harness.analytic.families.convnets` can walk the same layer list without importing this file.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from models._entry import Entry, Facts


def _pool_out(size: int, kernel: int, stride: int, padding: int = 0, ceil_mode: bool = False) -> int:
    """Output size of a pooling window, as torch computes it (Caffe's ceil mode included)."""
    span = size + 2 * padding - kernel
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window must start inside the input
    return out


def _conv_out(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def image_inputs(cfg, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    """A batch of images at the config's training resolution: (B, C, H, W)."""
    return (torch.randn(batch, cfg.in_channels, cfg.image_size, cfg.image_size, device=device),)


# =============================================================================== LeNet-5


@dataclass(frozen=True)
class LeNetConfig:
    image_size: int = 32  # Sec. II.B: 32x32 input, the 28x28 digit centred with a margin
    in_channels: int = 1  # grey-level images
    c1: int = 6  # C1: 6 feature maps, 5x5 kernels
    c5: int = 120  # C5: 120 maps, 5x5 kernels over all 16 S4 maps (1x1 output at 32x32 input)
    f6: int = 84  # F6: 84 units (a 7x12 bitmap per class in the RBF layer)
    n_classes: int = 10  # digits
    # C3 (Table I): 16 maps; maps 0-5 read 3 contiguous S2 maps, 6-11 read 4 contiguous,
    # 12-14 read 4 discontinuous, 15 reads all 6: 60 of the 96 possible map connections.
    # The table is fixed by the paper for 6 -> 16 maps, so C1 must stay 6.
    c3_table: tuple[tuple[int, ...], ...] = (
        (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
        (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
        (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
        (0, 1, 2, 3, 4, 5),
    )  # fmt: skip
    kernel: int = 5  # C1, C3, C5 kernels


def squash(x: torch.Tensor) -> torch.Tensor:
    """LeNet's sigmoid: f(a) = A tanh(S a), A = 1.7159, S = 2/3 (Sec. II.B, Appendix A)."""
    return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class Subsampling(nn.Module):
    """S2, S4: the four inputs of each 2x2 window are added, multiplied by a trainable
    coefficient and a trainable bias is added (one of each per map). The mean times the
    coefficient is the same function (the 1/4 folds into the coefficient)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 2) * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class PartialConv(nn.Module):
    """C3's partial connectivity (Table I) as one grouped conv per fan-in: the maps that read k
    S2 maps share a conv with groups = their count, fed the gathered k-map inputs in order.
    Its weights are exactly the 60 x 25 connections of the table (plus one bias per map)."""

    def __init__(self, table: tuple[tuple[int, ...], ...], kernel: int) -> None:
        super().__init__()
        self.fan_ins = sorted({len(row) for row in table})
        self.order: list[int] = []  # output map index of each grouped conv's output, in order
        self.convs = nn.ModuleList()
        for k in self.fan_ins:
            rows = [i for i, row in enumerate(table) if len(row) == k]
            self.order += rows
            gather = [c for i in rows for c in table[i]]
            self.register_buffer(f"gather{k}", torch.tensor(gather, dtype=torch.long), persistent=False)
            self.convs.append(nn.Conv2d(k * len(rows), len(rows), kernel, groups=len(rows)))
        assert self.order == list(range(len(table))), "C3's table must list maps by fan-in"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [
            conv(torch.index_select(x, 1, getattr(self, f"gather{k}")))
            for k, conv in zip(self.fan_ins, self.convs)
        ]
        return torch.cat(outs, dim=1)


class LeNet5(nn.Module):
    def __init__(self, cfg: LeNetConfig) -> None:
        super().__init__()
        k = cfg.kernel
        self.c1 = nn.Conv2d(cfg.in_channels, cfg.c1, k)
        self.s2 = Subsampling(cfg.c1)
        self.c3 = PartialConv(cfg.c3_table, k)
        self.s4 = Subsampling(len(cfg.c3_table))
        self.c5 = nn.Conv2d(len(cfg.c3_table), cfg.c5, k)
        side = ((cfg.image_size - k + 1) // 2 - k + 1) // 2 - k + 1
        self.f6 = nn.Linear(cfg.c5 * side * side, cfg.f6)
        # Output RBF units: y_i = sum_j (x_j - w_ij)^2. Their parameter vectors are "chosen by
        # hand and kept fixed" (Sec. II.B): a buffer, not a parameter, so the 60,000 trainable
        # parameters of the paper are exactly the count. A constant stands in for the paper's
        # stylised 7x12 bitmaps (values do not change any count).
        self.register_buffer("rbf_centres", torch.ones(cfg.n_classes, cfg.f6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = squash(self.s2(squash(self.c1(x))))
        x = squash(self.s4(squash(self.c3(x))))
        x = squash(self.c5(x)).flatten(1)
        x = squash(self.f6(x))
        return (x.unsqueeze(1) - self.rbf_centres).pow(2).sum(-1)  # [B, classes] penalties


# =============================================================================== AlexNet


@dataclass(frozen=True)
class AlexNetConfig:
    # Sec. 3.5 says 224x224 inputs, but conv1 (11x11, stride 4, no padding) only gives the 55x55
    # maps of Fig. 2 from 227x227 (as in the authors' cuda-convnet layer files): 227 here.
    image_size: int = 227
    in_channels: int = 3
    conv: tuple[int, ...] = (96, 256, 384, 384, 256)  # Fig. 2: both GPUs' kernels together
    # Fig. 2 / Sec. 3.2: conv2, conv4, conv5 connect only to the kernel maps on the same GPU
    # (groups=2); conv3 and the FC layers connect across GPUs. One tower (groups 1) would give
    # 62.4M parameters instead of 61.0M, further from the paper's "60 million".
    groups: tuple[int, ...] = (1, 2, 1, 2, 2)
    fc: tuple[int, ...] = (4096, 4096)  # FC6, FC7
    n_classes: int = 1000
    dropout: float = 0.5  # Sec. 4.2: dropout in the first two fully connected layers
    lrn: tuple[int, float, float, float] = (5, 1e-4, 0.75, 2.0)  # Sec. 3.3: n, alpha, beta, k


class AlexNet(nn.Module):
    def __init__(self, cfg: AlexNetConfig) -> None:
        super().__init__()
        c1, c2, c3, c4, c5 = cfg.conv
        g1, g2, g3, g4, g5 = cfg.groups
        n, alpha, beta, k = cfg.lrn
        # torch's LocalResponseNorm divides alpha by n; the paper's alpha multiplies the plain sum
        lrn = lambda: nn.LocalResponseNorm(n, alpha=alpha * n, beta=beta, k=k)  # noqa: E731
        self.features = nn.Sequential(
            nn.Conv2d(cfg.in_channels, c1, 11, stride=4, groups=g1), nn.ReLU(), lrn(),
            nn.MaxPool2d(3, 2),  # overlapping pooling, s = 2, z = 3 (Sec. 3.4)
            nn.Conv2d(c1, c2, 5, padding=2, groups=g2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
            nn.Conv2d(c2, c3, 3, padding=1, groups=g3), nn.ReLU(),
            nn.Conv2d(c3, c4, 3, padding=1, groups=g4), nn.ReLU(),
            nn.Conv2d(c4, c5, 3, padding=1, groups=g5), nn.ReLU(), nn.MaxPool2d(3, 2),
        )  # fmt: skip
        s = _conv_out(cfg.image_size, 11, 4)
        s = _pool_out(_pool_out(s, 3, 2), 3, 2)
        s = _pool_out(s, 3, 2)
        layers: list[nn.Module] = []
        width = c5 * s * s
        for f in cfg.fc:
            layers += [nn.Dropout(cfg.dropout), nn.Linear(width, f), nn.ReLU()]
            width = f
        self.classifier = nn.Sequential(*layers, nn.Linear(width, cfg.n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


# =============================================================================== VGG


@dataclass(frozen=True)
class VGGConfig:
    # Table 1, column D (VGG-16): conv3 widths, "M" a 2x2 max-pool of stride 2.
    layers: tuple[int | str, ...] = (
        64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
    )  # fmt: skip
    image_size: int = 224  # Sec. 2.1: fixed-size 224x224 crops
    in_channels: int = 3
    fc: tuple[int, ...] = (4096, 4096)  # Sec. 2.1: two FC layers of 4096, then 1000-way
    n_classes: int = 1000
    dropout: float = 0.5  # Sec. 3.1: dropout 0.5 on the first two FC layers


class VGG(nn.Module):
    def __init__(self, cfg: VGGConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c, s = cfg.in_channels, cfg.image_size
        for v in cfg.layers:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
                s = _pool_out(s, 2, 2)
            else:
                layers += [nn.Conv2d(c, int(v), 3, padding=1), nn.ReLU()]  # stride 1, padding 1
                c = int(v)
        self.features = nn.Sequential(*layers)
        head: list[nn.Module] = []
        width = c * s * s
        for f in cfg.fc:
            head += [nn.Linear(width, f), nn.ReLU(), nn.Dropout(cfg.dropout)]
            width = f
        self.classifier = nn.Sequential(*head, nn.Linear(width, cfg.n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


# =============================================================================== GoogLeNet

# Table 1: (name, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj); "M": 3x3/2 max-pool
INCEPTION_V1 = (
    ("3a", 64, 96, 128, 16, 32, 32),
    ("3b", 128, 128, 192, 32, 96, 64),
    "M",
    ("4a", 192, 96, 208, 16, 48, 64),
    ("4b", 160, 112, 224, 24, 64, 64),
    ("4c", 128, 128, 256, 24, 64, 64),
    ("4d", 112, 144, 288, 32, 64, 64),
    ("4e", 256, 160, 320, 32, 128, 128),
    "M",
    ("5a", 256, 160, 320, 32, 128, 128),
    ("5b", 384, 192, 384, 48, 128, 128),
)


@dataclass(frozen=True)
class GoogLeNetConfig:
    modules: tuple = INCEPTION_V1
    image_size: int = 224  # Table 1: 224x224 RGB input
    in_channels: int = 3
    stem: tuple[int, int, int] = (64, 64, 192)  # conv1 7x7/2, conv2 1x1 reduce, conv2 3x3
    n_classes: int = 1000
    dropout: float = 0.4  # Sec. 5: 40% dropout before the classifier
    # Sec. 5: auxiliary classifiers on 4a and 4d are used in training only and discarded at
    # inference. They are off here: the published 6.8M parameters (Table 1) leave them out,
    # and so does the network the paper evaluates. Set ("4a", "4d") to count them (forward
    # then returns (logits, aux1, aux2); pass a loss_fn summing all three for a train count).
    aux_after: tuple[str, ...] = ()
    aux: tuple[int, int] = (128, 1024)  # Sec. 5: 1x1 conv of 128 filters, FC of 1024 units
    aux_dropout: float = 0.7
    # Fig. 3 "LocalRespNorm": the paper gives no constants; these (n, alpha, beta, k) are the BVLC
    # Caffe reproduction's. Caffe, like torch, scales the sum of squares by alpha / n.
    lrn: tuple[int, float, float, float] = (5, 1e-4, 0.75, 1.0)


class Inception(nn.Module):
    """Fig. 2(b): 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3 max-pool -> 1x1, concatenated.
    Every conv is followed by a ReLU ("including those inside the Inception modules")."""

    def __init__(self, c_in: int, n1: int, r3: int, n3: int, r5: int, n5: int, pp: int) -> None:
        super().__init__()
        self.branch1 = nn.Sequential(nn.Conv2d(c_in, n1, 1), nn.ReLU())
        self.branch3 = nn.Sequential(
            nn.Conv2d(c_in, r3, 1), nn.ReLU(), nn.Conv2d(r3, n3, 3, padding=1), nn.ReLU()
        )
        self.branch5 = nn.Sequential(
            nn.Conv2d(c_in, r5, 1), nn.ReLU(), nn.Conv2d(r5, n5, 5, padding=2), nn.ReLU()
        )
        self.branch_pool = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(c_in, pp, 1), nn.ReLU()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], 1)


class AuxClassifier(nn.Module):
    """Sec. 5: 5x5/3 average pool, 1x1 conv (128) + ReLU, FC 1024 + ReLU, 70% dropout, linear."""

    def __init__(self, c_in: int, side: int, cfg: GoogLeNetConfig) -> None:
        super().__init__()
        proj, hidden = cfg.aux
        s = _pool_out(side, 5, 3)
        self.pool = nn.AvgPool2d(5, stride=3)
        self.conv = nn.Conv2d(c_in, proj, 1)
        self.fc = nn.Linear(proj * s * s, hidden)
        self.dropout = nn.Dropout(cfg.aux_dropout)
        self.out = nn.Linear(hidden, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv(self.pool(x))).flatten(1)
        return self.out(self.dropout(F.relu(self.fc(x))))


class GoogLeNet(nn.Module):
    def __init__(self, cfg: GoogLeNetConfig) -> None:
        super().__init__()
        c1, r2, c2 = cfg.stem
        n, alpha, beta, k = cfg.lrn
        # Max-pools round up (as in the BVLC Caffe reproduction) to give Table 1's sizes:
        # 112 -> 56 -> 28 -> 14 -> 7 (rounding down would give 55 -> 27 -> 13 -> 6)
        pool = lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True)  # noqa: E731
        self.stem = nn.Sequential(
            nn.Conv2d(cfg.in_channels, c1, 7, stride=2, padding=3), nn.ReLU(), pool(),
            nn.LocalResponseNorm(n, alpha=alpha, beta=beta, k=k),
            nn.Conv2d(c1, r2, 1), nn.ReLU(), nn.Conv2d(r2, c2, 3, padding=1), nn.ReLU(),
            nn.LocalResponseNorm(n, alpha=alpha, beta=beta, k=k), pool(),
        )  # fmt: skip
        s = _pool_out(_conv_out(cfg.image_size, 7, 2, 3), 3, 2, ceil_mode=True)
        s = _pool_out(s, 3, 2, ceil_mode=True)
        c = c2
        self.blocks = nn.ModuleDict()
        self.aux = nn.ModuleDict()
        for i, spec in enumerate(cfg.modules):
            if spec == "M":
                self.blocks[f"pool{i}"] = pool()
                s = _pool_out(s, 3, 2, ceil_mode=True)
                continue
            name, *widths = spec
            self.blocks[name] = Inception(c, *widths)
            c = widths[0] + widths[2] + widths[4] + widths[5]
            if name in cfg.aux_after:
                self.aux[name] = AuxClassifier(c, s, cfg)
        self.pool = nn.AdaptiveAvgPool2d(1)  # Table 1: 7x7 average pool at 224x224
        self.dropout = nn.Dropout(cfg.dropout)
        self.fc = nn.Linear(c, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.stem(x)
        aux: list[torch.Tensor] = []
        for name, block in self.blocks.items():
            x = block(x)
            if name in self.aux:
                aux.append(self.aux[name](x))
        logits = self.fc(self.dropout(self.pool(x).flatten(1)))
        return (logits, *aux) if aux else logits


# =============================================================================== entries

LENET5 = LeNetConfig()
ALEXNET = AlexNetConfig()
VGG16 = VGGConfig()
GOOGLENET = GoogLeNetConfig()

ENTRIES = [
    Entry(
        name="lenet-5",
        family="lenet",
        domain="vision",
        config=LENET5,
        build_fn=LeNet5,
        inputs_fn=image_inputs,
        default_batch=1,
        facts=Facts(
            dataset_name="LeNet-5",
            year=1998,
            published_parameters=60_000,
            parameters_source="LeCun et al. 1998, Sec. II.B ('60,000 trainable free parameters')",
            parameters_note="exact: C1 156 + S2 12 + C3 1,516 + S4 32 + C5 48,120 + F6 10,164; the "
            "RBF output's 840 weights are fixed by hand, kept as a buffer",
        ),
        tiny=LENET5,  # the real network runs in about a millisecond
    ),
    Entry(
        name="alexnet",
        family="alexnet",
        domain="vision",
        config=ALEXNET,
        build_fn=AlexNet,
        inputs_fn=image_inputs,
        default_batch=1,
        facts=Facts(
            dataset_name="AlexNet",
            year=2012,
            published_parameters=60e6,
            parameters_source="Krizhevsky et al. 2012, Sec. 4 ('60 million parameters')",
            parameters_note="+1.6%: the two-GPU network of Fig. 2 (conv2, conv4, conv5 grouped in 2) "
            "has 60,965,224 weights and biases; the paper rounds to 60 million",
        ),
        tiny=AlexNetConfig(image_size=67, conv=(8, 16, 16, 16, 16), fc=(32, 32), n_classes=10),
    ),
    Entry(
        name="vgg-16",
        family="vgg",
        domain="vision",
        config=VGG16,
        build_fn=VGG,
        inputs_fn=image_inputs,
        default_batch=1,
        facts=Facts(
            dataset_name="VGG16",
            year=2014,
            published_parameters=138e6,
            parameters_source="Simonyan & Zisserman 2014, Table 2 (configuration D: 138M)",
            parameters_note="138,357,544 instantiated",
        ),
        tiny=VGGConfig(layers=(8, "M", 16, 16, "M"), image_size=16, fc=(32, 32), n_classes=10),
    ),
    Entry(
        name="googlenet",
        family="inception",
        domain="vision",
        config=GOOGLENET,
        build_fn=GoogLeNet,
        inputs_fn=image_inputs,
        default_batch=1,
        facts=Facts(
            dataset_name="GoogLeNet / InceptionV1",
            year=2014,
            published_parameters=6.7977e6,
            parameters_source="Szegedy et al. 2014, Table 1 (sum of the params column: 6,797.7K)",
            parameters_note="+3.0%: the widths of Table 1 give 6,990,272 weights + 8,280 biases = "
            "6,998,552; the table's params column (6,797.7K summed, K = 1024) disagrees with its own "
            "widths on some rows (conv1 2.7K vs 9,408 weights, 4c 463K vs 497.5K, 5a 1072K vs 1018K). "
            "Auxiliary classifiers excluded, as in the table",
        ),
        tiny=GoogLeNetConfig(
            modules=(("3a", 8, 8, 8, 4, 4, 4), "M", ("4a", 8, 8, 8, 4, 4, 4), ("4b", 8, 8, 8, 4, 4, 4), "M",
                     ("5a", 8, 8, 8, 4, 4, 4)),
            image_size=128,
            stem=(8, 8, 16),
            n_classes=10,
            aux_after=("4a",),
            aux=(8, 16),
        ),  # fmt: skip
    ),
]
