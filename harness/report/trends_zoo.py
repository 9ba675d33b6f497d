"""The zoo's counted forward passes, as numbers for the trends (`trend_analysis.ZooForward`).

The trends layer never builds a model; this module does, once per zoo entry tied to a dataset row:
it counts one forward pass on the meta device at the entry's own input size (no memory is
allocated), divides by the batch, and hands back FLOP per example with the built parameter count
and the published compute and parameters the zoo records (for systems the dataset lacks).
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.estimate.trend_analysis import ZooForward

__all__ = ["zoo_dataset_names", "zoo_forwards"]


def zoo_dataset_names() -> dict[str, str]:
    """dataset name -> zoo entry name, for every zoo entry tied to a dataset row."""
    from models import REGISTRY

    return {e.facts.dataset_name: name for name, e in REGISTRY.items() if e.facts is not None}


def _example(entry: object, inputs: tuple) -> str:
    seq = getattr(entry, "default_seq", None)
    if seq is not None:
        return f"a {seq}-token sequence"
    import torch

    first = next((x for x in inputs if isinstance(x, torch.Tensor)), None)
    if first is None or first.dim() < 2:
        return "one example"
    return "an input of shape " + "x".join(str(d) for d in first.shape[1:])


def zoo_forwards(names: Iterable[str] | None = None) -> list[ZooForward]:
    """Count one forward pass of each zoo entry with a dataset row (or of `names`) on the meta device."""
    from harness.counting.api import count_flops
    from harness.estimate.runs import run_for
    from models import REGISTRY

    out = []
    for name, entry in REGISTRY.items():
        if entry.facts is None or (names is not None and name not in set(names)):
            continue
        model = entry.build("meta")
        inputs = entry.inputs(device="meta")
        batch = entry.default_batch
        flop = count_flops(model, inputs, phase="forward").total
        params = sum(p.numel() for p in model.parameters())
        facts = entry.facts
        out.append(ZooForward(name, facts.dataset_name, flop / batch, float(params), _example(entry, inputs),
                              run_for(name).compute_flop, facts.published_parameters, entry.domain))
    return out
