"""Deep Learning Recommendation Model (Naumov et al. 2019, "Deep Learning Recommendation Model for
Personalization and Recommendation Systems", arXiv:1906.00091).

Sec. 2-3: dense features go through a bottom MLP to a vector as wide as the embeddings; each
sparse feature looks up a row of its own embedding table; the "dot" interaction takes the dot
products of every pair of these vectors (the strictly lower triangle of T T^T, no
self-interaction), concatenates them with the bottom MLP's output, and a top MLP with a sigmoid
gives the click probability.

The config built here is the one of the paper's public-data experiment (Sec. 6, Criteo Ad Kaggle:
13 dense and 26 categorical features), as the authors' reference code runs it: embeddings of 16,
bottom MLP 13-512-256-64-16, top MLP 367-512-256-1, one table per categorical feature with as
many rows as the feature has distinct values in the 7 days of data. About 540M parameters, 99.9%
of them in the tables.

Criteo features are one-hot, one index per table per example, so the tables are `nn.Embedding`
lookups (the reference code's `EmbeddingBag(mode="sum")` over bags of one gives the same vectors).
Inputs: (dense [B, 13] floats, sparse [B, 26] indices).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from models._entry import Entry, Facts

# Rows of the 26 tables: distinct values of each categorical feature of Criteo Kaggle, as the
# reference code's preprocessing (dlrm_data_pytorch.py, no --max-ind-range) counts them.
CRITEO_KAGGLE_TABLES = (
    1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194, 27, 14992,
    5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572,
)  # fmt: skip


@dataclass(frozen=True)
class DLRMConfig:
    n_dense: int = 13  # Criteo's integer features (log-transformed)
    table_sizes: tuple[int, ...] = CRITEO_KAGGLE_TABLES  # one table per categorical feature
    d_embed: int = 16  # --arch-sparse-feature-size=16 (the Kaggle run)
    bottom_mlp: tuple[int, ...] = (512, 256, 64, 16)  # widths after the 13 inputs; last = d_embed
    top_mlp: tuple[int, ...] = (512, 256, 1)  # widths after the interaction; last = one logit

    @property
    def n_features(self) -> int:
        """Vectors that interact: the bottom MLP's output and one embedding per table."""
        return 1 + len(self.table_sizes)

    @property
    def d_interaction(self) -> int:
        """Top MLP input: the pairwise dots (lower triangle, no diagonal) + the dense vector."""
        f = self.n_features
        return f * (f - 1) // 2 + self.d_embed


def mlp(widths: list[int], sigmoid_last: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(a, b))
        last = i == len(widths) - 2
        layers.append(nn.Sigmoid() if last and sigmoid_last else nn.ReLU())
    return nn.Sequential(*layers)


class DLRM(nn.Module):
    def __init__(self, cfg: DLRMConfig) -> None:
        super().__init__()
        if cfg.bottom_mlp[-1] != cfg.d_embed:
            raise ValueError("the bottom MLP must end at the embedding width for the dot interaction")
        self.bottom = mlp([cfg.n_dense, *cfg.bottom_mlp], sigmoid_last=False)
        self.tables = nn.ModuleList(nn.Embedding(n, cfg.d_embed) for n in cfg.table_sizes)
        self.top = mlp([cfg.d_interaction, *cfg.top_mlp], sigmoid_last=True)
        # positions of the strictly lower triangle of the F x F dot matrix, flattened
        f = cfg.n_features
        pairs = [i * f + j for i in range(f) for j in range(i)]
        self.register_buffer("pairs", torch.tensor(pairs, dtype=torch.long), persistent=False)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        x = self.bottom(dense)  # [B, d]
        vectors = [x] + [table(sparse[:, k]) for k, table in enumerate(self.tables)]
        t = torch.stack(vectors, dim=1)  # [B, F, d]
        z = torch.bmm(t, t.transpose(1, 2))  # [B, F, F]: every pairwise dot
        dots = z.flatten(1)[:, self.pairs]  # [B, F (F - 1) / 2]
        return self.top(torch.cat([x, dots], dim=1))  # [B, 1] click probability


def example_inputs(cfg: DLRMConfig, batch: int, seq: int | None, device: str | torch.device) -> tuple:
    dense = torch.randn(batch, cfg.n_dense, device=device)
    sparse = torch.stack([torch.randint(0, n, (batch,), device=device) for n in cfg.table_sizes], dim=1)
    return dense, sparse


KAGGLE = DLRMConfig()
TINY = DLRMConfig(table_sizes=(7, 11, 5), d_embed=4, bottom_mlp=(8, 4), top_mlp=(8, 1))

ENTRIES = [
    Entry(
        name="dlrm-criteo-kaggle",
        family="dlrm",
        domain="recommendation",
        config=KAGGLE,
        build_fn=DLRM,
        inputs_fn=example_inputs,
        default_batch=128,
        default_seq=None,
        facts=Facts(
            dataset_name="DLRM-2020",
            year=2019,
            published_parameters=540e6,
            parameters_source="Naumov et al. 2019, Sec. 6 (Criteo Ad Kaggle model, about 540M parameters)",
            parameters_note=(
                "+0.13%: 540.68M instantiated (tables 540.20M, MLPs 0.48M). The dataset row 'DLRM-2020' "
                "cites this paper but lists 100B parameters, taken from Mudigere et al. 2021 "
                "(arXiv:2104.05158) Fig. 1, a production model of 2020 whose tables and MLPs are not "
                "published; this entry builds the paper's public configuration instead"
            ),
        ),
        tiny=TINY,
    ),
]
