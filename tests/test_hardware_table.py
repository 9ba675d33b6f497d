"""The accelerator peak table (harness/hardware/peaks.csv) and hardware-name matching."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from harness.hardware import (
    DEVICE_TYPES,
    PRECISIONS,
    Accelerator,
    PrecisionUnsupported,
    UnknownHardware,
    canonical_precision,
    cores_per_chip,
    device_accelerator,
    generation,
    load_table,
    resolve,
    resolve_many,
)

EPOCH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "epoch"
SYSTEMS_CSV = EPOCH / "all_ml_systems.csv"
HARDWARE_CSV = EPOCH / "ml_hardware.csv"

# Training-hardware names of the Epoch systems dataset that deliberately resolve to nothing.
UNRESOLVED = {
    "Intel A100": "dataset error: the A100 is an NVIDIA chip; a query naming another vendor is refused",
}

TABLE = load_table()
T = 1e12


def row(name: str) -> Accelerator:
    return TABLE[name]


# ------------------------------------------------------------------------------------- the anchors


def test_v100_anchor():
    v = row("Tesla V100 SXM2 16GB")
    assert v.peak("fp32") == 15.7e12
    assert v.peak("fp16") == 125e12
    assert row("Tesla V100 SXM2 32GB").peaks() == v.peaks()


@pytest.mark.parametrize("name", ["A100 SXM4 40GB", "A100 SXM4 80GB", "A100 PCIe 40GB", "A100 PCIe 80GB"])
def test_a100_anchor(name):
    a = row(name)
    got = (a.peak("fp32"), a.peak("tf32"), a.peak("bf16"), a.peak("fp16"))
    assert got == (19.5e12, 156e12, 312e12, 312e12)
    assert a.sparse_quoted


def test_h100_anchor_is_dense():
    h = row("H100 SXM5 80GB")
    assert h.peak("fp32") == 66.9e12
    assert h.peak("tf32") == 494.7e12
    assert h.peak("bf16") == 989.4e12
    assert h.peak("fp8") == 1979e12
    assert h.sparse_quoted  # the datasheet headline (1979 BF16) is the 2:4-sparse one
    assert h.peak("bf16") != 1979e12


def test_h200_has_h100_compute():
    h100, h200 = row("H100 SXM5 80GB"), resolve("NVIDIA H200")
    assert h200.name == "H200 SXM 141GB"
    assert h200.peaks() == h100.peaks()
    assert h200.memory_gb == 141 and h100.memory_gb == 80


def test_tpu_anchors_per_chip():
    assert row("TPU v2").peak("bf16") == 45e12
    assert row("TPU v2").chips_per_board == 4 and row("TPU v2").board_bf16 == 180e12
    v3 = row("TPU v3")
    assert v3.peak("bf16") == 123e12
    assert v3.chips_per_board == 4
    assert v3.board_bf16 == 420e12  # the quoted board figure, kept for recognition
    assert v3.board_peak("bf16") == 4 * 123e12
    assert row("TPU v4").peak("bf16") == 275e12
    assert row("TPU v5e").peak("bf16") == 197e12
    assert row("TPU v5p").peak("bf16") == 459e12
    # Cloud TPU7x docs: 2307 BF16 / 4614 FP8 per chip, two TensorCores (one per chiplet, each a device)
    v7 = resolve("Google TPU v7 Ironwood")
    assert v7.name == "TPU v7" and v7.peak("bf16") == 2307e12 and v7.peak("fp8") == 2 * v7.peak("bf16")
    assert v7.peak("bf16") / v7.cores_per_chip == 1153.5e12  # what one JAX/torch_xla device can do
    assert v7.generation == "tpu-v7" and v7.memory_gb == 192


def test_apple_rows_hold_only_published_figures():
    # Apple: M1 2.6 TFLOPS (8-core GPU), M1 Pro 5.2 (16-core), M1 Max 10.4 (32-core); Ultra = 2 x Max dies
    fp32 = {n: row(n).peak("fp32") for n in ("Apple M1", "Apple M1 Pro", "Apple M1 Max", "Apple M1 Ultra")}
    assert fp32 == {"Apple M1": 2.6e12, "Apple M1 Pro": 5.2e12, "Apple M1 Max": 10.4e12, "Apple M1 Ultra": 20.8e12}
    assert row("Apple M1 Ultra").memory_bandwidth_gbs == 2 * row("Apple M1 Max").memory_bandwidth_gbs == 800
    apple = [a for a in TABLE.values() if a.vendor == "Apple"]
    assert all(a.kind == "gpu" and a.fp16 is None for a in apple)  # Apple publishes no FP16 figure
    without = sorted(a.name for a in apple if not a.precisions)
    assert len(without) == 11 and all(n.startswith(("Apple M2", "Apple M3", "Apple M4")) for n in without)
    with pytest.raises(PrecisionUnsupported, match="measured ceiling"):
        resolve("Apple M4 Max").peak("fp32")
    assert {a.generation for a in apple} == {"apple-m1", "apple-m2", "apple-m3", "apple-m4"}


# ------------------------------------------------------------------------------------ table rules


def test_size_kinds_units_and_sources():
    assert len(TABLE) >= 45
    kinds = {a.kind for a in TABLE.values()}
    assert {"gpu", "tpu", "npu", "cpu"} <= kinds
    for a in TABLE.values():
        assert a.source.strip(), a.name
        assert a.unit == "chip", a.name
        assert a.chips_per_board >= 1, a.name
        assert a.vendor or a.name == "cpu", a.name


def test_generic_cpu_row_has_no_figures():
    cpu = resolve("cpu")
    assert cpu.kind == "cpu" and cpu.precisions == ()
    with pytest.raises(PrecisionUnsupported, match="measured ceiling"):
        cpu.peak("fp32")


def test_rates_are_flops_not_tflops():
    for a in TABLE.values():
        for p in a.precisions:
            assert 1e9 < a.peak(p) < 1e17, (a.name, p)


def test_precision_ladders_rule_out_sparse_mixed_with_dense():
    """Within a row, a figure copied from a sparse column would break these ratios."""
    for a in TABLE.values():
        half = max((v for v in (a.fp16, a.bf16) if v is not None), default=None)
        if half is None:
            continue
        # slack for datasheet rounding (L4: BF16 121, FP8 242.5; L40S: BF16 362.05, FP8 733)
        if a.tf32 is not None:
            assert a.tf32 <= half * 1.01, a.name
        if a.fp8 is not None:
            assert a.fp8 <= 2 * half * 1.02, a.name
        if a.int8 is not None:
            assert a.int8 <= 2 * max(half, a.fp8 or 0) * 1.01, a.name
        if a.fp32 is not None and a.kind == "gpu" and a.name != "A10G":
            assert half >= a.fp32 * 0.99, a.name


# vendor headline figures that are 2:4 sparse: the table must hold half of each
SPARSE_HEADLINES = [
    ("A100 SXM4 80GB", "bf16", 624),
    ("A100 SXM4 80GB", "tf32", 312),
    ("A100 SXM4 80GB", "int8", 1248),
    ("H100 SXM5 80GB", "bf16", 1979),
    ("H100 SXM5 80GB", "fp8", 3958),
    ("H100 SXM5 80GB", "tf32", 989.4),
    ("H100 PCIe", "bf16", 1513),
    ("H100 NVL", "fp8", 3341),
    ("H800 SXM5", "bf16", 1979),
    ("L4", "bf16", 242),
    ("L40S", "fp8", 1466),
    ("A10", "bf16", 250),
    ("RTX A6000", "fp16", 309.7),
    ("RTX 6000 Ada Generation", "fp8", 1457),
    ("B200", "bf16", 4500),
    ("B200", "fp8", 9000),
    ("GB200", "bf16", 5000),
    ("GeForce RTX 3090", "fp16", 284),
    ("GeForce RTX 4090", "fp8", 1321.2),
]


@pytest.mark.parametrize("name,precision,sparse", SPARSE_HEADLINES)
def test_dense_is_half_the_sparse_headline(name, precision, sparse):
    a = row(name)
    assert a.sparse_quoted
    assert a.peak(precision) == pytest.approx(sparse * T / 2, rel=0.005)


def test_board_figures_match_chip_figures():
    for a in TABLE.values():
        if a.board_bf16 is not None:
            assert a.chips_per_board > 1, a.name
            ratio = a.board_bf16 / (a.chips_per_board * a.peak("bf16"))
            assert 0.8 <= ratio <= 1.001, a.name  # TPU v3's quoted 420 is below 4 x 123
    k80, mi250x = row("Tesla K80"), row("Instinct MI250X")
    assert k80.chips_per_board == 2 and k80.board_peak("fp32") == pytest.approx(8.73 * T)
    assert mi250x.chips_per_board == 2 and mi250x.board_bf16 == 383e12


# ------------------------------------------------------------------------- generations and cores


@pytest.mark.parametrize(
    "query,expected",
    [
        ("NVIDIA V100", "volta"),
        ("Tesla V100-PCIE-16GB", "volta"),
        ("A100", "ampere"),
        ("NVIDIA A10G", "ampere"),
        ("NVIDIA H200", "hopper"),
        ("GeForce RTX 4090", "ada"),
        ("Tesla K80", "kepler"),
        ("Google TPU v4", "tpu-v4"),
        ("Trillium", "tpu-v6e"),
        ("AMD Instinct MI250", "amd-cdna2"),
        ("Gaudi2", "gaudi2"),
        ("cpu", "cpu"),
    ],
)
def test_generation_from_the_table(query, expected):
    assert generation(query) == expected
    assert generation(resolve(query)) == resolve(query).generation == expected


def test_every_shipped_row_names_a_generation_of_one_vendor():
    vendors: dict[str, set[str]] = {}
    for a in TABLE.values():
        assert a.generation, a.name
        if a.kind != "cpu":
            vendors.setdefault(a.generation, set()).add(a.vendor)
    assert {g: v for g, v in vendors.items() if len(v) > 1} == {}
    # the GPU generations are distinct groups, not one per chip
    assert len({a.generation for a in TABLE.values() if a.vendor == "NVIDIA"}) == 11  # GT200 .. Blackwell


def test_a_row_without_generation_says_so(tmp_path):
    path = _write(tmp_path, lambda rows: rows[0].__setitem__("generation", ""))
    first = next(iter(load_table(path).values()))
    assert first.generation is None
    assert generation(first.name, path) is None


def test_cores_per_chip():
    # Jouppi et al. 2020 Table 3 (v2, v3: 2 TensorCores); Cloud TPU docs (v4, v5p: 2; v5e, v6e: 1)
    assert [cores_per_chip(f"TPU {v}") for v in ("v2", "v3", "v4", "v5e", "v5p", "v6e")] == [2, 2, 2, 1, 2, 1]
    assert cores_per_chip("A100") is None  # a GPU is counted as one device
    assert row("TPU v3").peak("bf16") / row("TPU v3").cores_per_chip == 61.5e12  # the per-core figure


# ------------------------------------------------------------------------------------- precisions


def test_precision_errors():
    v100 = row("Tesla V100 SXM2 16GB")
    with pytest.raises(PrecisionUnsupported) as e:
        v100.peak("fp8")
    message = str(e.value)
    assert "\n" not in message and "fp8" in message and "fp32" in message and "fp16" in message
    assert isinstance(e.value, ValueError)
    assert not v100.has("bf16") and v100.has("fp16")
    with pytest.raises(PrecisionUnsupported, match="unknown precision"):
        v100.peak("fp4")


def test_precision_spellings():
    assert canonical_precision("torch.bfloat16") == "bf16"
    assert canonical_precision("float32") == "fp32"
    assert canonical_precision("half") == "fp16"
    assert canonical_precision("float8_e4m3fn") == "fp8"
    assert set(PRECISIONS) == {"fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8"}
    assert row("A100 SXM4 40GB").peak("bfloat16") == 312e12


# ----------------------------------------------------------------------------------- name matching

NVML_NAMES = {
    "NVIDIA H100 80GB HBM3": "H100 SXM5 80GB",
    "NVIDIA H100 PCIe": "H100 PCIe",
    "NVIDIA H100 NVL": "H100 NVL",
    "NVIDIA A100-SXM4-80GB": "A100 SXM4 80GB",
    "NVIDIA A100-SXM4-40GB": "A100 SXM4 40GB",
    "NVIDIA A100-PCIE-40GB": "A100 PCIe 40GB",
    "NVIDIA A100 80GB PCIe": "A100 PCIe 80GB",
    "Tesla V100-SXM2-16GB": "Tesla V100 SXM2 16GB",
    "Tesla V100-SXM2-32GB": "Tesla V100 SXM2 32GB",
    "Tesla V100-PCIE-16GB": "Tesla V100 PCIe 16GB",
    "Tesla V100-DGXS-32GB": "Tesla V100 SXM2 32GB",
    "Tesla P100-PCIE-16GB": "Tesla P100 PCIe 16GB",
    "Tesla T4": "Tesla T4",
    "Tesla K80": "Tesla K80",
    "NVIDIA H200": "H200 SXM 141GB",
    "NVIDIA GeForce RTX 4090": "GeForce RTX 4090",
    "NVIDIA GeForce RTX 3090": "GeForce RTX 3090",
    "NVIDIA A10G": "A10G",
    "NVIDIA L4": "L4",
    "NVIDIA L40S": "L40S",
    "NVIDIA RTX A6000": "RTX A6000",
    "NVIDIA B200": "B200",
    "AMD Instinct MI300X": "Instinct MI300X",
}


@pytest.mark.parametrize("device_name,expected", sorted(NVML_NAMES.items()))
def test_device_names_resolve(device_name, expected):
    assert resolve(device_name).name == expected


@pytest.mark.parametrize(
    "query,expected",
    [
        ("H100", "H100 SXM5 80GB"),  # default variant
        ("h100 sxm", "H100 SXM5 80GB"),
        ("V100", "Tesla V100 SXM2 16GB"),
        ("Tesla V100", "Tesla V100 SXM2 16GB"),
        ("A100", "A100 SXM4 40GB"),
        ("A100 80GB", "A100 SXM4 80GB"),
        ("P100", "Tesla P100 PCIe 16GB"),
        ("GTX 1080 Ti", "GeForce GTX 1080 Ti"),
        ("GTX 1080", "GeForce GTX 1080"),
        ("RTX 3090", "GeForce RTX 3090"),
        ("Gaudi-2", "Gaudi 2"),
        ("google tpu v4", "TPU v4"),
        ("Trillium", "TPU v6e"),
        ("  nvidia   a100 - sxm4 - 80 gb ", "A100 SXM4 80GB"),
    ],
)
def test_short_and_messy_names(query, expected):
    assert resolve(query).name == expected


def test_h100_default_can_be_refused():
    with pytest.raises(UnknownHardware) as e:
        resolve("H100", allow_default=False)
    assert {"H100 SXM5 80GB", "H100 PCIe", "H100 NVL"} <= set(e.value.matches)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "query,variants",
    [
        ("Titan X", {"GeForce GTX TITAN X", "TITAN X (Pascal)"}),
        ("RTX 6000", {"Quadro RTX 6000", "RTX 6000 Ada Generation"}),
    ],
)
def test_ambiguous_names_without_default_are_refused(query, variants):
    with pytest.raises(UnknownHardware) as e:
        resolve(query)
    assert set(e.value.matches) == variants
    assert all(v in str(e.value) for v in variants)


def test_typo_lists_close_candidates():
    with pytest.raises(UnknownHardware) as e:
        resolve("A1000")
    message = str(e.value)
    assert isinstance(e.value, ValueError) and "\n" not in message
    a100s = [c for c in e.value.candidates if c.startswith("A100 ")]
    assert len(a100s) >= 2 and all(c in message for c in a100s)
    assert len(e.value.candidates) <= 5


def test_vendor_mismatch_is_refused():
    with pytest.raises(UnknownHardware, match="vendor"):
        resolve("Intel A100")
    with pytest.raises(UnknownHardware):
        resolve("AMD H100")
    assert resolve("AMD Instinct MI250X").vendor == "AMD"


def test_defaults_only_break_real_ties():
    """Every default_for entry is ambiguous without defaults, and its own row is among the matches."""
    for a in TABLE.values():
        for entry in a.default_for:
            assert resolve(entry) is a, entry
            with pytest.raises(UnknownHardware) as e:
                resolve(entry, allow_default=False)
            assert a.name in e.value.matches and len(e.value.matches) >= 2, entry


def test_every_name_and_alias_resolves_to_its_row():
    for a in TABLE.values():
        for label in (a.name, *a.aliases):
            assert resolve(label) is a, label


def test_resolve_many():
    got = resolve_many("NVIDIA A100, Google TPU v4,NVIDIA Tesla V100 DGXS 32 GB")
    assert [a.name for a in got] == ["A100 SXM4 40GB", "TPU v4", "Tesla V100 SXM2 32GB"]
    assert resolve_many("") == [] and resolve_many(None) == [] and resolve_many(float("nan")) == []
    with pytest.raises(UnknownHardware):
        resolve_many("NVIDIA A100, Intel A100")


# ------------------------------------------------------------------------------- torch devices


@pytest.mark.parametrize(
    "device_type,device_name,expected",
    [
        ("cuda", "NVIDIA H100 80GB HBM3", "H100 SXM5 80GB"),
        ("cuda:1", "NVIDIA A100-SXM4-80GB", "A100 SXM4 80GB"),
        ("cuda", "AMD Instinct MI300X", "Instinct MI300X"),  # a ROCm build reports through cuda
        ("mps", "Apple M1 Max", "Apple M1 Max"),  # sysctl machdep.cpu.brand_string
        ("mps", "Apple M3 Pro", "Apple M3 Pro"),
        ("xla", "TPU v4", "TPU v4"),  # the runtime's device kinds, as JAX spells them
        ("xla", "TPU v5 lite", "TPU v5e"),
        ("xla", "TPU v5", "TPU v5p"),
        ("xla", "TPU v6 lite", "TPU v6e"),
        ("xla", "TPU7x", "TPU v7"),
        ("hpu", "GAUDI2", "Gaudi 2"),
        ("hpu", "GAUDI3", "Gaudi 3"),
        ("cpu", "AMD EPYC 7413", "AMD EPYC 7413"),
        ("cpu", "Intel(R) Xeon(R) Platinum 8480+", "cpu"),  # a CPU not in the table: the generic row
        ("cpu", None, "cpu"),
    ],
)
def test_device_names_find_their_row(device_type, device_name, expected):
    assert device_accelerator(device_type, device_name).name == expected


@pytest.mark.parametrize(
    "device_type,device_name,message",
    [
        ("mps", "NVIDIA A100", "mps device cannot be"),
        ("xla", "Apple M1", "xla device cannot be"),
        ("hpu", "TPU v4", "hpu device cannot be"),
        ("mps", None, "reports no name"),
        ("xpu", "", "reports no name"),
        ("xpu", "Intel(R) Arc(TM) A770 Graphics", "unknown hardware"),
        ("xla", "TPU v4 lite", "unknown hardware"),  # v4i, an inference chip the table lacks
        ("tpu", "TPU v4", "unknown device type"),
    ],
)
def test_device_names_that_are_refused(device_type, device_name, message):
    with pytest.raises(UnknownHardware, match=message) as e:
        device_accelerator(device_type, device_name)
    assert "\n" not in str(e.value)


def test_every_device_type_example_is_a_real_name():
    """Each error message's example name is one the table knows or, off the table, a kind it refuses cleanly."""
    for device_type, allowed in DEVICE_TYPES.items():
        if device_type == "xpu":  # no Intel GPU row yet: the example must be refused, not crash
            with pytest.raises(UnknownHardware):
                device_accelerator(device_type, allowed.example)
            continue
        got = device_accelerator(device_type, allowed.example)
        assert got.kind in allowed.kinds, device_type


