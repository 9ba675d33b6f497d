"""Adapters for PyTorch's own counters, plus the isolation helpers every adapter uses.

Unit convention: every adapter returns FLOP with 1 multiply-accumulate = 2 FLOP.
`FlopCounterMode` and `torch.profiler` (``with_flops=True``) already count a matmul of
(m, k) x (k, n) as 2*m*k*n, so their totals pass through unchanged.

The helpers below (`isolated_run`, `failure_reason`, `tool_version`, ...) live here because
this module depends on nothing but torch; the adapters for third-party tools import them.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F

from .base import CounterReading, skipped

FLOP_NO_CONVERSION = "reports FLOP (2 per MAC): no conversion"
MACS_CONVERTED = "reports MACs: converted x2"

_REASON_MAX_CHARS = 300

# Globals that counting tools (ptflops' pytorch backend, DeepSpeed) monkey-patch while they
# run. They are snapshotted and put back after every adapter, as a safety net should a tool
# fail between patching and unpatching.
_PATCHED_TORCH_NAMES = ("matmul", "mm", "bmm", "addmm", "baddbmm", "mul", "add", "einsum")
_PATCHED_TENSOR_NAMES = ("matmul", "__matmul__", "mm", "bmm", "addmm", "mul", "add")
_MODULE_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
    "_forward_pre_hooks",
    "_forward_pre_hooks_with_kwargs",
    "_backward_hooks",
    "_backward_pre_hooks",
)


# --------------------------------------------------------------------------- helpers


def one_line(text: str, limit: int = _REASON_MAX_CHARS) -> str:
    """Collapse `text` to a single line of at most `limit` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def failure_reason(counter: str, exc: BaseException) -> str:
    """The one-line skip reason for a counter that raised: "<counter> failed: Type: msg"."""
    message = one_line(str(exc))
    detail = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return one_line(f"{counter} failed: {detail}")


def is_missing_module(exc: BaseException, top_level: str) -> bool:
    """True when `exc` says the package `top_level` itself is not importable (not installed)."""
    if not isinstance(exc, ModuleNotFoundError):
        return False
    name = exc.name or ""
    return name.split(".")[0] == top_level


def import_failure(counter: str, top_level: str, install: str, exc: BaseException) -> CounterReading:
    """The skipped reading for a tool whose import raised `exc`."""
    if is_missing_module(exc, top_level):
        return skipped(counter, f"{top_level} not installed: {install}")
    return skipped(counter, one_line(f"{top_level} import failed: {type(exc).__name__}: {exc}"))


def tool_version(distribution: str, module: Any = None) -> str:
    """The installed version string of `distribution` ("" when it cannot be found)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return str(getattr(module, "__version__", ""))


def _iter_tensors(obj: Any) -> Iterator[torch.Tensor]:
    """Every tensor inside a (possibly nested) tuple/list/dict of inputs."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _iter_tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _iter_tensors(item)


def uses_cuda(inputs: tuple) -> bool:
    """True when any tensor in `inputs` lives on a CUDA device."""
    return any(t.is_cuda for t in _iter_tensors(inputs))


# --------------------------------------------------------------------------- isolation


@contextlib.contextmanager
def _fds_to_devnull() -> Iterator[None]:
    """Point OS file descriptors 1 and 2 at /dev/null (catches C++ prints, e.g. Kineto's)."""
    saved: list[tuple[int, int]] = []
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        for fd in (1, 2):
            try:
                saved.append((fd, os.dup(fd)))
                os.dup2(devnull, fd)
            except OSError:
                continue
        yield
    finally:
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)


def _flush_std_streams() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Swallow everything a tool prints: Python streams, C-level fds, warnings and logging.

    All of it is restored on exit. The fd redirection is process-wide, so output from other
    threads during the call is lost as well.
    """
    previous_disable = logging.root.manager.disable
    _flush_std_streams()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_fds_to_devnull())
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        logging.disable(logging.CRITICAL)
        try:
            yield
        finally:
            logging.disable(previous_disable)
            _flush_std_streams()


def _hook_snapshot(model: torch.nn.Module) -> dict[int, dict[str, set[int]]]:
    return {
        id(m): {d: set(getattr(m, d, {}) or {}) for d in _MODULE_HOOK_DICTS}
        for m in model.modules()
    }


def _remove_new_hooks(model: torch.nn.Module, before: dict[int, dict[str, set[int]]]) -> None:
    for m in model.modules():
        known = before.get(id(m), {})
        for d in _MODULE_HOOK_DICTS:
            hooks = getattr(m, d, None)
            if not hooks:
                continue
            for key in [k for k in hooks if k not in known.get(d, set())]:
                del hooks[key]


@contextlib.contextmanager
def model_state_preserved(model: torch.nn.Module) -> Iterator[None]:
    """Restore each submodule's train/eval flag and drop any hook added while inside."""
    modes = [(m, m.training) for m in model.modules()]
    hooks = _hook_snapshot(model)
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode
        _remove_new_hooks(model, hooks)


