"""Presentation of a counted training-compute estimate: its parts, per-unit phases, the closed form."""

from __future__ import annotations

from harness.estimate.counted import CountedEstimate


def counted_lines(c: CountedEstimate) -> list[str]:
    """Plain lines for a terminal: each part with its arithmetic, the counted phases per token or
    example, and the closed form beside with the ratio (what weight sharing or attention adds)."""
    lines = [f"method 1, counted ({c.name}): {c.flop:.4g} FLOP"]
    lines += [f"  {p.name:<20} {p.flop:.4g}  {p.formula}" for p in c.parts]
    phases = ", ".join(f"{k} {v:.4g}" for k, v in c.phases_per_unit.items())
    lines.append(f"  per {c.per_unit}: {phases}")
    if c.closed_form_flop:
        lines.append(f"  closed form          {c.closed_form_flop:.4g}  {c.closed_form}")
    ratio = c.ratio_to_closed_form
    if ratio is not None:
        lines.append(f"  counted gradient steps / closed form: {ratio:.3g}")
    lines += [f"  note: {n}" for n in c.notes]
    return lines
