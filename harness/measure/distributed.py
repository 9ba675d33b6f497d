"""Data-parallel measurement on several processes: torch.distributed, launched by torchrun.

Two halves:

* **The per-rank entry**, ``python -m harness.measure.distributed --model M --batch B ...``: what
  ``torchrun --nproc-per-node N -m harness.measure.distributed ...`` runs on every rank (on one
  machine, or on several under a cluster scheduler). Backend gloo on CPU, nccl on CUDA. Strategy
  ``ddp`` wraps the model in DistributedDataParallel; ``fsdp`` applies FSDP2 ``fully_shard`` to every
  repeated block (each member of an ``nn.ModuleList``) and then to the root (FSDP1, GPU only, where
  FSDP2 is missing). Each rank times the training step of the single-device runner (forward,
  loss = output.sum(), backward, AdamW step), then the same step with gradient synchronisation
  off, then an all-reduce of a gradient-sized buffer; rank 0 gathers every rank's figures and,
  after a barrier that every rank must pass, writes ONE row (``--db``) and the JSON (``--out``).
* **The launcher**, :func:`launch`: runs ``python -m torch.distributed.run --standalone
  --nproc-per-node N -m harness.measure.distributed ...`` as a subprocess in its own session, with a
  timeout; on timeout it kills the whole process group. A rank that dies or hangs ends the job with
  one clear line (:class:`DistError`); no row is written then, since only rank 0 writes, last.
  :func:`scaling` measures the same per-rank batch at 1..N processes.

FLOP accounting (1 multiply-accumulate = 2 FLOP). Each rank's count comes from
``harness.counting.count_flops`` on the meta device, on the UNWRAPPED model, at the per-rank batch
(phase "train", optimizer "adamw"): no count ever runs under DDP or FSDP (FlopCounterMode is known to
report 0 under FSDP). The optimizer step updates ONE copy of the parameters per group: FSDP's ranks
each update their own dim-0 shard (exactly what each executes), DDP's ranks all update the full
replica. So a rank's *model* FLOP = its forward + backward + its shard's share of one optimizer
update (the same dim-0 partition for both strategies), and the group's model FLOP = the sum over
ranks = the count of one process at batch x world_size, exactly, for a model whose count is linear in
batch (work a step does whatever its batch, such as BatchNorm's num_batches_tracked += 1, is done and
counted once per rank). A rank's *hardware* (executed) FLOP count DDP's replicated update in full on
every rank.

Figures (all in the JSON; the row has the columns the store has, the rest in ``extra``):

* ``seconds_median`` = the slowest rank's median step (the group steps at the pace of its slowest
  member); ``rank_seconds_median`` lists every rank's median.
* ``utilisation`` = group model FLOP / (world_size x seconds_median x datasheet peak of one device);
  ``utilisation_ceiling`` likewise against the matmul ceiling measured on rank 0's device.
* ``comm_share`` = 1 - t_nosync / t_sync: the share of the step that gradient synchronisation costs
  (slowest rank's medians, with and without sync: ``DDP.no_sync()``, FSDP2
  ``set_requires_gradient_sync(False)``). Clamped at 0: when communication is negligible, noise can
  make the no-sync step the slower one (``comm_share_raw`` keeps the unclamped value). DDP's buffer
  broadcasts and FSDP's parameter all-gathers run in both timings, so for FSDP it is the
  reduce-scatter share only (a lower bound of all its communication). Without gradient sync FSDP
  leaves the sharded gradients empty and AdamW skips them, so the no-sync step's optimizer phase is
  replaced by the synced one's.
* ``allreduce_algbw`` = bytes / t, ``allreduce_busbw`` = bytes x 2 (n-1)/n / t (the NCCL-tests
  convention: the bytes each rank's link carries in a ring all-reduce) for ``dist.all_reduce`` of a
  float32 buffer the size of the gradients (bytes = 4 x parameters); busbw is None at world_size 1.

Test hooks (hidden): ``HARNESS_DIST_FAIL_RANK=r`` makes rank r exit(3) at its first timed step,
``HARNESS_DIST_HANG_RANK=r`` makes it sleep forever there.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn as nn

STRATEGIES = ("ddp", "fsdp")
FAIL_ENV = "HARNESS_DIST_FAIL_RANK"
HANG_ENV = "HARNESS_DIST_HANG_RANK"
FAIL_EXIT_CODE = 3
DEFAULT_TIMEOUT_S = 600.0
KILL_GRACE_S = 5.0  # SIGTERM to the process group, then this long before SIGKILL
ALLREDUCE_MIN_ITERS = 5
ROOT = Path(__file__).resolve().parents[2]


class DistError(RuntimeError):
    """A distributed run that did not finish; the message (one line) says which rank and why.

    `log` holds torchrun's whole output (every rank's traceback) for a closer look.
    """

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


class DistTimeout(DistError):
    """A distributed run killed at its timeout."""


# --------------------------------------------------------------------------- pure parts


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def repeated_blocks(model: nn.Module) -> list[nn.Module]:
    """Every member of every nn.ModuleList, innermost first (the order fully_shard needs)."""
    seen: dict[int, nn.Module] = {}
    for lst in model.modules():
        if isinstance(lst, nn.ModuleList):
            for m in lst:
                seen.setdefault(id(m), m)
    return list(reversed(seen.values()))


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
    from harness.measure.runner import count_step

    flop = count_step(entry, cfg)
    net = entry.build("meta")
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


# --------------------------------------------------------------------------- result


@dataclass
class DistResult:
    """What rank 0 reported for one distributed run (the JSON it wrote), with shortcuts."""

    data: dict[str, Any]
    config: Any = None  # the BenchConfig asked for (set by launch)
    log: str = ""  # torchrun's output

    def __getattr__(self, name: str) -> Any:  # result.comm_share, result.world_size, ...
        data = self.__dict__.get("data", {})
        if name in data:
            return data[name]
        raise AttributeError(name)

    @property
    def row(self) -> dict[str, Any]:
        """The stored row (also when no database was given): renders like `harness bench` rows."""
        return self.data["row"]

    @property
    def examples_per_s_per_chip(self) -> float:
        return self.data["examples_per_s_per_chip"]

    @classmethod
    def load(cls, path: str | os.PathLike[str], config: Any = None, log: str = "") -> DistResult:
        return cls(json.loads(Path(path).read_text()), config, log)


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
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="cuda: cuda:LOCAL_RANK")
    p.add_argument("--steps", type=int, default=10, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--out", default=None, help="rank 0 writes the result JSON here")
    p.add_argument("--db", default=None, help="rank 0 writes one row into this results database")
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    rank, world = _env_int("RANK"), _env_int("WORLD_SIZE")
    if rank is None or world is None:
        print("error: run this under torchrun (RANK and WORLD_SIZE are not set): "
              "torchrun --nproc-per-node N -m harness.measure.distributed ...", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else None
    status = _Status(out, rank)
    try:
        _rank_main(args, rank, world, _env_int("LOCAL_RANK") or 0, status)
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


def _rank_main(args: argparse.Namespace, rank: int, world: int, local_rank: int, status: _Status) -> None:
    import models
    from harness.measure import bench as B
    from harness.measure import precision as P
    from harness.measure.runner import BenchConfig, make_step
    from harness.measure.timing import Samples, time_step

    if args.steps < 1 or args.warmup < 0:
        raise ValueError("--steps must be at least 1 and --warmup at least 0")
    kind = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("device 'cuda' is not available on this machine")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
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
    if sampler is None:
        sync = time_step(timed, device, cfg.warmup, cfg.steps)
        telemetry: dict[str, float] = {}
    else:
        for _ in range(cfg.warmup):
            timed(lambda name: None)
        with sampler:
            sync = time_step(timed, device, 0, cfg.steps)
        telemetry = sampler.summary()

    dist.barrier()
    status("timed steps (no gradient sync)")
    with no_sync():
        nosync = time_step(step, device, min(1, cfg.warmup), cfg.steps)
    if args.strategy == "fsdp":  # AdamW skipped the empty sharded grads: put the synced optimizer back
        opt = sync.phase_median("optimizer") or 0.0
        seconds = tuple(s - o + opt for s, o in zip(nosync.seconds, nosync.phases["optimizer"]))
        nosync = Samples(seconds, nosync.phases)

    del step, wrapped, model, inputs
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()

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
        result = _rank0_result(args, cfg, device, backend, world, gathered, nbytes, peak, peak_source)
        result["rank0_timeline"] = status.timeline
        if args.db:
            from harness.store import Store

            with Store(args.db) as store:
                result["run_id"] = store.add(result["row"], replace=True)
        if args.out:
            out = Path(args.out)
            tmp = out.with_name(out.name + ".tmp")
            tmp.write_text(json.dumps(result, indent=1, default=str))
            os.replace(tmp, out)
        print(summary(result), flush=True)
    status.clear()  # finished: nothing for a launcher to explain
    dist.destroy_process_group()


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


def _time_allreduce(numel: int, device: torch.device, steps: int) -> float | None:
    """Median seconds of dist.all_reduce of a float32 buffer of `numel` elements (None: no memory)."""
    from harness.measure.runner import is_oom
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


def _rank0_result(args: argparse.Namespace, cfg: Any, device: torch.device, backend: str, world: int,
                  gathered: list[dict[str, Any]], nbytes: int, peak: float | None,
                  peak_source: str) -> dict[str, Any]:
    import models
    from harness.measure import bench as B
    from harness.measure.runner import BenchResult, StepFlop
    from harness.measure.timing import Samples
    from harness.store import provenance, run_key_for

    medians = [g["median"] for g in gathered]
    nosync = [g["nosync_median"] for g in gathered]
    slowest = max(range(world), key=lambda r: medians[r])
    seconds = medians[slowest]
    t_nosync = max(nosync)
    share, share_raw = comm_share(seconds, t_nosync)
    rank_shares = [comm_share(s, n)[0] for s, n in zip(medians, nosync)]
    flops = [g["flop"] for g in gathered]
    total = group_flop(flops)
    ar = gathered[0]["allreduce_s"]
    algbw, busbw = bus_bandwidth(nbytes, ar, world) if ar else (None, None)
    ceiling = gathered[0]["ceiling"]

    # the slowest rank's samples stand for the group; the rates are the group's, the peaks one device's
    samples = Samples(tuple(gathered[slowest]["seconds"]),
                      {k: tuple(v) for k, v in gathered[slowest]["phases"].items()})
    sflop = StepFlop(total["model"], total["hardware"], total["forward"], total["backward"],
                     total["optimizer"])
    result = BenchResult(cfg, "ok", sflop, samples, gathered[0]["telemetry"],
                         peak * world if peak else None, ceiling * world if ceiling else None)
    error = None
    for name, u in (("datasheet", result.utilisation), ("measured ceiling", result.utilisation_ceiling)):
        if u is not None and u > 1:
            error = (f"utilisation {u:.2f} > 1 against the {name} peak: the FLOP count or the peak is wrong "
                     "for this run")
            break
    prov = provenance(device)
    entry = models.get(cfg.model)
    examples_per_s_per_chip = cfg.batch / seconds
    efficiency = (args.baseline_step_s / seconds) if args.baseline_step_s else (1.0 if world == 1 else None)
    row = B.to_row(result, prov, entry.family) | {
        "world_size": world,
        "strategy": args.strategy,
        "status": "error" if error else "ok",
        "error": error,
        "peak_flop_per_s": peak,  # of one device: utilisation divides by world_size x this
        "ceiling_flop_per_s": ceiling,
    }
    row["run_key"] = run_key_for({**cfg.key_fields(), "world_size": world, "strategy": args.strategy, **prov})
    extra = {
        "backend": backend,
        "rank_seconds_median": medians,
        "rank_seconds_nosync_median": nosync,
        "rank_hosts": [g["host"] for g in gathered],
        "comm_share": share,
        "comm_share_raw": share_raw,
        "rank_comm_share": rank_shares,
        "allreduce_bytes": nbytes,
        "allreduce_seconds": ar,
        "allreduce_algbw": algbw,
        "allreduce_busbw": busbw,
        "rank_flop_per_step": [f["model"] for f in flops],
        "rank_hardware_flop_per_step": [f["hardware"] for f in flops],
        "rank_ceiling_flop_per_s": [g["ceiling"] for g in gathered],
        "rank_local_param_numel": [g["local_numel"] for g in gathered],
        "examples_per_s": world * cfg.batch / seconds,
        "examples_per_s_per_chip": examples_per_s_per_chip,
        "scaling_efficiency": efficiency,
        "baseline_step_s": args.baseline_step_s,
        "peak_source": peak_source,
        "rank_telemetry": [g["telemetry"] for g in gathered] if any(g["telemetry"] for g in gathered)
        else None,
    }
    row |= {k: v for k, v in extra.items() if v is not None}
    return {
        "model": cfg.model,
        "batch": cfg.batch,
        "seq": cfg.seq,
        "precision": cfg.precision,
        "device": str(device),
        "device_name": prov["device_name"],
        "world_size": world,
        "strategy": args.strategy,
        "steps": cfg.steps,
        "warmup": cfg.warmup,
        "status": row["status"],
        "error": error,
        "seconds_median": seconds,
        "slowest_rank": slowest,
        "rank_flop": flops,
        "group_flop": total,
        "flop_per_step": total["model"],
        "hardware_flop_per_step": total["hardware"],
        "flop_per_s": result.flop_per_s,
        "peak_flop_per_s": peak,
        "ceiling_flop_per_s": ceiling,
        "utilisation": result.utilisation,
        "utilisation_ceiling": result.utilisation_ceiling,
        **extra,
        "row": row,
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


# --------------------------------------------------------------------------- the launcher


def torchrun_command(cfg: Any, nproc: int, strategy: str, out: str | os.PathLike[str] | None = None, *,
                     db: str | os.PathLike[str] | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                     baseline_step_s: float | None = None, ceiling: bool = True,
                     torchrun_args: Sequence[str] = ("--standalone",)) -> list[str]:
    """The command line launch() runs (print it to reproduce a run by hand, or adapt it for a cluster)."""
    device = str(cfg.device).split(":")[0]
    cmd = [sys.executable, "-m", "torch.distributed.run", *torchrun_args, f"--nproc-per-node={nproc}",
           "--max-restarts=0", "-m", "harness.measure.distributed",
           "--model", cfg.model, "--batch", str(cfg.batch), "--strategy", strategy,
           "--precision", cfg.precision, "--device", device if device in ("cpu", "cuda") else "auto",
           "--steps", str(cfg.steps), "--warmup", str(cfg.warmup), "--timeout-s", f"{timeout_s:g}"]
    if cfg.seq is not None:
        cmd += ["--seq", str(cfg.seq)]
    if out is not None:
        cmd += ["--out", str(out)]
    if db is not None:
        cmd += ["--db", str(db)]
    if baseline_step_s is not None:
        cmd += ["--baseline-step-s", repr(baseline_step_s)]
    if not ceiling:
        cmd += ["--no-ceiling"]
    return cmd


def _kill_group(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            # torchrun may be gone while a worker still lingers in the group: SIGKILL them all
            if sig == signal.SIGTERM:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return
        except subprocess.TimeoutExpired:
            continue


def _rank_states(out: Path, nproc: int) -> dict[int, dict[str, Any]]:
    states = {}
    for r in range(nproc):
        p = out.with_name(f"{out.name}.rank{r}.status")
        try:
            states[r] = json.loads(p.read_text())
        except (OSError, ValueError):
            pass
    return states


_FAILURE = re.compile(r"rank\s*:\s*(\d+)\s*\(local_rank:\s*\d+\)\s*exitcode\s*:\s*(-?\d+)")


def _exit_codes(log: str) -> dict[int, int]:
    """Rank -> exit code from torchrun's failure summary."""
    return {int(r): int(c) for r, c in _FAILURE.findall(log)}


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _failure_line(states: dict[int, dict[str, Any]], codes: dict[int, int], rc: int, log: str) -> str:
    parts = []
    # first the ranks that died without a Python error (the likely root cause), then the errors
    for r in sorted(codes):
        st = states.get(r, {})
        if not st.get("error") and codes[r] != -signal.SIGTERM:
            parts.append(f"rank {r} {_describe_exit(codes[r])} during {st.get('phase', 'start-up')}")
    for r, st in sorted(states.items()):
        if st.get("error"):
            error = st["error"] if len(st["error"]) <= 200 else st["error"][:197] + "..."
            parts.append(f"rank {r} {st['phase']}: {error}")
    if not parts:
        for r in sorted(codes):
            phase = states.get(r, {}).get("phase", "start-up")
            parts.append(f"rank {r} {_describe_exit(codes[r])} during {phase}")
    if not parts:
        tail = [ln.strip() for ln in log.splitlines() if ln.strip()]
        errors = [ln for ln in tail if ln.startswith("error:") or "Error" in ln]
        parts.append((errors or tail or [f"torchrun exited with code {rc}"])[-1][:300])
    return "; ".join(parts)