@contextlib.contextmanager
def torch_globals_preserved() -> Iterator[None]:
    """Put back torch.nn.functional / torch / torch.Tensor attributes a tool monkey-patched."""
    functional = dict(vars(F))
    torch_attrs = {n: getattr(torch, n) for n in _PATCHED_TORCH_NAMES if hasattr(torch, n)}
    tensor_attrs = {n: vars(torch.Tensor)[n] for n in _PATCHED_TENSOR_NAMES if n in vars(torch.Tensor)}
    try:
        yield
    finally:
        for name, value in functional.items():
            if vars(F).get(name) is not value:
                setattr(F, name, value)
        for name, value in torch_attrs.items():
            if getattr(torch, name) is not value:
                setattr(torch, name, value)
        for name, value in tensor_attrs.items():
            if vars(torch.Tensor).get(name) is not value:
                setattr(torch.Tensor, name, value)


@contextlib.contextmanager
def isolated_run(model: torch.nn.Module, grad: bool = False) -> Iterator[None]:
    """Everything an adapter runs a tool inside: silent, no_grad, no leftovers on the model."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(silenced())
        stack.enter_context(torch_globals_preserved())
        stack.enter_context(model_state_preserved(model))
        if not grad:
            stack.enter_context(torch.no_grad())
        yield


# --------------------------------------------------------------------------- FlopCounterMode


def count_flop_counter_mode(model: torch.nn.Module, inputs: tuple) -> CounterReading:
    """Forward FLOP of `model(*inputs)` from `torch.utils.flop_counter.FlopCounterMode`.

    The tool counts 2 FLOP per MAC already, so its total is returned unchanged. Ops without a
    registered formula (e.g. CPU SDPA, `aten::_scaled_dot_product_flash_attention_for_cpu`)
    count as zero.
    """
    name = "flopcountermode"
    try:
        from torch.utils.flop_counter import FlopCounterMode
    except Exception as exc:  # noqa: BLE001 - an adapter never raises
        return skipped(name, one_line(f"torch.utils.flop_counter unavailable: {type(exc).__name__}: {exc}"))
    try:
        with isolated_run(model):
            counter = FlopCounterMode(display=False)
            with counter:
                model(*inputs)
            total = int(counter.get_total_flops())
    except Exception as exc:  # noqa: BLE001
        return skipped(name, failure_reason(name, exc))
    return CounterReading(
        counter=name,
        total_flop=total,
        unit_note=FLOP_NO_CONVERSION,
        version=torch.__version__,
    )


# --------------------------------------------------------------------------- torch.profiler


def _has_flop_ancestor(event: Any) -> bool:
    parent = getattr(event, "cpu_parent", None)
    while parent is not None:
        if (getattr(parent, "flops", 0) or 0) > 0:
            return True
        parent = getattr(parent, "cpu_parent", None)
    return False


def outermost_flop_events(events: Any) -> tuple[list[Any], int]:
    """Events carrying a FLOP estimate that have no ancestor carrying one, and the count of
    nested ones left out (so a parent op and its child are never both counted)."""
    with_flops = [e for e in events if (getattr(e, "flops", 0) or 0) > 0]
    outer = [e for e in with_flops if not _has_flop_ancestor(e)]
    return outer, len(with_flops) - len(outer)


def _per_op_notes(events: list[Any]) -> tuple[str, ...]:
    per_op: dict[str, int] = {}
    for e in events:
        per_op[e.name] = per_op.get(e.name, 0) + int(e.flops)
    return tuple(f"counted: {op} {flop} FLOP" for op, flop in sorted(per_op.items()))


def count_torch_profiler(model: torch.nn.Module, inputs: tuple) -> CounterReading:
    """Forward FLOP of `model(*inputs)` from `torch.profiler.profile(with_flops=True)`.

    The profiler estimates FLOP (2 per MAC) for a handful of ops only (mm, addmm, bmm,
    baddbmm, conv, elementwise mul/add); everything else counts zero. The total is summed
    over the raw event tree, taking only events whose ancestors carry no estimate.
    """
    name = "torch-profiler"
    try:
        from torch.profiler import ProfilerActivity, profile
    except Exception as exc:  # noqa: BLE001
        return skipped(name, one_line(f"torch.profiler unavailable: {type(exc).__name__}: {exc}"))
    try:
        activities = [ProfilerActivity.CPU]
        if uses_cuda(inputs):
            activities.append(ProfilerActivity.CUDA)
        with isolated_run(model):
            with profile(activities=activities, with_flops=True) as prof:
                model(*inputs)
                if uses_cuda(inputs):
                    torch.cuda.synchronize()
            outer, nested = outermost_flop_events(prof.events())
            total = sum(int(e.flops) for e in outer)
    except Exception as exc:  # noqa: BLE001
        return skipped(name, failure_reason(name, exc))
    notes = _per_op_notes(outer)
    if nested:
        notes += (f"nested FLOP events left out (already inside a counted op): {nested}",)
    return CounterReading(
        counter=name,
        total_flop=total,
        unit_note=FLOP_NO_CONVERSION,
        version=torch.__version__,
        notes=notes,
    )
