"""The launcher of a data-parallel measurement: torchrun as a subprocess, watched.

:func:`launch` runs ``python -m torch.distributed.run --standalone --nproc-per-node N -m
harness.measure.distributed ...`` in its own session, with a timeout; on timeout it kills the whole
process group. A rank that dies or hangs ends the job with one clear line (:class:`DistError`).
It returns rank 0's result; storing its row is the caller's. :func:`scaling` measures the same
per-rank batch at 1..N processes. The ranks import the same `harness` and `models` as this process
(their folders go first on PYTHONPATH, found through the import system).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from harness.measure.distributed.rank import DEFAULT_TIMEOUT_S, STRATEGIES

KILL_GRACE_S = 5.0  # SIGTERM to the process group, then this long before SIGKILL


class DistError(RuntimeError):
    """A distributed run that did not finish; the message (one line) says which rank and why.

    `log` holds torchrun's whole output (every rank's traceback) for a closer look.
    """

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


class DistTimeout(DistError):
    """A distributed run killed at its timeout."""


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


def import_paths() -> list[str]:
    """The folders this process imports `harness` and `models` from (the ranks must import the same)."""
    found = []
    for name in ("harness", "models"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found.append(str(Path(next(iter(spec.submodule_search_locations))).parent))
    return list(dict.fromkeys(found))


def torchrun_command(cfg: Any, nproc: int, strategy: str, out: str | os.PathLike[str] | None = None, *,
                     db: str | os.PathLike[str] | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                     baseline_step_s: float | None = None, ceiling: bool = True,
                     torchrun_args: Sequence[str] = ("--standalone",)) -> list[str]:
    """The command line launch() runs (print it to reproduce a run by hand, or adapt it for a cluster)."""
    device = str(cfg.device).split(":")[0]
    cmd = [sys.executable, "-m", "torch.distributed.run", *torchrun_args, f"--nproc-per-node={nproc}",
           "--max-restarts=0", "-m", "harness.measure.distributed",
           "--model", cfg.model, "--batch", str(cfg.batch), "--strategy", strategy,
           "--precision", cfg.precision, "--device", device,
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
           baseline_step_s: float | None = None, threads: int | None = None, ceiling: bool = True,
           env: dict[str, str] | None = None) -> DistResult:
    """Run `cfg` (its batch is PER RANK) on `nproc` processes of this machine under torchrun.

    Returns rank 0's result, whose `row` the caller stores; raises DistError (one line: which rank,
    what, during which phase) when a rank fails, DistTimeout when the job outlives `timeout_s` (the
    whole process group is killed). `threads`: OMP threads per rank on CPU (default: this
    machine's cores / nproc). `env`: extra environment for the ranks.
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
        cmd = torchrun_command(cfg, nproc, strategy, out, timeout_s=timeout_s,
                               baseline_step_s=baseline_step_s, ceiling=ceiling)
        run_env = dict(os.environ)
        run_env["PYTHONPATH"] = os.pathsep.join([*import_paths(), *filter(None, [run_env.get("PYTHONPATH")])])
        if not str(cfg.device).startswith("cuda") and "OMP_NUM_THREADS" not in (env or {}):
            run_env["OMP_NUM_THREADS"] = str(threads or max(1, (os.cpu_count() or 1) // nproc))
        run_env |= env or {}
        what = f"{cfg.model} batch {cfg.batch}/rank on {nproc} x {strategy}"
        start = time.monotonic()
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=run_env, start_new_session=True)
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
            warmup: int = 3, timeout_s: float = DEFAULT_TIMEOUT_S, threads: int | None = None,
            ceiling: bool = True) -> list[DistResult]:
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
        r = launch(cfg, n, strategy, timeout_s, baseline_step_s=base, threads=threads, ceiling=ceiling)
        if n == 1:
            base = r.seconds_median
        r.data["scaling_efficiency"] = base / r.seconds_median
        r.data["row"]["scaling_efficiency"] = r.data["scaling_efficiency"]
        results.append(r)
    wanted = set(nprocs)
    return [r for r in results if r.world_size in wanted]