def launch(cfg: Any, nproc: int, strategy: str = "ddp", timeout_s: float = DEFAULT_TIMEOUT_S, *,
           db: str | os.PathLike[str] | None = None, baseline_step_s: float | None = None,
           threads: int | None = None, ceiling: bool = True, env: dict[str, str] | None = None) -> DistResult:
    """Run `cfg` (its batch is PER RANK) on `nproc` processes of this machine under torchrun.

    Returns rank 0's result; raises DistError (one line: which rank, what, during which phase)
    when a rank fails, DistTimeout when the job outlives `timeout_s` (the whole process group is
    killed). `db`: rank 0 writes one row there at the very end. `threads`: OMP threads per rank on
    CPU (default: this machine's cores / nproc). `env`: extra environment for the ranks.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}")
    if nproc < 1:
        raise ValueError(f"nproc must be at least 1, not {nproc}")
    if str(cfg.device).startswith("cuda") and torch.cuda.is_available() and nproc > torch.cuda.device_count():
        raise ValueError(f"{nproc} processes need {nproc} GPUs; this machine has {torch.cuda.device_count()}")
    if cfg.phase != "train" or cfg.compile or cfg.checkpointing:
        raise ValueError("distributed runs measure training steps without --compile or --checkpointing")
    with tempfile.TemporaryDirectory(prefix="harness-dist-") as tmp:
        out = Path(tmp) / "result.json"
        log_path = Path(tmp) / "torchrun.log"
        cmd = torchrun_command(cfg, nproc, strategy, out, db=db, timeout_s=timeout_s,
                               baseline_step_s=baseline_step_s, ceiling=ceiling)
        run_env = dict(os.environ)
        run_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), run_env.get("PYTHONPATH")]))
        if not str(cfg.device).startswith("cuda") and "OMP_NUM_THREADS" not in (env or {}):
            run_env["OMP_NUM_THREADS"] = str(threads or max(1, (os.cpu_count() or 1) // nproc))
        run_env |= env or {}
        what = f"{cfg.model} batch {cfg.batch}/rank on {nproc} x {strategy}"
        start = time.monotonic()
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=run_env, cwd=str(ROOT), start_new_session=True)
            try:
                rc = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                states = _rank_states(out, nproc)
                where = ", ".join(f"rank {r} in {s['phase']}" for r, s in sorted(states.items()))
                raise DistTimeout(f"distributed run ({what}) timed out after {timeout_s:g} s and its process "
                                  f"group was killed; last seen: {where or 'no rank had started'}",
                                  log_path.read_text(errors="replace")) from None
            except BaseException:  # KeyboardInterrupt: leave no orphans
                _kill_group(proc)
                raise
        text = log_path.read_text(errors="replace")
        if rc != 0 or not out.exists():
            try:  # torchrun ends its workers itself; make sure nothing of the group outlives it
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            line = _failure_line(_rank_states(out, nproc), _exit_codes(text), rc, text)
            elapsed = time.monotonic() - start
            raise DistError(f"distributed run ({what}) failed after {elapsed:.0f} s: {line}", text)
        return DistResult.load(out, cfg, text)


def scaling(model: str, batch: int, nprocs: Iterable[int] = (1, 2), strategy: str = "ddp", *,
            seq: int | None = None, precision: str = "fp32", device: str = "cpu", steps: int = 10,
            warmup: int = 3, timeout_s: float = DEFAULT_TIMEOUT_S, db: str | os.PathLike[str] | None = None,
            threads: int | None = None, ceiling: bool = True) -> list[DistResult]:
    """The same per-rank batch on each process count; efficiency(n) = per-chip throughput at n / at 1.

    1 process is measured first whether asked or not (it is the baseline); its median step is
    handed to the later runs so each stored row carries its scaling_efficiency. On CPU every run
    gets the same OMP threads per rank (cores / the largest count) so only the process count changes.
    """
    from harness.measure.runner import BenchConfig

    counts = sorted(set(nprocs) | {1})
    cfg = BenchConfig(model, batch, seq, "train", precision, device=device, warmup=warmup, steps=steps)
    if threads is None and not device.startswith("cuda"):
        threads = max(1, (os.cpu_count() or 1) // max(counts))
    results: list[DistResult] = []
    base = None
    for n in counts:
        r = launch(cfg, n, strategy, timeout_s, db=db, baseline_step_s=base, threads=threads, ceiling=ceiling)
        if n == 1:
            base = r.seconds_median
        r.data["scaling_efficiency"] = base / r.seconds_median
        results.append(r)
    wanted = set(nprocs)
    return [r for r in results if r.world_size in wanted]


# --------------------------------------------------------------------------- one process, group or not


def single_process_nccl_overhead(cfg: Any, rounds: int = 2) -> dict[str, Any]:
    """The cost of the distributed machinery alone: DDP at world_size 1 vs the plain model.

    Runs in this process: the plain step, then (process group initialised, nccl on CUDA, gloo on
    CPU, world_size 1) the same step under DDP, alternating `rounds` times so drift hits both; the
    ratio of the pooled medians is the overhead a 1-process torchrun baseline carries.
    """
    import models
    from harness.measure.runner import make_step
    from harness.measure.timing import time_step

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
            plain += time_step(plain_step, device, warm, cfg.steps).seconds
            wrapped += time_step(ddp_step, device, warm, cfg.steps).seconds
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


if __name__ == "__main__":
    sys.exit(main())
