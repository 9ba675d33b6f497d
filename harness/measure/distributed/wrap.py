"""Wrapping a model for data parallelism: DDP, FSDP2 per repeated block (FSDP1 on GPUs without FSDP2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.distributed as dist
import torch.nn as nn


def repeated_blocks(model: nn.Module) -> list[nn.Module]:
    """Every member of every nn.ModuleList, innermost first (the order fully_shard needs)."""
    seen: dict[int, nn.Module] = {}
    for lst in model.modules():
        if isinstance(lst, nn.ModuleList):
            for m in lst:
                seen.setdefault(id(m), m)
    return list(reversed(seen.values()))


def _wrap(model: nn.Module, strategy: str, device: torch.device) -> tuple[nn.Module, Callable[[], Any]]:
    """(the wrapped model, a context manager factory that turns gradient sync off)."""
    import contextlib

    if strategy == "ddp":
        from torch.nn.parallel import DistributedDataParallel as DDP

        ddp = DDP(model, device_ids=[device.index] if device.type == "cuda" else None)
        return ddp, ddp.no_sync
    try:
        from torch.distributed.fsdp import fully_shard
    except ImportError:  # torch without FSDP2: FSDP1, one unit per repeated block and the root
        if device.type != "cuda":
            raise RuntimeError("this torch has no FSDP2 (torch.distributed.fsdp.fully_shard) and FSDP1 "
                               "needs a GPU; use --strategy ddp on the CPU") from None
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        from torch.distributed.fsdp.wrap import ModuleWrapPolicy

        blocks = {type(b) for b in repeated_blocks(model)}
        fsdp = FSDP(model, auto_wrap_policy=ModuleWrapPolicy(blocks) if blocks else None,
                    device_id=device if device.type == "cuda" else None, use_orig_params=True)
        return fsdp, fsdp.no_sync
    # the mesh on the device the ranks run on: left to itself, FSDP2 picks CUDA whenever a GPU
    # exists, and a CPU job with more ranks than GPUs then asks for a GPU ordinal that is not there
    from torch.distributed.device_mesh import init_device_mesh

    mesh = init_device_mesh(device.type, (dist.get_world_size(),))
    for block in repeated_blocks(model):
        fully_shard(block, mesh=mesh)
    fully_shard(model, mesh=mesh)

    @contextlib.contextmanager
    def no_sync() -> Any:
        model.set_requires_gradient_sync(False)  # type: ignore[operator]
        try:
            yield
        finally:
            model.set_requires_gradient_sync(True)  # type: ignore[operator]

    return model, no_sync


def _local(p: torch.Tensor) -> torch.Tensor:
    """The part of a parameter this rank holds (an FSDP2 DTensor's local shard; else all of it)."""
    return p.to_local() if hasattr(p, "to_local") else p
