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


def paper_form_lines(forms: list, counted_forward: float, counted_train: float | None) -> list[str]:
    """The papers' closed forms beside the dispatch count, each with its ratio to the count of the
    same phase (train = forward + backward, the optimizer apart)."""
    if not forms:
        return []
    lines = ["paper formulas (harness/analytic) beside the count:"]
    for f in forms:
        ours = counted_forward if f.phase == "forward" else counted_train
        ratio = f"{f.flop / ours:.3f}x the count" if ours else "no count of this phase (use --phase train)"
        lines.append(f"  {f.name:<34} {f.phase:<7} {f.flop:.4g}  {ratio}   [{f.source}]")
    return lines


def zoo_paper_form_lines(name: str, module: object, inputs: tuple, by_phase: dict) -> list[str]:
    """`paper_form_lines` for zoo entry `name` at the counted batch (and sequence, from the inputs)."""
    import torch

    import models
    from harness.analytic.paper_forms import paper_forms

    entry = models.get(name)
    first = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
    batch = int(first.shape[0]) if first is not None else entry.default_batch
    seq = int(first.shape[1]) if first is not None and entry.default_seq is not None and first.dim() > 1 else None
    emb = sum(m.weight.numel() for m in module.modules() if isinstance(m, torch.nn.Embedding))  # type: ignore[attr-defined]
    n = sum(p.numel() for p in module.parameters()) - emb  # type: ignore[attr-defined]
    forms = paper_forms(entry.family, entry.config, batch, seq, float(n))
    fwd = float(by_phase.get("forward", 0))
    train = fwd + float(by_phase.get("backward", 0)) if by_phase.get("backward") else None
    return paper_form_lines(forms, fwd, train)
