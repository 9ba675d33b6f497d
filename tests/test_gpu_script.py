"""scripts/gpu_validate_tuned.py --dry-run on the CPU: every part reports results or a stated reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import models
from harness import count_flops

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_validate_tuned.py"
PARTS = ("counters", "tuned", "hf_cuda", "time_share")


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def dry(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("gpu-dry")
    p = _run("--out", str(out), "--dry-run", "--budget-s", "240")
    assert p.returncode == 0, p.stderr[-2000:]
    assert (out / "summary.md").read_text().startswith("# Counters, tuned step and time shares on cpu (dry run)")
    return json.loads((out / "results.json").read_text())


def _has_reason(row: dict) -> bool:
    return row["status"] == "ok" or bool(row.get("reason") or row.get("error"))


def test_every_part_ran_or_says_why(dry: dict) -> None:
    for part in PARTS:
        assert dry[part]["status"] in ("ok", "error", "skipped"), part
        assert _has_reason(dry[part]), part
    assert dry["meta"]["dry_run"] is True


def test_counters_fall_back_to_profiler_times(dry: dict) -> None:
    r = dry["counters"]
    assert r["status"] == "ok"
    assert r["probe"]["available"] is False and r["probe"]["reason"].startswith("counters unavailable")
    names = {(m["model"], m["phase"]) for m in r["models"]}
    assert names == {(n, p) for n in ("gpt2-small", "resnet-50", "lstm-lm", "igpt-xl", "switch-c") for p in ("forward", "train")}
    for m in r["models"]:
        assert _has_reason(m), m
        if m["status"] == "ok":
            assert m["matmul_ceiling_flop_per_s"] > 0
            assert sum(c["flop"] for c in m["categories"]) == m["total_flop"] > 0  # full-square attention: total is the sum


def test_time_shares_sum_to_one_and_flop_matches_the_count(dry: dict) -> None:
    r = dry["time_share"]
    assert r["status"] == "ok"
    assert [m["model"] for m in r["models"]] == ["gpt2-small", "resnet-50", "mobilenetv2"]
    for m in r["models"]:
        assert m["status"] == "ok", m
        cats = m["categories"]
        assert abs(sum(c["time_share"] for c in cats) - 1) < 1e-9
        assert abs(sum(c["flop_share"] for c in cats) - 1) < 1e-9
        entry = models.get(m["model"])
        torch.manual_seed(0)
        net, x = entry.build("meta", entry.tiny), entry.inputs(4, None, "meta", entry.tiny)  # the dry run's batch: min(GPU batch, 4)
        assert sum(c["flop"] for c in cats) == count_flops(net, x, phase="train", optimizer="adamw").total


def test_tuned_variants_side_by_side(dry: dict) -> None:
    r = dry["tuned"]
    assert r["status"] == "ok"
    rows = {v["variant"]: v for v in r["variants"]}
    assert list(rows) == ["eager", "torch.compile", "fused AdamW", "flash SDPA", "batch 4", "activation checkpointing"]
    for v in rows.values():
        assert _has_reason(v), v
    assert rows["torch.compile"]["status"] == "skipped"  # stated: too slow on a CPU
    ran = [v for v in rows.values() if v["status"] == "ok"]
    assert ran, "no variant measured"
    assert rows["fused AdamW"]["fused_adamw_built"] == 1  # the harness step really built a fused AdamW
    assert rows["eager"]["fused_adamw_built"] == 0
    # same model and batch: same model FLOP; the larger batch has more; checkpointing adds recompute (HFU)
    assert rows["fused AdamW"]["flop_per_step"] == rows["eager"]["flop_per_step"]
    assert rows["batch 4"]["flop_per_step"] > rows["eager"]["flop_per_step"]
    ckpt = rows["activation checkpointing"]
    assert ckpt["hardware_flop_per_step"] > ckpt["flop_per_step"] == rows["eager"]["flop_per_step"]
    assert ckpt["hfu"] is not None


def test_hf_model_count_on_the_device_equals_meta(dry: dict) -> None:
    r = dry["hf_cuda"]
    assert r["status"] == "ok", r.get("reason")
    assert [p["phase"] for p in r["phases"]] == ["forward", "train"]
    for p in r["phases"]:
        assert p["identical"] is True and p["meta"]["total"] > 0


def test_bad_budget_is_refused_in_one_line(tmp_path: Path) -> None:
    p = _run("--out", str(tmp_path / "x"), "--dry-run", "--budget-s", "0")
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "--budget-s" in p.stderr
    assert not (tmp_path / "x").exists()


def test_ncu_csv_sums_each_metric_over_kernels() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gpu_validate_tuned", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    # two kernels, the columns ncu --csv prints (thousands separators in values), a ==PROF== line between
    text = "\n".join([
        '==PROF== Connected to process 1',
        '"ID","Kernel Name","Metric Name","Metric Unit","Metric Value"',
        '"0","gemm","sm__ops_path_tensor_src_fp16_dst_fp32.sum","","33,554,432"',
        '"0","gemm","sm__sass_thread_inst_executed_op_ffma_pred_on.sum","inst","10"',
        '"1","add","sm__sass_thread_inst_executed_op_ffma_pred_on.sum","inst","5"',
    ])
    assert mod._ncu_sums(text) == {"sm__ops_path_tensor_src_fp16_dst_fp32.sum": 33554432.0,  # 2 * 256**3
                                   "sm__sass_thread_inst_executed_op_ffma_pred_on.sum": 15.0}  # 10 + 5
    with pytest.raises(ValueError, match="Metric Name"):
        mod._ncu_sums('"ID","Kernel Name"\n"0","gemm"')