def test_trademark_marks_are_ignored():
    assert resolve("Intel(R) Gaudi(R) 2") is row("Gaudi 2")


# ------------------------------------------------------------------------------------- bad tables


def _write(tmp_path: Path, edit) -> Path:
    source = Path(__file__).resolve().parents[1] / "harness" / "hardware" / "peaks.csv"
    with source.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        fields = reader.fieldnames
    edit(rows)
    out = tmp_path / "peaks.csv"
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return out


def test_custom_table_path(tmp_path):
    path = _write(tmp_path, lambda rows: rows.__setitem__(slice(None), rows[:3]))
    assert len(load_table(path)) == 3


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda rows: rows[1].__setitem__("aliases", rows[0]["name"]), "names both"),
        (lambda rows: rows[0].__setitem__("source", ""), "source"),
        (lambda rows: rows[0].__setitem__("unit", "board"), "unit"),
        (lambda rows: rows[0].__setitem__("fp32", "-3"), "positive"),
        (lambda rows: rows.append(dict(rows[0])), "duplicate"),
        (lambda rows: rows[0].__setitem__("generation", "Tesla GT200"), "generation"),
        (lambda rows: rows[0].__setitem__("cores_per_chip", "0"), "cores_per_chip"),
    ],
)
def test_bad_tables_are_rejected(tmp_path, edit, message):
    path = _write(tmp_path, edit)
    with pytest.raises(ValueError, match=message):
        load_table(path)


