"""The counting engine: a dispatch mode for aten ops, a function mode for regions, module paths.

* `_OpCounter` (a `TorchDispatchMode`) sees every aten op that runs, forward and backward,
  and adds its formula's FLOP to the tally under the current phase and module path.
* `_RegionCounter` (a `TorchFunctionMode`) sees calls of the composite functions of
  `regions.REGIONS` (attention, recurrent layers), counts them from shapes, and suppresses
  the aten ops they run. Their backward is bracketed by two identity autograd functions:
  `_RegionExit` on the outputs opens the region when the gradient arrives, `_RegionEnter` on
  the inputs closes it when the gradient leaves; the autograd engine runs the nodes in between
  (those created inside the call) contiguously, since it orders ready nodes by creation.
* Module paths: forward ops are attributed to the module stack kept by forward hooks;
  after each module's forward its new autograd nodes are tagged with its path, and backward
  ops are attributed through `torch._C._current_autograd_node()`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_unflatten

from harness.conventions import AttentionConvention, Category, Phase
from harness.counting import formulas as F
from harness.counting import kernels as K
from harness.counting.attention import (
    ATTENTION_BACKWARD,
    ATTENTION_KERNELS,
    FLEX_NOTE,
    AttentionHint,
    UnknownValues,
    flex_counts,
    flex_uncompiled,
)
from harness.counting.regions import META_OUTPUTS, REGIONS, RegionCount


class CountError(ValueError):
    """A model the counter cannot run as given; the message is one line naming the fix."""


@dataclass
class Tally:
    """Mutable accumulator of one counting run; frozen into a `FlopCount` at the end."""

    phase: Phase = Phase.FORWARD
    suppress: int = 0
    by_phase_category: dict[tuple[Phase, Category], int] = field(default_factory=lambda: defaultdict(int))
    by_module: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_op: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    uncounted: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    uncounted_elements: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    counted_elements: int = 0  # output elements of ops with arithmetic that were counted
    notes: dict[str, None] = field(default_factory=dict)  # ordered set of what the reader must know
    hint: AttentionHint = field(default_factory=AttentionHint)
    convention: AttentionConvention = AttentionConvention.FULL
    causal_saved: int = 0  # FLOP the causal triangle leaves out of the full square
    recompute: int = 0
    open_regions: list[list[Any]] = field(default_factory=list)
    module_stack: list[str] = field(default_factory=list)
    node_paths: dict[Any, str] = field(default_factory=dict)

    def current_path(self) -> str | None:
        """The module path running now; None outside the model (the loss, say)."""
        if self.phase is Phase.FORWARD:
            return self.module_stack[-1] if self.module_stack else None
        if self.phase is Phase.OPTIMIZER:
            return None
        node = torch._C._current_autograd_node()
        return self.node_paths.get(node) if node is not None else None

    def add(self, op: str, flops: F.Flops) -> None:
        path = self.current_path()
        total = 0
        for category, flop in flops.items():
            self.by_phase_category[(self.phase, category)] += flop
            total += flop
        stats = self.by_op[op]
        stats[0] += 1
        stats[1] += total
        for prefix in _prefixes(path):
            self.by_module[prefix] += total

    def add_attention(self, op: str, flops: F.Flops, saved: int) -> None:
        """Add attention FLOP under the chosen convention; keep the other one's difference."""
        self.causal_saved += saved
        if self.convention is AttentionConvention.CAUSAL and saved:
            flops = dict(flops)
            flops[Category.ATTENTION] -= saved
        self.add(op, flops)

    @contextmanager
    def suppressed(self) -> Iterator[None]:
        self.suppress += 1
        try:
            yield
        finally:
            self.suppress -= 1


def _prefixes(path: str | None) -> list[str]:
    """'blocks.3.attn' -> ['', 'blocks', 'blocks.3', 'blocks.3.attn']; None -> []."""
    if path is None:
        return []
    if not path:
        return [""]
    parts = path.split(".")
    return [""] + [".".join(parts[: i + 1]) for i in range(len(parts))]


