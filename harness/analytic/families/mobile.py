"""Forward FLOP of MobileNetV2 and EfficientNet, stage by stage.

Each conv costs 2 N H' W' C_out (C_in / groups) k^2 (see `families.convnets`); a depthwise
k x k conv on C channels (groups = C) is 2 N H' W' C k^2. Padding is k // 2, so a stride-s conv
maps side h to ceil(h / s) (TensorFlow "SAME"). Widths are rounded to multiples of 8, never
more than 10% down (the authors' `_make_divisible` / `round_filters`); EfficientNet repeats
each stage ceil(d x n) times (`round_repeats`).

MobileNetV2 (Sandler et al. 2018, Table 1 and 2): stem 3x3/2 conv; per bottleneck (t, c, n, s)
from k channels at side h: 1x1 k -> tk (omitted when t = 1), 3x3 depthwise on tk (stride s on
the first repeat), 1x1 tk -> c; a 1x1 conv to 1280; global pool; FC 1280 -> classes.
The paper's Table 4 figure, 300M multiply-adds, is this conv + FC sum over 2.

EfficientNet (Tan & Le 2019, Table 1; Noisy Student's L2): stem 3x3/2 conv; per MBConv as
above with the kernel k of its stage, plus squeeze-and-excitation on the 1 x 1 pooled map:
1x1 tk -> max(1, int(0.25 k)) and back, 2 N x 2 x tk x int(0.25 k); head 1x1 conv; FC.
Biases, BN, activations (ReLU6, swish, sigmoid), the SE gating product and the pools belong
to other categories and are not modelled here.
"""

from __future__ import annotations

import math
from typing import Any

from harness.analytic.breakdown import Breakdown
from harness.analytic.families.convnets import ConvWalk


def round_width(v: float, divisor: int = 8) -> int:
    new = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * v else new


def mobilenetv2(cfg: Any, batch: int, seq: int | None = None) -> Breakdown:
    d = cfg.divisor
    w = ConvWalk(batch, cfg.in_channels, cfg.image_size)
    w.conv("stem", round_width(cfg.stem * cfg.width_mult, d), 3, 2, 1)
    for i, (t, c, n, s) in enumerate(cfg.settings, start=1):
        c_out = round_width(c * cfg.width_mult, d)
        for j in range(n):
            hidden = w.channels * t
            if t != 1:
                w.conv(f"bottleneck{i}", hidden, 1)
            w.conv(f"bottleneck{i}", hidden, 3, s if j == 0 else 1, 1, groups=hidden)
            w.conv(f"bottleneck{i}", c_out, 1)
    last = round_width(cfg.last * max(1.0, cfg.width_mult), d)
    w.conv("conv_last", last, 1)
    w.linear("classifier", last, cfg.n_classes)
    return w.breakdown()


def efficientnet(cfg: Any, batch: int, seq: int | None = None) -> Breakdown:
    d = cfg.divisor
    w = ConvWalk(batch, cfg.in_channels, cfg.image_size)
    w.conv("stem", round_width(cfg.stem * cfg.width, d), 3, 2, 1)
    for i, (t, k, s, c, n) in enumerate(cfg.blocks, start=1):
        c_out = round_width(c * cfg.width, d)
        group = f"stage{i}"
        for j in range(int(math.ceil(cfg.depth * n))):
            c_in = w.channels
            hidden = c_in * t
            if t != 1:
                w.conv(group, hidden, 1)
            w.conv(group, hidden, k, s if j == 0 else 1, k // 2, groups=hidden)
            squeezed = max(1, int(c_in * cfg.se_ratio))
            w.conv(group, squeezed, 1, c_in=hidden, size=1, advance=False)  # SE reduce on the pooled map
            w.conv(group, hidden, 1, c_in=squeezed, size=1, advance=False)  # SE expand
            w.conv(group, c_out, 1)
    head = round_width(cfg.head * cfg.width, d)
    w.conv("head", head, 1)
    w.linear("classifier", head, cfg.n_classes)
    return w.breakdown()


FORMULAS = {"mobilenetv2": mobilenetv2, "efficientnet": efficientnet}
