"""The CIFAR-10 network found by Neural Architecture Search (Zoph & Le 2017, ICLR), "NASv3".

Zoph & Le, "Neural Architecture Search with Reinforcement Learning", Sec. 4.1 and Table 1:
the controller's v3 search space adds max pooling to convolutional layers with skip
connections; the network it found has 39 layers and 7.1M parameters (4.47% error), and the
same network with more filters per layer has 37.4M parameters (3.65%). Each layer is a
convolution, batch normalisation and ReLU; a layer's input is the depth-concatenation of the
earlier layers the controller connects to it.

The paper publishes the 15-layer v1 network's wiring (Fig. 7) but not the v3 network's
kernels, filters and skip connections. The harness's reading, stated so it can be changed:
three blocks of 13 layers at 32x32, 16x16 and 8x8 (2x2 max pooling after layers 13 and 26),
every kernel 3x3, each layer reading the concatenation of the two layers before it (the
image for the first), one width throughout, then global average pooling and a linear
classifier over the last two layers' maps. `width` is set so the parameters match the paper:
235 gives 37.4M (the "more filters" network), 102 gives 7.1M (the v3 network at search width,
the child that `harness/estimate/training_runs.toml` uses for the search).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from models._entry import Entry, Facts


@dataclass(frozen=True)
class NasConfig:
    n_layer: int = 39  # Table 1: 39 layers
    width: int = 235  # filters per layer: 37.4M parameters (Table 1, "+ more filters")
    kernel: int = 3  # the harness's reading (the controller chose from 1, 3, 5, 7)
    pool_after: tuple[int, ...] = (13, 26)  # 2x2 max pooling after these layers
    image_size: int = 32  # CIFAR-10
    in_channels: int = 3
    n_classes: int = 10


class NasNet(nn.Module):
    """Conv-BN-ReLU layers, each over the concatenation of the previous two layers' outputs."""

    def __init__(self, cfg: NasConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for i in range(cfg.n_layer):
            c_in = cfg.in_channels if i == 0 else (w + cfg.in_channels if i == 1 else 2 * w)
            self.convs.append(nn.Conv2d(c_in, w, cfg.kernel, padding=cfg.kernel // 2, bias=False))
            self.norms.append(nn.BatchNorm2d(w))
        self.fc = nn.Linear(2 * w, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        prev, last = None, x  # the two most recent outputs (the image before the first layer)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms), 1):
            inp = last if prev is None else torch.cat([last, prev], dim=1)  # [B, C_last + C_prev, s, s]
            prev, last = last, F.relu(norm(conv(inp)))
            if i in self.cfg.pool_after:
                prev, last = F.max_pool2d(prev, 2), F.max_pool2d(last, 2)
        h = torch.cat([last, prev], dim=1).mean(dim=(2, 3))  # global average pool: [B, 2w]
        return self.fc(h)


def nas_inputs(cfg: NasConfig, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    """A batch of CIFAR-10 images: (B, 3, 32, 32)."""
    return (torch.randn(batch, cfg.in_channels, cfg.image_size, cfg.image_size, device=device),)


NASV3 = NasConfig()
NASV3_SEARCH_CHILD = NasConfig(width=102)  # Table 1, "v3 max pooling": 7.1M parameters
TINY = NasConfig(n_layer=5, width=8, pool_after=(2, 4), image_size=8)

ENTRIES = [
    Entry(
        name="nasv3-cifar10",
        family="nas",
        domain="vision",
        config=NASV3,
        build_fn=NasNet,
        inputs_fn=nas_inputs,
        default_batch=1,
        facts=Facts(
            dataset_name="NASv3 (CIFAR-10)",
            year=2016,
            published_parameters=37.4e6,
            parameters_source="Zoph & Le 2017, Table 1 ('Neural Architecture Search v3 max pooling + more filters': 39 layers, 37.4M)",
        ),
        tiny=TINY,
    ),
    Entry(
        name="nasv3-search-child",
        family="nas",
        domain="vision",
        config=NASV3_SEARCH_CHILD,
        build_fn=NasNet,
        inputs_fn=nas_inputs,
        default_batch=1,
        tiny=TINY,
    ),
]
