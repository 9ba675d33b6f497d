"""Counted training compute of a zoo system: count one step on the meta device, scale it to the run.

The one place that joins the zoo (`models`), the counter (`harness.counting`) and the recorded
runs (`harness.estimate.runs`); `harness.estimate.counted` does the arithmetic on the numbers
this passes in. Everything is counted on "meta": no memory, the same integers as on CPU or CUDA.
"""

from __future__ import annotations

from harness.estimate.counted import CountedEstimate, StepCount, counted_estimate
from harness.estimate.runs import TrainingRun, run_for

__all__ = ["count_step", "counted_for", "dataset_names", "zoo_systems"]

DEFAULT_OPTIMIZER = "adam"  # counted where a run names none of the table's optimizers


def count_step(name: str, run: TrainingRun | None = None, *, batch: int | None = None,
               seq_len: int | None = None) -> StepCount:
    """One training step of zoo entry `name` at its run's batch and sequence length (or the
    given ones): forward, backward and optimizer FLOP apart, and one forward of one example.
    An encoder-decoder's target is cut to the run's `target_len`."""
    import models
    from harness.conventions import OPTIMIZER_PER_PARAM
    from harness.counting.api import count_flops

    entry = models.get(name)
    run = run if run is not None else run_for(name)
    batch = batch or run.batch_size or 1
    seq = None
    if entry.default_seq is not None:
        seq = seq_len or run.seq_len or entry.default_seq
        if entry.max_seq is not None:
            seq = min(seq, entry.max_seq)
    optimizer = run.optimizer if run.optimizer in OPTIMIZER_PER_PARAM else None
    net = entry.build("meta")
    inputs = entry.inputs(batch, seq, "meta")
    if run.target_len is not None and len(inputs) == 2 and seq is not None:
        inputs = (inputs[0], inputs[1][:, : run.target_len])  # (source [B, S], target [B, T])
    train = count_flops(net, inputs, phase="train", optimizer=optimizer or DEFAULT_OPTIMIZER)
    # one example: a position (self-play), one policy step (rollouts: a recurrent policy acts one timestep at a time)
    single_seq = 1 if seq is not None and run.rollouts is not None else seq
    single = count_flops(net, entry.inputs(1, single_seq, "meta"), phase="forward")
    by_phase = train.by_phase
    return StepCount(
        forward_flop=float(by_phase.get("forward", 0)), backward_flop=float(by_phase.get("backward", 0)),
        optimizer_flop=float(by_phase.get("optimizer", 0)) if optimizer else 0.0,
        batch=batch, seq_len=seq, single_forward_flop=float(single.total), optimizer=optimizer,
    )


def counted_for(name: str, run: TrainingRun | None = None) -> CountedEstimate:
    """Counted training compute of zoo entry `name`: its run's parts and the closed form beside."""
    import models

    entry = models.get(name)
    if entry.facts is None:
        raise ValueError(f"zoo entry {name!r} has no published facts and no recorded run")
    run = run if run is not None else run_for(name)
    stages = tuple(count_step(name, run, batch=st.batch_size, seq_len=st.seq_len) for st in run.stages)
    step = stages[0] if stages else count_step(name, run)
    child = None
    if run.search is not None and run.search.child_entry:
        child = count_step(run.search.child_entry, run)
    return counted_estimate(run, step, entry.facts.published_parameters, stages, child)


def zoo_systems() -> list[str]:
    """The zoo entries with published facts and a recorded run, in registry order."""
    import models

    return [name for name, e in models.REGISTRY.items() if e.facts is not None]


def dataset_names() -> dict[str, str]:
    """Zoo entry name -> the system's name in the dataset's `Model` column."""
    import models

    return {name: e.facts.dataset_name for name, e in models.REGISTRY.items() if e.facts is not None}
