"""Tests for the external FLOP-counter adapters (harness.counting.adapters).

All totals are FLOP with 1 multiply-accumulate = 2 FLOP.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from harness.counting.adapters import ADAPTERS, run_counters
from harness.counting.adapters.base import CounterReading
from harness.counting.adapters.torch_adapters import outermost_flop_events

REPO_ROOT = Path(__file__).resolve().parents[1]
ALL_NAMES = list(ADAPTERS)

# Linear(64, 32, bias=False) on x of shape (8, 64): y = x @ W.T is 8*64*32 = 16384 MACs,
# i.e. 2 * 8 * 64 * 32 = 32768 FLOP at 2 FLOP per MAC.
LINEAR_B, LINEAR_IN, LINEAR_OUT = 8, 64, 32
LINEAR_FLOP = 2 * LINEAR_B * LINEAR_IN * LINEAR_OUT
assert LINEAR_FLOP == 32768

# SDPA on q, k, v of shape (B, H, S, D): Q @ K^T is B*H*S*S*D MACs and P @ V another
# B*H*S*S*D MACs, so 2 * B*H*S*S*D * 2 FLOP = 2 * 2*4*32*32*16 * 2 = 524288 FLOP.
SDPA_B, SDPA_H, SDPA_S, SDPA_D = 2, 4, 32, 16
SDPA_FLOP = 2 * SDPA_B * SDPA_H * SDPA_S * SDPA_S * SDPA_D * 2
assert SDPA_FLOP == 524288

# Tools whose adapters import a third-party package, with that package's top-level name.
THIRD_PARTY = {
    "fvcore": "fvcore",
    "ptflops-pytorch": "ptflops",
    "ptflops-aten": "ptflops",
    "deepspeed": "deepspeed",
}


class Attention(nn.Module):
    """Bare attention: the forward is one F.scaled_dot_product_attention call."""

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v)


class Exploding(nn.Module):
    """A model whose forward raises after running a layer."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.fc(x)
        raise RuntimeError("boom in forward")


def _linear_case() -> tuple[nn.Module, tuple]:
    torch.manual_seed(0)
    return nn.Linear(LINEAR_IN, LINEAR_OUT, bias=False), (torch.randn(LINEAR_B, LINEAR_IN),)


def _sdpa_inputs() -> tuple[torch.Tensor, ...]:
    torch.manual_seed(0)
    shape = (SDPA_B, SDPA_H, SDPA_S, SDPA_D)
    return tuple(torch.randn(shape) for _ in range(3))


def _require_ok(reading: CounterReading) -> None:
    """Skip when the tool is not installed; any other skip is a failure."""
    if reading.skipped is not None and "not installed" in reading.skipped:
        pytest.skip(reading.skipped)
    assert reading.ok, reading.skipped


def _hook_count(model: nn.Module) -> int:
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        for m in model.modules()
    )


@pytest.mark.parametrize("name", ALL_NAMES)
def test_linear_is_exactly_two_flop_per_mac(name: str) -> None:
    # Also guards ptflops' pytorch backend, which divides module-hook MACs by the batch size
    # of the top module's first input: called naively with x it would report 32768 / 8.
    model, inputs = _linear_case()
    reading = ADAPTERS[name](model, inputs)
    _require_ok(reading)
    assert reading.counter == name
    assert reading.total_flop == LINEAR_FLOP
    assert reading.version
    assert reading.unit_note.startswith(
        ("reports MACs: converted x2", "reports FLOP (2 per MAC): no conversion")
    )


@pytest.mark.parametrize("name", ["fvcore", "ptflops-pytorch", "ptflops-aten"])
def test_mac_tools_state_the_conversion(name: str) -> None:
    model, inputs = _linear_case()
    reading = ADAPTERS[name](model, inputs)
    _require_ok(reading)
    assert reading.unit_note == "reports MACs: converted x2"


@pytest.mark.parametrize("name", ["fvcore", "ptflops-pytorch", "ptflops-aten", "flopcountermode"])
def test_cpu_sdpa_is_missed(name: str) -> None:
    reading = ADAPTERS[name](Attention(), _sdpa_inputs())
    _require_ok(reading)
    assert reading.total_flop < SDPA_FLOP


def test_fvcore_lists_sdpa_as_unsupported() -> None:
    reading = ADAPTERS["fvcore"](Attention(), _sdpa_inputs())
    _require_ok(reading)
    assert "unsupported: aten::scaled_dot_product_attention x1" in reading.notes


