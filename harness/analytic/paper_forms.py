"""The papers' closed forms for one step of a zoo family, to set beside the dispatch count.

Decoder LMs (the `gpt` family): Kaplan et al. 2020 (forward 2N + 2 L n_ctx d_attn per token;
training 6N per token), Chowdhery et al. 2022 App. B (PaLM: 6N + 12 L H Q T per token),
Hoffmann et al. 2022 App. F (Chinchilla: forward by component, backward 2x), Narayanan et al.
2021 eq. 3 (with full recompute) and Korthikanti et al. 2022 (model FLOPs). Every other family
with an analytic formula in `families/`: its per-layer matmul-class forward (convolutions and
linear layers, layer by layer, from each paper's own table). N is the non-embedding parameters.
Pure Python, no torch; configs are read by attribute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from harness.analytic import FAMILIES, breakdown
from harness.analytic import formulas as F
from harness.analytic.breakdown import total

__all__ = ["PaperForm", "paper_forms"]

Phase = Literal["forward", "train"]


@dataclass(frozen=True)
class PaperForm:
    """One paper's FLOP for the step: `phase` "forward", or "train" (forward + backward, no optimizer)."""

    name: str
    flop: float
    phase: Phase
    source: str


def _gpt(cfg: Any, batch: int, seq: int, n: float) -> list[PaperForm]:
    L, H, d, V = cfg.n_layer, cfg.n_head, cfg.d_model, cfg.vocab_size
    dh = cfg.head_dim
    tokens = batch * seq
    chin = sum(F.chinchilla_forward_per_sequence(seq, V, d, L, H, dh, cfg.ff).values()) * batch
    return [
        PaperForm("Kaplan 2N + 2 L n_ctx d_attn", tokens * F.kaplan_forward_per_token(n, L, seq, H * dh), "forward",
                  "Kaplan et al. 2020, Table 1"),
        PaperForm("Chinchilla App. F", chin, "forward", "Hoffmann et al. 2022, App. F"),
        PaperForm("Kaplan 6N", tokens * 6 * n, "train", "Kaplan et al. 2020, Sec. 2.1"),
        PaperForm("PaLM 6N + 12 L H Q T", tokens * F.palm_training_per_token(n, L, H, dh, seq), "train",
                  "Chowdhery et al. 2022, App. B"),
        PaperForm("Chinchilla App. F x 3", 3 * chin, "train", "Hoffmann et al. 2022, App. F (backward = 2x forward)"),
        PaperForm("Korthikanti model FLOPs", F.korthikanti_model_flop(batch, seq, L, d, V), "train",
                  "Korthikanti et al. 2022, Sec. 6"),
        PaperForm("Narayanan (with recompute)", F.narayanan_per_iteration(batch, seq, L, d, V), "train",
                  "Narayanan et al. 2021, eq. 3: includes a recomputed forward (hardware FLOP)"),
    ]


def paper_forms(family: str | None, config: Any, batch: int, seq: int | None, params_non_embedding: float
                ) -> list[PaperForm]:
    """Every closed form the analytic package holds for this family at this batch and sequence."""
    if family == "gpt" and seq is not None:
        return _gpt(config, batch, seq, params_non_embedding)
    if family in FAMILIES:
        return [PaperForm(f"per-layer forms ({family})", float(total(breakdown(family, config, batch, seq))), "forward",
                          f"harness.analytic.families: the {family} paper's layer table, matmul-class ops only")]
    return []
