"""Pure figures of a data-parallel run: shards, per-rank FLOP, bandwidths, the group's row.

No process group here: everything is a function of counts and the figures every rank gathered,
so it is tested without launching anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch.nn as nn


def shard_rows(dim0: int, world_size: int, rank: int) -> int:
    """Rows of a dim-0 shard as torch.chunk splits them (FSDP2's Shard(0)): ceil(d/n) each, the tail short."""
    size = -(-dim0 // world_size)
    return max(0, min(dim0, (rank + 1) * size) - rank * size)


def shard_numel(model: nn.Module, world_size: int, rank: int) -> int:
    """Trainable elements of `rank`'s dim-0 shard of every parameter (0-dim parameters: rank 0's)."""
    total = 0
    for p in model.parameters():
        if not p.requires_grad:
            continue
        if p.dim() == 0:
            total += p.numel() if rank == 0 else 0
        else:
            total += shard_rows(p.shape[0], world_size, rank) * (p.numel() // p.shape[0] if p.shape[0] else 0)
    return total


def rank_flop(entry: Any, cfg: Any, world_size: int, rank: int, strategy: str) -> dict[str, int]:
    """The FLOP one rank's training step takes, counted on meta on the unwrapped model.

    forward, backward: at the per-rank batch. optimizer: this rank's share of ONE update of the
    parameters (its dim-0 shard; exact per element, and telescoping, so the shares sum to the
    whole). model = forward + backward + optimizer. hardware adds what the rank executes beyond
    that: DDP's every rank runs the full update; FSDP's runs only its shard.
    """
    from harness.measure.runner import as_workload, count_step

    flop = count_step(entry, cfg)
    net, _ = as_workload(entry).make(cfg.batch, cfg.seq, "meta", True)
    n = sum(p.numel() for p in net.parameters() if p.requires_grad)
    before = sum(shard_numel(net, world_size, r) for r in range(rank))
    mine = shard_numel(net, world_size, rank)
    opt_share = (flop.optimizer * (before + mine)) // n - (flop.optimizer * before) // n if n else 0
    model = flop.forward + flop.backward + opt_share
    executed_opt = flop.optimizer if strategy == "ddp" else opt_share
    return {
        "forward": flop.forward,
        "backward": flop.backward,
        "optimizer": opt_share,
        "model": model,
        "hardware": flop.hardware - flop.optimizer + executed_opt,
        "optimizer_executed": executed_opt,
        "updated_numel": n if strategy == "ddp" else mine,  # elements this rank's AdamW updates
    }


def group_flop(per_rank: Sequence[dict[str, int]]) -> dict[str, int]:
    keys = ("forward", "backward", "optimizer", "model", "hardware", "optimizer_executed", "updated_numel")
    return {k: sum(r[k] for r in per_rank) for k in keys}


def bus_bandwidth(nbytes: int, seconds: float, world_size: int) -> tuple[float, float | None]:
    """(algorithm bandwidth, bus bandwidth) in bytes/s, NCCL-tests convention: busbw = algbw x 2(n-1)/n."""
    alg = nbytes / seconds
    return alg, (alg * 2 * (world_size - 1) / world_size if world_size > 1 else None)


def comm_share(t_sync: float, t_nosync: float) -> tuple[float, float]:
    """(clamped to [0, 1], raw) share of the synced step that gradient synchronisation costs."""
    raw = 1.0 - t_nosync / t_sync
    return min(1.0, max(0.0, raw)), raw


def group_result(cfg: Any, world: int, gathered: Sequence[dict[str, Any]], peak: float | None) -> Any:
    """The group's BenchResult: the slowest rank's samples, the summed FLOP, per-device peaks.

    The group steps at the pace of its slowest member, so its samples stand for the group;
    utilisation = group model FLOP / (world x seconds x one device's peak), by `devices=world`.
    """
    from harness.measure.runner import BenchResult, StepFlop, check_utilisation
    from harness.measure.timing import Samples

    slowest = max(range(world), key=lambda r: gathered[r]["median"])
    total = group_flop([g["flop"] for g in gathered])
    samples = Samples(tuple(gathered[slowest]["seconds"]),
                      {k: tuple(v) for k, v in gathered[slowest]["phases"].items()})
    flop = StepFlop(total["model"], total["hardware"], total["forward"], total["backward"], total["optimizer"])
    result = BenchResult(cfg, "ok", flop, samples, gathered[0]["telemetry"], peak, gathered[0]["ceiling"],
                         devices=world)
    return check_utilisation(result)


def group_figures(world: int, gathered: Sequence[dict[str, Any]], nbytes: int,
                  baseline_step_s: float | None) -> dict[str, Any]:
    """What a distributed row carries beyond the single-process columns (stored in `extra`)."""
    medians = [g["median"] for g in gathered]
    nosync = [g["nosync_median"] for g in gathered]
    seconds = max(medians)
    share, share_raw = comm_share(seconds, max(nosync))
    flops = [g["flop"] for g in gathered]
    ar = gathered[0]["allreduce_s"]
    algbw, busbw = bus_bandwidth(nbytes, ar, world) if ar else (None, None)
    return {
        "rank_seconds_median": medians,
        "rank_seconds_nosync_median": nosync,
        "rank_hosts": [g["host"] for g in gathered],
        "comm_share": share,
        "comm_share_raw": share_raw,
        "rank_comm_share": [comm_share(s, n)[0] for s, n in zip(medians, nosync)],
        "allreduce_bytes": nbytes,
        "allreduce_seconds": ar,
        "allreduce_algbw": algbw,
        "allreduce_busbw": busbw,
        "rank_flop_per_step": [f["model"] for f in flops],
        "rank_hardware_flop_per_step": [f["hardware"] for f in flops],
        "rank_ceiling_flop_per_s": [g["ceiling"] for g in gathered],
        "rank_local_param_numel": [g["local_numel"] for g in gathered],
        "scaling_efficiency": (baseline_step_s / seconds) if baseline_step_s else (1.0 if world == 1 else None),
        "baseline_step_s": baseline_step_s,
        "rank_telemetry": [g["telemetry"] for g in gathered] if any(g["telemetry"] for g in gathered) else None,
    }


def summary(result: dict[str, Any]) -> str:
    """One line on what a run measured (rank 0 prints it)."""

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.1%}"

    def gbs(x: float | None) -> str:
        return "-" if x is None else f"{x / 1e9:.3g} GB/s"

    r = result
    line = (f"{r['model']} batch {r['batch']}/rank, {r['world_size']} x {r['strategy']} ({r['backend']}): "
            f"step {r['seconds_median']:.4g} s (slowest rank; ranks "
            f"{', '.join(f'{s:.4g}' for s in r['rank_seconds_median'])}), comm share {pct(r['comm_share'])}, "
            f"all-reduce {r['allreduce_bytes']} B algbw {gbs(r['allreduce_algbw'])} "
            f"busbw {gbs(r['allreduce_busbw'])}, "
            f"{r['flop_per_step'] / 1e9:.4g} GFLOP/step (group), MFU {pct(r['utilisation'])} datasheet, "
            f"{pct(r['utilisation_ceiling'])} measured ceiling")
    if r.get("scaling_efficiency") is not None:
        line += f", scaling efficiency {pct(r['scaling_efficiency'])}"
    if r.get("run_id"):
        line += f"; stored as {r['run_id']}"
    if r.get("error"):
        line += f"; ERROR: {r['error']}"
    return line