def test_deepspeed_counts_sdpa() -> None:
    # DeepSpeed patches F.scaled_dot_product_attention itself, so it sees the two matmuls.
    reading = ADAPTERS["deepspeed"](Attention(), _sdpa_inputs())
    _require_ok(reading)
    assert reading.total_flop == SDPA_FLOP


@pytest.mark.parametrize("name", list(THIRD_PARTY))
def test_uninstalled_tool_is_skipped(
    name: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    package = THIRD_PARTY[name]
    monkeypatch.setitem(sys.modules, package, None)  # makes `import <package>` fail
    model, inputs = _linear_case()
    reading = ADAPTERS[name](model, inputs)
    assert not reading.ok
    assert reading.total_flop is None
    assert reading.skipped == f"{package} not installed: pip install {package}"
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("name", ALL_NAMES)
def test_raising_model_is_skipped_with_the_error(
    name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    original_linear = F.linear
    reading = ADAPTERS[name](Exploding(), (torch.randn(2, 4),))
    if reading.skipped is not None and "not installed" in reading.skipped:
        pytest.skip(reading.skipped)
    assert not reading.ok
    assert reading.skipped.startswith(f"{name} failed: ")
    assert "boom in forward" in reading.skipped
    assert "\n" not in reading.skipped
    assert F.linear is original_linear  # DeepSpeed's patch was undone despite the error
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("name", ALL_NAMES)
def test_adapter_leaves_no_trace(name: str, capfd: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 2))
    model.train()
    attrs_before = [set(vars(m)) for m in model.modules()]
    functional_before = dict(vars(F))
    tensor_matmul, torch_matmul = torch.Tensor.matmul, torch.matmul
    reading = ADAPTERS[name](model, (torch.randn(3, 8),))
    _require_ok(reading)
    assert _hook_count(model) == 0
    assert [set(vars(m)) for m in model.modules()] == attrs_before
    assert all(m.training for m in model.modules())
    assert dict(vars(F)) == functional_before
    assert torch.Tensor.matmul is tensor_matmul and torch.matmul is torch_matmul
    assert capfd.readouterr() == ("", "")


def test_deepspeed_call_stacks_are_fresh_after_failure() -> None:
    reading = ADAPTERS["deepspeed"](Exploding(), (torch.randn(2, 4),))
    if reading.skipped is not None and "not installed" in reading.skipped:
        pytest.skip(reading.skipped)
    from deepspeed.profiling.flops_profiler import profiler as ds_profiler

    assert ds_profiler.module_flop_count == [] and ds_profiler.module_mac_count == []
    model, inputs = _linear_case()
    assert ADAPTERS["deepspeed"](model, inputs).total_flop == LINEAR_FLOP


class _FakeEvent:
    def __init__(self, name: str, flops: int, parent: _FakeEvent | None = None) -> None:
        self.name, self.flops, self.cpu_parent = name, flops, parent


def test_profiler_sum_skips_events_nested_in_counted_ones() -> None:
    # No nested FLOP events occur on CPU in torch 2.13, so the filter is checked on a fake
    # tree: linear(0) > addmm(100) > mm(100) must count 100, not 200; mul(5) stands alone.
    linear = _FakeEvent("aten::linear", 0)
    addmm = _FakeEvent("aten::addmm", 100, linear)
    mm = _FakeEvent("aten::mm", 100, addmm)
    mul = _FakeEvent("aten::mul", 5)
    outer, nested = outermost_flop_events([linear, addmm, mm, mul])
    assert [e.name for e in outer] == ["aten::addmm", "aten::mul"]
    assert nested == 1


def test_run_counters_follows_registry_order() -> None:
    assert ALL_NAMES == [
        "fvcore",
        "ptflops-pytorch",
        "ptflops-aten",
        "flopcountermode",
        "torch-profiler",
        "deepspeed",
    ]
    model, inputs = _linear_case()
    readings = run_counters(model, inputs, names=["torch-profiler", "flopcountermode"])
    assert [r.counter for r in readings] == ["flopcountermode", "torch-profiler"]
    assert all(r.total_flop == LINEAR_FLOP for r in readings)


def test_run_counters_defaults_to_all() -> None:
    model, inputs = _linear_case()
    assert [r.counter for r in run_counters(model, inputs)] == ALL_NAMES


def test_unknown_name_raises_value_error() -> None:
    model, inputs = _linear_case()
    with pytest.raises(ValueError, match="valid names: fvcore, ptflops-pytorch") as info:
        run_counters(model, inputs, names=["fvcore", "flopz"])
    assert "flopz" in str(info.value)


def test_package_import_does_not_import_the_tools() -> None:
    code = (
        "import sys, harness.counting.adapters; "
        "print(sorted(m for m in ('fvcore', 'ptflops', 'deepspeed') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
