"""The frozen result of one count."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from harness.conventions import AttentionConvention, Category, Phase


@dataclass(frozen=True)
class FlopCount:
    """FLOP of one model run (2 FLOP per MAC), with every breakdown needed to reconcile it.

    `total`, `by_category`, `by_phase` and `by_module` follow `attention_convention`;
    `total_full` and `total_causal` give both conventions. `by_module` is hierarchical:
    'blocks.3' includes 'blocks.3.attn'; '' is everything inside the model (the loss and the
    optimizer step are outside it). `uncounted` maps op name -> calls of ops with no formula,
    `uncounted_elements` op name -> the elements those calls wrote (their size), beside
    `counted_elements`, the elements written by ops that were counted. `notes` say what a reader
    must know about the figure (a mask whose values were unknown, say).
    `recompute_flop` is what fused attention kernels recompute in the backward (hardware
    FLOP, not model FLOP; add it for HFU).
    """

    total: int
    by_category: Mapping[str, int]
    by_phase: Mapping[str, int]
    by_phase_category: Mapping[str, Mapping[str, int]]
    by_module: Mapping[str, int]
    by_op: Mapping[str, tuple[int, int]]
    uncounted: Mapping[str, int]
    uncounted_elements: Mapping[str, int]
    counted_elements: int
    notes: tuple[str, ...]
    attention_convention: str
    causal_saved_flop: int
    recompute_flop: int
    device: str
    phase: str

    @property
    def total_full(self) -> int:
        """Total with causal attention counted as the full square."""
        if self.attention_convention == AttentionConvention.FULL.value:
            return self.total
        return self.total + self.causal_saved_flop

    @property
    def total_causal(self) -> int:
        """Total with causal attention counted as the lower triangle, diagonal included."""
        if self.attention_convention == AttentionConvention.CAUSAL.value:
            return self.total
        return self.total - self.causal_saved_flop

    @property
    def uncounted_calls(self) -> int:
        return sum(self.uncounted.values())

    @property
    def uncounted_share(self) -> float:
        """Share of op calls with arithmetic whose cost is unknown (0.0 when all are counted)."""
        counted = sum(calls for calls, _ in self.by_op.values())
        calls = counted + self.uncounted_calls
        return self.uncounted_calls / calls if calls else 0.0

    @property
    def uncounted_size_share(self) -> float:
        """Share of the output elements of ops with arithmetic written by uncounted ops."""
        uncounted = sum(self.uncounted_elements.values())
        total = uncounted + self.counted_elements
        return uncounted / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_flop": self.total,
            "total_flop_full_attention": self.total_full,
            "total_flop_causal_attention": self.total_causal,
            "attention_convention": self.attention_convention,
            "by_category": dict(self.by_category),
            "by_phase": dict(self.by_phase),
            "by_phase_category": {p: dict(c) for p, c in self.by_phase_category.items()},
            "by_module": dict(self.by_module),
            "uncounted": dict(self.uncounted),
            "uncounted_elements": dict(self.uncounted_elements),
            "uncounted_share_calls": self.uncounted_share,
            "uncounted_share_size": self.uncounted_size_share,
            "notes": list(self.notes),
            "recompute_flop": self.recompute_flop,
            "device": self.device,
            "phase": self.phase,
        }


def freeze(
    by_phase_category: Mapping[tuple[Phase, Category], int],
    by_module: Mapping[str, int],
    by_op: Mapping[str, list[int]],
    uncounted: Mapping[str, int],
    *,
    uncounted_elements: Mapping[str, int] | None = None,
    counted_elements: int = 0,
    notes: tuple[str, ...] = (),
    convention: AttentionConvention,
    causal_saved: int,
    recompute: int,
    device: str,
    phase: str,
) -> FlopCount:
    """Build the frozen result from a tally (already in the chosen attention convention)."""
    phases = {p.value: {c.value: 0 for c in Category} for p in Phase}
    for (p, c), flop in by_phase_category.items():
        phases[p.value][c.value] += flop
    by_category = {c.value: sum(phases[p][c.value] for p in phases) for c in Category}
    by_phase = {p: sum(cats.values()) for p, cats in phases.items()}
    ro = MappingProxyType
    return FlopCount(
        total=sum(by_phase.values()),
        by_category=ro(by_category),
        by_phase=ro(by_phase),
        by_phase_category=ro({p: ro(c) for p, c in phases.items()}),
        by_module=ro(dict(sorted(by_module.items(), key=lambda kv: _natural(kv[0])))),
        by_op=ro({k: (v[0], v[1]) for k, v in sorted(by_op.items())}),
        uncounted=ro(dict(sorted(uncounted.items()))),
        uncounted_elements=ro(dict(sorted((uncounted_elements or {}).items()))),
        counted_elements=counted_elements,
        notes=tuple(notes),
        attention_convention=convention.value,
        causal_saved_flop=causal_saved,
        recompute_flop=recompute,
        device=device,
        phase=phase,
    )


def _natural(path: str) -> tuple:
    """'blocks.10' after 'blocks.2': numeric parts compare as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.split(".")) if path else ()
