"""Forward FLOP of bottleneck ResNets (He et al. 2015, Table 1, Fig. 5), stage by stage.

Each conv costs 2 N H' W' C_out C_in k^2 (see `families.convnets`). Stem: 7x7/2 conv (pad 3)
then a 3x3/2 max-pool (pad 1): 224 -> 112 -> 56. A bottleneck block from C_in at side s,
width w, stride t (2 on the first block of conv3_x .. conv5_x), output 4w, s' = floor((s-1)/t)+1:
    1x1 C_in -> w, 3x3 w -> w (pad 1), 1x1 w -> 4w. With the stride on the first 1x1 (the
    authors' released models, this config's default) all three produce s'^2 outputs; with it
    on the 3x3 (`stride_on_3x3`, "v1.5") the first 1x1 produces s^2, which costs more.
    Projection shortcut (1x1, stride t, C_in -> 4w) where the shape changes (option B, Sec. 3.3).
Classifier: global average pool, then 2 N C x classes. BN, ReLU, the additions and the pools
are other categories, not modelled here.
"""

from __future__ import annotations

from typing import Any

from harness.analytic.breakdown import Breakdown
from harness.analytic.families.convnets import ConvWalk


def resnet(cfg: Any, batch: int, seq: int | None = None) -> Breakdown:
    w = ConvWalk(batch, cfg.in_channels, cfg.image_size)
    w.conv("conv1", cfg.stem, 7, 2, 3)
    w.pool(3, 2, 1)
    for i, (n, width) in enumerate(zip(cfg.layers, cfg.widths)):
        group = f"conv{i + 2}_x"
        c_out = width * cfg.expansion
        for j in range(n):
            stride = 2 if i > 0 and j == 0 else 1
            c_in, side = w.channels, w.size
            s1, s3 = (1, stride) if cfg.stride_on_3x3 else (stride, 1)
            w.conv(group, width, 1, s1)
            w.conv(group, width, 3, s3, 1)
            w.conv(group, c_out, 1)
            if stride != 1 or c_in != c_out:
                w.conv(group, c_out, 1, stride, c_in=c_in, size=side, advance=False)
    w.linear("fc", w.channels, cfg.n_classes)
    return w.breakdown()


FORMULAS = {"resnet": resnet}
