"""Forward FLOP of the NASv3 CIFAR-10 network as the zoo builds it (Zoph & Le 2017, Table 1).

Layer i (1-based) is a k x k conv (padding k // 2, no bias) from the concatenation of the two
layers before it: C_in = 3 for the first, w + 3 for the second, 2w after; 2x2 max pooling
after the layers in `pool_after` halves the side. Each conv costs 2 N s^2 w C_in k^2 (see
`families.convnets`); the classifier 2 N (2w) classes. BN, ReLU, pooling and the
concatenations are other categories, not modelled here.
"""

from __future__ import annotations

from typing import Any

from harness.analytic.breakdown import Breakdown
from harness.analytic.families.convnets import ConvWalk


def nas(cfg: Any, batch: int, seq: int | None = None) -> Breakdown:
    w = ConvWalk(batch, cfg.in_channels, cfg.image_size)
    k, width = cfg.kernel, cfg.width
    for i in range(1, cfg.n_layer + 1):
        c_in = cfg.in_channels if i == 1 else (width + cfg.in_channels if i == 2 else 2 * width)
        block = 1 + sum(i > p for p in cfg.pool_after)
        w.conv(f"block{block}", width, k, 1, k // 2, c_in=c_in)
        if i in cfg.pool_after:
            w.pool(2, 2)
    w.linear("fc", 2 * width, cfg.n_classes)
    return w.breakdown()


FORMULAS = {"nas": nas}
