"""The vision zoo: LeNet-5, AlexNet, VGG-16, GoogLeNet, ResNet-50/152, MobileNetV2,
EfficientNet-B0/L2, ViT-B/16.

For each entry: the analytic formula against the dispatch counter (full size on meta, tiny config on CPU), meta == CPU at the tiny
config, and a train step at the tiny config. Parameter counts against the published ones: one
rule for the whole zoo, in test_zoo.py.
"""

from __future__ import annotations

import csv
import dataclasses
import pathlib

import pytest
import torch

from harness.analytic import breakdown, by_category
from harness.counting.api import count_flops
from harness.estimate.runs import run_for
from models import REGISTRY

NAMES = [
    "lenet-5", "alexnet", "vgg-16", "googlenet", "resnet-50", "resnet-152",
    "mobilenetv2", "efficientnet-b0", "efficientnet-l2", "vit-b-16",
]  # fmt: skip
ANALYTIC_FILES = ["convnets.py", "resnet.py", "mobile.py", "vit.py"]
DATASET = pathlib.Path("/work/shared/data/epoch/all_ml_systems.csv")
TOLERANCE = 0.005


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())  # parameters() yields tied weights once


_COUNTS: dict = {}


def _count(name: str, size: str, device: str):
    """Forward count, once per (architecture, config, device): ResNet-50 and -152 share a tiny config."""
    entry = REGISTRY[name]
    config = entry.config if size == "full" else entry.tiny
    key = (entry.build_fn, config, device)
    if key not in _COUNTS:
        _COUNTS[key] = count_flops(entry.build(device, config), entry.inputs(device=device, config=config))
    return _COUNTS[key]


def _assert_analytic(entry, config, counted) -> None:
    analytic = by_category(breakdown(entry.family, config, entry.default_batch))
    assert {"conv", "matmul"} & set(analytic), analytic
    for category, flop in analytic.items():
        measured = counted.by_category[category]
        assert measured > 0, (category, counted.by_category)
        assert abs(flop / measured - 1) <= TOLERANCE, (entry.name, category, flop, measured)
    for category in ("matmul", "conv", "attention", "recurrent"):  # no matmul-class term left out
        if counted.by_category[category]:
            assert category in analytic, (entry.name, category)


@pytest.mark.parametrize("name", NAMES)
def test_analytic_matches_counter_full_size(name: str) -> None:
    entry = REGISTRY[name]
    counted = _count(name, "full", "meta")  # each full size counts on meta in under ~3 s
    assert not counted.uncounted or set(counted.uncounted) == {"aten.avg_pool3d.default"}, counted.uncounted
    _assert_analytic(entry, entry.config, counted)


@pytest.mark.parametrize("name", NAMES)
def test_tiny_analytic_and_devices_agree(name: str) -> None:
    entry = REGISTRY[name]
    cpu, meta = _count(name, "tiny", "cpu"), _count(name, "tiny", "meta")
    _assert_analytic(entry, entry.tiny, cpu)
    assert cpu.total == meta.total
    assert dict(cpu.by_category) == dict(meta.by_category)
    assert dict(cpu.uncounted) == dict(meta.uncounted)


def _loss(output):
    if isinstance(output, tuple):  # GoogLeNet with auxiliary classifiers
        return sum(o.sum() for o in output)
    return output.sum()


@pytest.mark.parametrize("name", [n for n in NAMES if n != "resnet-152"])  # same tiny config as resnet-50
def test_tiny_train_step(name: str) -> None:
    entry = REGISTRY[name]
    model = entry.build("cpu", entry.tiny)
    inputs = entry.inputs(device="cpu", config=entry.tiny)
    result = count_flops(model, inputs, phase="train", loss_fn=_loss, optimizer="sgd")
    forward = _count(name, "tiny", "cpu").total
    assert result.by_phase["forward"] >= forward
    assert result.by_phase["backward"] > result.by_phase["forward"]
    assert result.by_phase["optimizer"] == 2 * _params(model)


@pytest.mark.parametrize(
    ("name", "size", "change"),
    [
        ("googlenet", "full", {"aux_after": ("4a", "4d")}),  # auxiliary classifiers on
        ("alexnet", "full", {"groups": (1, 1, 1, 1, 1)}),  # one tower
        ("resnet-50", "tiny", {"stride_on_3x3": True}),  # "v1.5" stride placement
        ("mobilenetv2", "tiny", {"width_mult": 0.35}),  # rounding of narrow widths
        ("efficientnet-l2", "tiny", {"image_size": 57}),  # odd sides: TF "SAME" rounding
    ],
)
def test_analytic_follows_config_variants(name: str, size: str, change: dict) -> None:
    entry = REGISTRY[name]
    config = dataclasses.replace(entry.config if size == "full" else entry.tiny, **change)
    counted = count_flops(entry.build("meta", config), entry.inputs(device="meta", config=config))
    _assert_analytic(entry, config, counted)


def test_published_figures() -> None:
    """Counts the papers state: ResNet Table 1 (3.8 and 11.3 billion multiply-adds), MobileNetV2
    Table 4 (300M), EfficientNet-B0 Table 2 (0.39B), GoogLeNet Sec. 5 (1.5 billion)."""

    def macs(name: str) -> float:
        parts = by_category(breakdown(REGISTRY[name].family, REGISTRY[name].config, 1))
        return (parts.get("conv", 0) + parts.get("matmul", 0)) / 2

    assert macs("resnet-50") == pytest.approx(3.8e9, rel=0.03)
    assert macs("resnet-152") == pytest.approx(11.3e9, rel=0.02)
    assert macs("mobilenetv2") == pytest.approx(300e6, rel=0.01)
    assert macs("efficientnet-b0") == pytest.approx(0.39e9, rel=0.02)
    assert macs("googlenet") == pytest.approx(1.5e9, rel=0.06)


def test_lenet_c3_follows_table_one() -> None:
    """C3 holds exactly the 60 x 25 weights (+16 biases) of the paper's connection table."""
    c3 = REGISTRY["lenet-5"].build("meta").c3
    assert _params(c3) == 1516


def test_analytic_formulas_import_no_torch() -> None:
    root = pathlib.Path(__file__).resolve().parents[1] / "harness" / "analytic" / "families"
    for name in ANALYTIC_FILES:
        text = (root / name).read_text()
        assert "import torch" not in text and "from torch" not in text and "from models" not in text, name


@pytest.mark.skipif(not DATASET.exists(), reason="the Epoch snapshot is not present")
def test_dataset_names() -> None:
    with DATASET.open(newline="", encoding="utf-8") as f:
        known = {row["Model"] for row in csv.DictReader(f)}
    for name in NAMES:
        facts = REGISTRY[name].facts
        if "not in the 2025-06 snapshot" not in run_for(name).notes:
            assert facts.dataset_name in known, (name, facts.dataset_name)
        else:
            assert facts.dataset_name not in known, (name, facts.dataset_name)