class _OpCounter(TorchDispatchMode):
    supports_higher_order_operators = True  # flex_attention arrives as one; others are refused

    def __init__(self, tally: Tally) -> None:
        super().__init__()
        self.tally = tally

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if isinstance(func, torch._ops.HigherOrderOperator):
            return self._higher_order(func, args, kwargs)
        on_meta = _any_meta(args, kwargs)
        if not self.tally.suppress and _decomposes(func):
            with self:  # an op torch would have decomposed outside inference mode: count its parts
                out = func.decompose(*args, **kwargs)
            if out is not NotImplemented:
                return out
        try:
            if on_meta and func in K.META_KERNELS:
                out = K.META_KERNELS[func](args, kwargs)
            else:
                out = func(*args, **kwargs)
        except (RuntimeError, NotImplementedError) as e:
            if not on_meta:
                raise
            name = F.op_name(func) if isinstance(func, torch._ops.OpOverload) else str(func)
            raise CountError(
                f"{name} failed on the meta device ({str(e).splitlines()[0][:160]}); tensors there hold no values, "
                "so a model that reads them (.item(), nonzero, a data-dependent shape) must be counted with --device cpu"
            ) from None
        self.record(func, args, kwargs, out)
        return out

    def record(self, func: Any, args: tuple, kwargs: dict, out: Any) -> None:
        tally = self.tally
        if tally.suppress:
            if getattr(func, "_overloadpacket", None) in ATTENTION_BACKWARD and tally.open_regions:
                tally.open_regions[-1][1] = True  # this region's backward recomputes
            return
        if not isinstance(func, torch._ops.OpOverload):
            tally.uncounted[str(func)] += 1
            return
        name = F.op_name(func)
        packet = func._overloadpacket
        if packet in ATTENTION_KERNELS:
            try:
                flops, saved, recompute = ATTENTION_KERNELS[packet](F.normalise_args(func, args, kwargs))
            except UnknownValues as e:
                tally.uncounted[name] += 1
                tally.notes[f"{name}: {e}"] = None
                return
            tally.recompute += recompute
            tally.add_attention(name, flops, saved)
        elif func in F.FORMULAS:
            tally.add(name, F.FORMULAS[func](F.normalise_args(func, args, kwargs), out))
        elif F.is_zero_cost(func):
            tally.add(name, {})
            return
        elif F.is_pointwise(func):
            tally.add(name, F.DEFAULT_POINTWISE({}, out))
        else:
            tally.uncounted[name] += 1
            tally.uncounted_elements[name] += _elements(out)
            return
        tally.counted_elements += _elements(out)


    def _higher_order(self, func: Any, args: tuple, kwargs: dict) -> Any:
        """flex_attention and its backward, counted as SDPA; the kernel then runs uncounted."""
        backward = func.name() == "flex_attention_backward"
        if func.name() not in ("flex_attention", "flex_attention_backward"):
            return NotImplemented
        tally = self.tally
        if not tally.suppress:
            q, k, v = args[:3]
            block_mask = args[9] if backward else args[4]
            flops, saved, recompute = flex_counts(q, k, v, block_mask, backward)
            tally.recompute += recompute
            tally.add_attention(f"flex_attention{'.backward' if backward else ''}", flops, saved)
            tally.notes[FLEX_NOTE] = None
        return func(*args, **kwargs)


def _any_meta(args: tuple, kwargs: dict) -> bool:
    return any(isinstance(x, torch.Tensor) and x.is_meta for x in tree_flatten((args, kwargs))[0])


def _elements(out: Any) -> int:
    """Elements of an op's tensor outputs (a nested tensor's values count too)."""
    total = 0
    for t in tree_flatten(out)[0]:
        if isinstance(t, torch.Tensor):
            total += t.values().numel() if t.is_nested else t.numel()
    return total


def _decomposes(func: Any) -> bool:
    """An op with no formula of its own that torch would decompose (CompositeImplicitAutograd).

    Outside inference mode these never reach the dispatch mode; inside it (autograd is off)
    they arrive whole, and are counted from their decomposition.
    """
    if not isinstance(func, torch._ops.OpOverload) or func in F.FORMULAS or func._overloadpacket in ATTENTION_KERNELS:
        return False
    return torch._C._dispatch_has_kernel_for_dispatch_key(func.name(), "CompositeImplicitAutograd")


class _RegionExit(torch.autograd.Function):
    """Identity on a region's outputs; its backward opens the region's backward."""

    @staticmethod
    def forward(ctx: Any, tally: Tally, name: str, count: RegionCount, *outs: torch.Tensor) -> Any:
        ctx.tally, ctx.name, ctx.count = tally, name, count
        return tuple(o.view_as(o) for o in outs)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        tally = ctx.tally
        tally.add_attention(ctx.name + ".backward", ctx.count.backward, ctx.count.causal_saved_backward)
        tally.open_regions.append([ctx.count, False])
        tally.suppress += 1
        return (None, None, None, *grads)


class _RegionEnter(torch.autograd.Function):
    """Identity on a region's inputs that need gradients; its backward closes the region."""

    @staticmethod
    def forward(ctx: Any, tally: Tally, *ins: torch.Tensor) -> Any:
        ctx.tally = tally
        return tuple(i.view_as(i) for i in ins)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        tally = ctx.tally
        if tally.open_regions:
            count, recomputed = tally.open_regions.pop()
            tally.suppress -= 1
            if recomputed:
                tally.recompute += count.recompute
        return (None, *grads)


class _MetaRegion(torch.autograd.Function):
    """A region on the meta device, where values do not exist: shapes in, shapes out.

    The forward's outputs come from running the function once without autograd; this node
    joins them to the inputs, and its backward counts the region's backward and hands back
    gradients of the right shapes, without running the function's decomposition twice.
    """

    @staticmethod
    def forward(ctx: Any, tally: Tally, name: str, count: RegionCount, outs: list, *ins: torch.Tensor) -> Any:
        ctx.tally, ctx.name, ctx.count = tally, name, count
        ctx.shapes = [(i.shape, i.dtype) for i in ins]
        return tuple(outs)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        ctx.tally.add_attention(ctx.name + ".backward", ctx.count.backward, ctx.count.causal_saved_backward)
        with ctx.tally.suppressed():
            ins = [torch.empty(shape, dtype=dtype, device="meta") for shape, dtype in ctx.shapes]
        return (None, None, None, None, *ins)


