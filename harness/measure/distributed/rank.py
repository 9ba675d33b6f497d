"""One rank of a data-parallel measurement: what torchrun runs on every process.

Backend gloo on CPU, nccl on CUDA. Strategy ``ddp`` wraps the model in DistributedDataParallel;
``fsdp`` applies FSDP2 ``fully_shard`` to every repeated block (each member of an ``nn.ModuleList``)
and then to the root (FSDP1, GPU only, where FSDP2 is missing). Each rank times the training step
of the single-device runner (:func:`harness.measure.runner.make_step`, through the shared
:func:`harness.measure.timing.measure_step`), then the same step with gradient synchronisation
off, then an all-reduce of a gradient-sized buffer; rank 0 gathers every rank's figures and, after
a barrier every rank must pass, builds ONE row with the runner's row builder and writes the JSON
(``--out``). Storing that row is the caller's: the launcher, or the thin torchrun entry.

Test hooks (hidden): ``HARNESS_DIST_FAIL_RANK=r`` makes rank r exit(3) at its first timed step,
``HARNESS_DIST_HANG_RANK=r`` makes it sleep forever there.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from harness.measure.devices import empty_cache, is_oom
from harness.measure.distributed.metrics import group_figures, group_result, rank_flop, summary
from harness.measure.distributed.wrap import _local, _wrap

STRATEGIES = ("ddp", "fsdp")
FAIL_ENV = "HARNESS_DIST_FAIL_RANK"
HANG_ENV = "HARNESS_DIST_HANG_RANK"
FAIL_EXIT_CODE = 3
DEFAULT_TIMEOUT_S = 600.0
ALLREDUCE_MIN_ITERS = 5

Writer = Callable[[dict[str, Any], str], str]  # (rank 0's result, --db) -> the stored row's run_id


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"






# --------------------------------------------------------------------------- the per-rank entry


class _Status:
    """Where a rank is: a small JSON file beside --out, read by the launcher to name a failure."""

    def __init__(self, out: Path | None, rank: int) -> None:
        self.path = out.with_name(f"{out.name}.rank{rank}.status") if out else None
        self.rank = rank
        self.phase = "starting"
        self.timeline: list[tuple[str, float]] = []  # (phase, seconds since the rank's first status)
        self.t0 = time.monotonic()

    def __call__(self, phase: str, error: str | None = None) -> None:
        self.phase = phase
        self.timeline.append((phase, round(time.monotonic() - self.t0, 3)))
        if self.path is None:
            return
        try:
            tmp = self.path.with_name(self.path.name + ".tmp")
            state = {"rank": self.rank, "phase": phase, "error": error, "pid": os.getpid()}
            tmp.write_text(json.dumps(state))
            os.replace(tmp, self.path)
        except OSError:
            pass

    def clear(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def _fault_hook(step: Callable, rank: int, after: int, status: _Status) -> Callable:
    """The test hooks, at the step's call number `after` (the first timed step):
    rank HARNESS_DIST_FAIL_RANK exits with code 3, rank HARNESS_DIST_HANG_RANK sleeps forever."""
    fail, hang = os.environ.get(FAIL_ENV), os.environ.get(HANG_ENV)
    if str(rank) not in (fail, hang):
        return step
    calls = [0]

    def hooked(mark: Callable) -> None:
        if calls[0] == after:
            if fail == str(rank):
                status("timed steps (test hook: exit 3)")
                sys.stderr.flush()
                os._exit(FAIL_EXIT_CODE)
            status("timed steps (test hook: hang)")
            while True:
                time.sleep(3600)
        calls[0] += 1
        step(mark)

    return hooked


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m harness.measure.distributed",
        description="One rank of a data-parallel measurement; run it under torchrun "
        "(torchrun --nproc-per-node N -m harness.measure.distributed --model M --batch B ...).",
    )
    p.add_argument("--model", required=True, help="a name from the model registry")
    p.add_argument("--batch", type=int, required=True, help="examples per step PER RANK")
    p.add_argument("--seq", type=int, default=None, help="sequence length (default: the model's)")
    p.add_argument("--strategy", choices=STRATEGIES, default="ddp")
    p.add_argument("--precision", default="fp32", help="fp32 | tf32 | bf16 | fp16")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | xpu (cuda, xpu: the ordinal LOCAL_RANK)")
    p.add_argument("--steps", type=int, default=10, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--out", default=None, help="rank 0 writes the result JSON here")
    p.add_argument("--db", default=None, help="rank 0's row is stored in this results database")
    p.add_argument("--timeout-s", type=float, default=DEFAULT_TIMEOUT_S,
                   help="process-group timeout: a collective or the final barrier waiting longer "
                   "fails the run")
    p.add_argument("--baseline-step-s", type=float, default=None,
                   help="median step seconds of the same per-rank batch on 1 process: "
                   "gives scaling_efficiency")
    p.add_argument("--no-ceiling", action="store_true", help="skip the matmul ceiling measurement")
    return p


def _env_int(name: str) -> int | None:
    v = os.environ.get(name)
    return int(v) if v is not None else None


def main(argv: Sequence[str] | None = None, write: Writer | None = None) -> int:
    """One rank's whole run; rank 0 hands its result to `write(result, db)` when --db is given."""
    args = _parser().parse_args(argv)
    rank, world = _env_int("RANK"), _env_int("WORLD_SIZE")
    if rank is None or world is None:
        print("error: run this under torchrun (RANK and WORLD_SIZE are not set): "
              "torchrun --nproc-per-node N -m harness.measure.distributed ...", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else None
    status = _Status(out, rank)
    try:
        _rank_main(args, rank, world, _env_int("LOCAL_RANK") or 0, status, write)
    except BaseException as e:  # noqa: BLE001 - every failure ends the rank with one line
        if isinstance(e, SystemExit) and not e.code:
            return 0
        line = f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:300]}"
        status(f"failed during {status.phase}", line)
        traceback.print_exc(file=sys.stderr)
        print(f"error: rank {rank} failed during {status.phase}: {line}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(1)  # no interpreter teardown with a broken process group: it can hang
    return 0


def rank_device(name: str, local_rank: int) -> torch.device:
    """The device of this rank: the runner's device choice, then the local rank's ordinal on a GPU."""
    from harness.measure.devices import resolve_device

    device = resolve_device(name)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    elif device.type == "xpu":
        device = torch.device("xpu", local_rank)
        torch.xpu.set_device(device)
    return device


def _rank_main(args: argparse.Namespace, rank: int, world: int, local_rank: int, status: _Status,
               write: Writer | None) -> None:
    import models
    from harness.measure import bench as B
    from harness.measure import precision as P
    from harness.measure.runner import BenchConfig, make_step
    from harness.measure.timing import Samples, measure_step

    if args.steps < 1 or args.warmup < 0:
        raise ValueError("--steps must be at least 1 and --warmup at least 0")
    device = rank_device(args.device, local_rank)
    cfg = BenchConfig(args.model, args.batch, args.seq, "train", args.precision, device=str(device),
                      warmup=args.warmup, steps=args.steps)
    entry = models.get(cfg.model)
    entry.inputs(cfg.batch, cfg.seq, "meta")  # a bad batch / seq fails here, before any collective
    precision = P.get(cfg.precision, device)
    backend = backend_for(device)

    status("init_process_group")
    timeout = timedelta(seconds=args.timeout_s)
    kwargs: dict[str, Any] = {"device_id": device} if backend == "nccl" else {}
    dist.init_process_group(backend, timeout=timeout, **kwargs)
    if dist.get_rank() != rank or dist.get_world_size() != world:
        raise RuntimeError("the process group disagrees with RANK / WORLD_SIZE")

    status("counting FLOP (meta, unwrapped)")
    flop = rank_flop(entry, cfg, world, rank, args.strategy)

    status("building the model")
    torch.manual_seed(0)  # the same initial weights everywhere (DDP broadcasts rank 0's anyway)
    model = entry.build(device)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)  # gradient elements
    torch.manual_seed(1000 + rank)  # each rank its own data, as in data-parallel training
    inputs = entry.inputs(cfg.batch, cfg.seq, device)
    wrapped, no_sync = _wrap(model, args.strategy, device)
    local_numel = sum(_local(p).numel() for p in wrapped.parameters() if p.requires_grad)
    step = make_step(wrapped, inputs, cfg, device)

    dist.barrier()
    status("timed steps (gradient sync)")
    sampler = None
    if device.type == "cuda":
        from harness.hardware.telemetry import Sampler

        sampler = Sampler(device.index or 0)
    timed = _fault_hook(step, rank, cfg.warmup, status)
    sync, telemetry = measure_step(timed, device, cfg.warmup, cfg.steps, sampler)

    dist.barrier()
    status("timed steps (no gradient sync)")
    with no_sync():
        nosync, _ = measure_step(step, device, min(1, cfg.warmup), cfg.steps)
    if args.strategy == "fsdp":  # AdamW skipped the empty sharded grads: put the synced optimizer back
        opt = sync.phase_median("optimizer") or 0.0
        seconds = tuple(s - o + opt for s, o in zip(nosync.seconds, nosync.phases["optimizer"]))
        nosync = Samples(seconds, nosync.phases)

    del step, wrapped, model, inputs
    gc.collect()
    empty_cache(device)

    dist.barrier()
    status("all_reduce bandwidth")
    nbytes = 4 * n_params
    allreduce_s = _time_allreduce(n_params, device, cfg.steps)

    ceiling = None
    if not args.no_ceiling:
        dist.barrier()
        status("matmul ceiling")
        ceiling = B.Ceilings(device, {}).get(precision)
    peak, peak_source = B.datasheet_peak(device, precision) if rank == 0 else (None, "")

    status("gathering")
    mine = {
        "rank": rank,
        "host": os.uname().nodename,
        "seconds": list(sync.seconds),
        "phases": {k: list(v) for k, v in sync.phases.items()},
        "median": sync.median,
        "nosync_median": nosync.median,
        "allreduce_s": allreduce_s,
        "ceiling": ceiling,
        "flop": flop,
        "local_numel": local_numel,
        "telemetry": telemetry,
    }
    gathered: list[Any] = [None] * world
    dist.all_gather_object(gathered, mine)

    status("final barrier")
    _final_barrier(backend, timeout)
    if rank == 0:
        status("writing results")
        result = rank0_result(args, cfg, device, backend, world, gathered, nbytes, peak, peak_source)
        result["rank0_timeline"] = status.timeline
        if args.db and write is not None:
            result["run_id"] = write(result, args.db)
        if args.out:
            out = Path(args.out)
            tmp = out.with_name(out.name + ".tmp")
            tmp.write_text(json.dumps(result, indent=1, default=str))
            os.replace(tmp, out)
        print(summary(result), flush=True)
    status.clear()  # finished: nothing for a launcher to explain
    dist.destroy_process_group()


