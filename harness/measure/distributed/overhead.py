"""The cost of the distributed machinery alone, in one process: DDP at world_size 1 vs the plain model."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from harness.measure.distributed.rank import backend_for


def single_process_nccl_overhead(cfg: Any, rounds: int = 2) -> dict[str, Any]:
    """The cost of the distributed machinery alone: DDP at world_size 1 vs the plain model.

    Runs in this process: the plain step, then (process group initialised, nccl on CUDA, gloo on
    CPU, world_size 1) the same step under DDP, alternating `rounds` times so drift hits both; the
    ratio of the pooled medians is the overhead a 1-process torchrun baseline carries.
    """
    import models
    from harness.measure.runner import make_step
    from harness.measure.timing import measure_step

    device = torch.device(cfg.device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    backend = backend_for(device)
    entry = models.get(cfg.model)
    ours = not dist.is_initialized()
    if ours:
        store = dist.HashStore()
        kwargs: dict[str, Any] = {"device_id": device} if backend == "nccl" else {}
        dist.init_process_group(backend, store=store, rank=0, world_size=1, timeout=timedelta(seconds=300),
                                **kwargs)
    elif dist.get_world_size() != 1:
        raise RuntimeError("single_process_nccl_overhead needs world_size 1; a larger group is initialised")
    try:
        from torch.nn.parallel import DistributedDataParallel as DDP

        torch.manual_seed(0)
        plain_model = entry.build(device)
        torch.manual_seed(0)
        ddp_model = DDP(entry.build(device), device_ids=[device.index] if device.type == "cuda" else None)
        inputs = entry.inputs(cfg.batch, cfg.seq, device)
        plain_step = make_step(plain_model, inputs, cfg, device)
        ddp_step = make_step(ddp_model, inputs, cfg, device)
        plain: list[float] = []
        wrapped: list[float] = []
        for i in range(rounds):
            warm = cfg.warmup if i == 0 else 1
            plain += measure_step(plain_step, device, warm, cfg.steps)[0].seconds
            wrapped += measure_step(ddp_step, device, warm, cfg.steps)[0].seconds
    finally:
        if ours:
            dist.destroy_process_group()
    import statistics

    p, d = statistics.median(plain), statistics.median(wrapped)
    return {
        "model": cfg.model,
        "batch": cfg.batch,
        "device": str(device),
        "backend": backend,
        "world_size": 1,
        "plain_seconds": p,
        "ddp_seconds": d,
        "ratio": d / p,
        "overhead": d / p - 1,
        "plain_samples": plain,
        "ddp_samples": wrapped,
    }