class _RegionCounter(TorchFunctionMode):
    def __init__(self, tally: Tally) -> None:
        super().__init__()
        self.tally = tally

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        region = REGIONS.get(func) if not self.tally.suppress else None
        if region is None:
            return func(*args, **kwargs)
        name, formula = region
        tally = self.tally
        with tally.suppressed():  # a formula may read a mask's values: those ops are not the model's
            count = formula(args, kwargs, tally.hint)
        for note in count.notes:
            tally.notes[note] = None
        tally.add_attention(name, count.forward, count.causal_saved_forward)

        flat, spec = tree_flatten((args, kwargs))
        grad_at = [i for i, x in enumerate(flat) if isinstance(x, torch.Tensor) and x.requires_grad]
        track = torch.is_grad_enabled() and bool(grad_at)
        tensors = [x for x in flat if isinstance(x, torch.Tensor)]
        if tensors and all(t.is_meta for t in tensors):
            return self._on_meta(func, args, kwargs, name, count, [flat[i] for i in grad_at] if track else [])
        if track:
            marked = _RegionEnter.apply(tally, *(flat[i] for i in grad_at))
            for i, m in zip(grad_at, marked):
                flat[i] = m
            args, kwargs = tree_unflatten(flat, spec)
        with tally.suppressed():
            out = func(*args, **kwargs)
        if not track:
            return out
        out_flat, out_spec = tree_flatten(out)
        at = [i for i, x in enumerate(out_flat) if isinstance(x, torch.Tensor) and x.requires_grad]
        marked = _RegionExit.apply(tally, name, count, *(out_flat[i] for i in at))
        for i, m in zip(at, marked):
            out_flat[i] = m
        return tree_unflatten(out_flat, out_spec)


    def _on_meta(self, func: Any, args: tuple, kwargs: dict, name: str, count: RegionCount, ins: list) -> Any:
        with torch.no_grad(), self.tally.suppressed():
            shape_only = META_OUTPUTS.get(func)
            out = shape_only(args, kwargs) if shape_only else func(*args, **kwargs)
        if not ins:
            return out
        out_flat, out_spec = tree_flatten(out)
        at = [i for i, x in enumerate(out_flat) if isinstance(x, torch.Tensor) and x.is_floating_point()]
        joined = _MetaRegion.apply(self.tally, name, count, [out_flat[i] for i in at], *ins)
        for i, m in zip(at, joined):
            out_flat[i] = m
        return tree_unflatten(out_flat, out_spec)


def _tag_nodes(outputs: Any, inputs: Any, path: str, node_paths: dict[Any, str]) -> None:
    """Give the autograd nodes a module created (between its inputs and outputs) its path.

    Inner modules finish first and tag their own nodes; the walk continues through them to
    reach the outer module's earlier ops, and leaves their tags alone.
    """
    stop = {t.grad_fn for t in tree_flatten(inputs)[0] if isinstance(t, torch.Tensor) and t.grad_fn}
    todo = [t.grad_fn for t in tree_flatten(outputs)[0] if isinstance(t, torch.Tensor) and t.grad_fn]
    seen: set[Any] = set()
    while todo:
        node = todo.pop()
        if node is None or node in seen or node in stop:
            continue
        seen.add(node)
        node_paths.setdefault(node, path)
        todo.extend(n for n, _ in node.next_functions)


@contextmanager
def module_tracking(model: torch.nn.Module, tally: Tally) -> Iterator[None]:
    handles = []
    for path, module in model.named_modules():

        def pre(mod: Any, inputs: Any, path: str = path) -> None:
            tally.module_stack.append(path)

        def post(mod: Any, inputs: Any, outputs: Any, path: str = path) -> None:
            tally.module_stack.pop()
            if torch.is_grad_enabled():
                _tag_nodes(outputs, inputs, path, tally.node_paths)

        handles.append(module.register_forward_pre_hook(pre))
        handles.append(module.register_forward_hook(post))
    try:
        yield
    finally:
        for h in handles:
            h.remove()


_ACTIVE: list[_RegionCounter] = []


@contextmanager
def counting(model: torch.nn.Module, tally: Tally) -> Iterator[None]:
    """Count every op run inside the block into `tally`."""
    regions = _RegionCounter(tally)
    _ACTIVE.append(regions)
    try:
        with module_tracking(model, tally), flex_uncompiled(), regions, _OpCounter(tally):
            yield
    finally:
        _ACTIVE.pop()


@contextmanager
def regions_reentered() -> Iterator[None]:
    """Re-enter the active count's function mode where autograd dropped it.

    The autograd engine runs the backward with an empty torch-function mode stack, so a
    forward recomputed inside the backward (activation checkpointing) would escape the region
    counter. Code that recomputes wraps the recomputation in this; outside a count it does nothing.
    """
    if not _ACTIVE or torch._C._len_torch_function_stack() > 0:
        yield
        return
    with _ACTIVE[-1]:
        yield
