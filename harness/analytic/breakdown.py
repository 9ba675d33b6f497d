"""A forward count by component: each component names its op category and its FLOP."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Component:
    name: str  # e.g. "attention.qkv", "mlp", "logits"
    category: str  # one of harness.conventions.Category's values
    flop: int
    formula: str = ""  # the expression, in the paper's symbols


Breakdown = tuple[Component, ...]


def by_category(parts: Breakdown) -> dict[str, int]:
    """Sum a breakdown's FLOP by op category."""
    out: dict[str, int] = {}
    for c in parts:
        out[c.category] = out.get(c.category, 0) + c.flop
    return out


def total(parts: Breakdown) -> int:
    return sum(c.flop for c in parts)