def _time_allreduce(numel: int, device: torch.device, steps: int) -> float | None:
    """Median seconds of dist.all_reduce of a float32 buffer of `numel` elements (None: no memory)."""
    from harness.measure.timing import time_step

    try:
        buf = torch.ones(max(1, numel), dtype=torch.float32, device=device)
    except Exception as e:  # noqa: BLE001
        if is_oom(e):
            return None
        raise

    def step(mark: Callable[[str], None]) -> None:
        mark("start")
        dist.all_reduce(buf)
        mark("all_reduce")

    samples = time_step(step, device, 2, max(ALLREDUCE_MIN_ITERS, steps))
    return samples.median


def _final_barrier(backend: str, timeout: timedelta) -> None:
    """Every rank must reach the end before rank 0 writes; gloo names the ranks that did not."""
    if backend == "gloo":
        dist.monitored_barrier(timeout=timeout, wait_all_ranks=True)
    else:
        dist.barrier()


def rank0_result(args: argparse.Namespace, cfg: Any, device: torch.device, backend: str, world: int,
                 gathered: list[dict[str, Any]], nbytes: int, peak: float | None,
                 peak_source: str) -> dict[str, Any]:
    """Rank 0's report: the group's row (the runner's row builder) and the figures behind it."""
    import models
    from harness.measure.bench import device_provenance, to_row

    result = group_result(cfg, world, gathered, peak)
    seconds = result.seconds
    extra: dict[str, Any] = {
        "backend": backend,
        **group_figures(world, gathered, nbytes, args.baseline_step_s),
        "examples_per_s": world * cfg.batch / seconds,
        "examples_per_s_per_chip": cfg.batch / seconds,
        "peak_source": peak_source,
    }
    row = to_row(result, device_provenance(device), models.get(cfg.model).family, strategy=args.strategy)
    row |= {k: v for k, v in extra.items() if v is not None}
    flops = [g["flop"] for g in gathered]
    return {
        "model": cfg.model,
        "batch": cfg.batch,
        "seq": cfg.seq,
        "precision": cfg.precision,
        "device": str(device),
        "device_name": row["device_name"],
        "world_size": world,
        "strategy": args.strategy,
        "steps": cfg.steps,
        "warmup": cfg.warmup,
        "status": result.status,
        "error": result.error,
        "seconds_median": seconds,
        "slowest_rank": max(range(world), key=lambda r: gathered[r]["median"]),
        "rank_flop": flops,
        "group_flop": {k: sum(f[k] for f in flops) for k in flops[0]},
        "flop_per_step": row["flop_per_step"],
        "hardware_flop_per_step": row["hardware_flop_per_step"],
        "flop_per_s": result.flop_per_s,
        "peak_flop_per_s": result.peak_flop_per_s,
        "ceiling_flop_per_s": result.ceiling_flop_per_s,
        "utilisation": result.utilisation,
        "utilisation_ceiling": result.utilisation_ceiling,
        **extra,
        "row": row,
    }