# --------------------------------------------------------------------------- against the Epoch data


@pytest.mark.skipif(not SYSTEMS_CSV.exists(), reason="Epoch snapshot not present at ../shared/data/epoch/")
def test_every_dataset_training_hardware_name_resolves():
    names: set[str] = set()
    with SYSTEMS_CSV.open(newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            names.update(part.strip() for part in (rec["Training hardware"] or "").split(",") if part.strip())
    failed = {}
    for name in sorted(names):
        try:
            resolve(name)
        except UnknownHardware as e:
            failed[name] = str(e)
    assert set(failed) == set(UNRESOLVED), failed


# Where this table and Epoch's ml_hardware.csv differ by more than 3%, and why (see each row's notes).
EPOCH_DISAGREEMENTS = {
    ("NVIDIA B200", "fp32"): "Epoch 62.08 (third-party clock); NVIDIA Blackwell brief: 80",
    ("NVIDIA H800 SXM5", "fp32"): "Epoch 59.3 (lower clock); H800 datasheet: 67",
    ("NVIDIA H800 SXM5", "tf32"): "Epoch 454.5; H800 datasheet 989 sparse = 494.7 dense",
    ("Intel Habana Gaudi3", "tensor"): "Epoch 1678; Intel Gaudi 3 white paper: 1835",
    ("Intel Habana Gaudi2", "tensor"): "Epoch 450; Intel's Gaudi 3 white paper: 432",
    ("NVIDIA GeForce RTX 2080 Ti 11GB", "tensor"): "Epoch 113.8: Founders Edition clocks",
    ("NVIDIA Tesla K80", "fp32"): "Epoch 8.126 is a 2-GPU board at a low clock; board 8.73",
    ("NVIDIA GeForce GTX TITAN", "fp32"): "Epoch 4.709 at boost; NVIDIA quotes 4.5",
    ("NVIDIA Tesla V100 DGXS 16 GB", "fp32"): "Epoch 16.2 disagrees with its own 125 tensor figure",
    ("NVIDIA A10G", "fp32"): "Epoch 31.5 (A10-like); 80 SMs at 1710 MHz give 35",
}


def _epoch_float(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None


@pytest.mark.skipif(not HARDWARE_CSV.exists(), reason="Epoch snapshot not present at ../shared/data/epoch/")
def test_figures_agree_with_epoch_or_the_difference_is_explained():
    found = set()
    with HARDWARE_CSV.open(newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            try:
                a = resolve(rec["Hardware name"])
            except UnknownHardware:
                continue
            ours_half = max((v for v in (a.fp16, a.bf16) if v is not None), default=None)
            checks = {
                "tensor": (_epoch_float(rec["Tensor-FP16/BF16 performance (FLOP/s)"]), ours_half),
                "fp32": (_epoch_float(rec["FP32 (single precision) performance (FLOP/s)"]), a.fp32),
                "tf32": (_epoch_float(rec["TF32 (TensorFloat-32) performance (FLOP/s)"]), a.tf32),
            }
            for what, (theirs, ours) in checks.items():
                if theirs is None or ours is None:
                    continue
                # a per-board figure (K80, MI250X package) agrees when it equals chips x chip
                if all(abs(theirs / (ours * k) - 1) > 0.03 for k in {1, a.chips_per_board}):
                    found.add((rec["Hardware name"], what))
    assert found == set(EPOCH_DISAGREEMENTS), found ^ set(EPOCH_DISAGREEMENTS)
