"""Measurement on the CPU: timing statistics, the step runner, sweeps, the bench command."""

import json
import statistics

import pytest
import torch
from typer.testing import CliRunner

import models
from harness import count_flops
from harness.cli import app
from harness.measure import bench as B
from harness.measure import precision as P
from harness.measure.runner import BenchConfig, apply_checkpointing, count_step, run
from harness.measure.timing import Samples, time_step
from harness.store import Store

CPU = torch.device("cpu")


def test_sample_statistics():
    s = Samples((1.0, 2.0, 3.0, 4.0, 10.0))
    assert s.median == 3.0
    assert s.mean == 4.0
    assert s.cv == pytest.approx(statistics.stdev([1, 2, 3, 4, 10]) / 4.0)
    q = statistics.quantiles([1, 2, 3, 4, 10], n=4)
    assert s.iqr == pytest.approx(q[2] - q[0])


def test_time_step_marks_phases_and_warms_up():
    calls = []

    def step(mark):
        calls.append(1)
        mark("start")
        sum(range(1000))
        mark("forward")
        sum(range(2000))
        mark("backward")

    s = time_step(step, CPU, warmup=2, iterations=5)
    assert len(calls) == 7
    assert len(s.seconds) == 5 and set(s.phases) == {"forward", "backward"}
    for i in range(5):  # a step runs from its start to the next one's: its phases and the gap after
        assert s.seconds[i] >= s.phases["forward"][i] + s.phases["backward"][i]
    assert s.seconds[-1] == pytest.approx(s.phases["forward"][-1] + s.phases["backward"][-1])


@pytest.mark.parametrize(
    "name, message",
    [("tf32", "GPU precision"), ("fp16", "GPU precision"), ("fp8", "unknown precision")],
)
def test_precision_errors_on_cpu(name, message):
    with pytest.raises(P.PrecisionError, match=message):
        P.get(name, CPU)


def test_runner_counts_what_it_times():
    cfg = BenchConfig("lenet-5", batch=4, steps=3, warmup=1)
    r = run(cfg, peak_flop_per_s=None, ceiling_flop_per_s=1e11)
    assert r.status == "ok", r.error
    entry = models.get("lenet-5")
    counted = count_flops(entry.build("meta"), entry.inputs(4, None, "meta"), phase="train", optimizer="adamw")
    assert r.flop.model == counted.total
    assert r.flop_per_s == pytest.approx(counted.total / r.seconds)
    assert r.utilisation is None  # no datasheet peak on a CPU
    assert r.utilisation_ceiling == pytest.approx(r.flop_per_s / 1e11)
    assert r.backward_forward_flop == pytest.approx(counted.by_phase["backward"] / counted.by_phase["forward"])


def test_utilisation_above_one_is_an_error_row():
    r = run(BenchConfig("lenet-5", batch=2, steps=2, warmup=0), peak_flop_per_s=1.0, ceiling_flop_per_s=1.0)
    assert r.status == "error" and "utilisation" in r.error and "> 1" in r.error


def test_out_of_memory_becomes_a_row(monkeypatch):
    def boom(*a, **k):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr("harness.measure.runner.measure_step", boom)
    r = run(BenchConfig("lenet-5", batch=2, steps=2, warmup=0), None, 1e11)
    assert r.status == "oom" and "out of memory" in r.error


def test_sweep_stops_at_the_first_oom(monkeypatch, tmp_path):
    seen = []

    def fake_run(cfg, peak, ceiling, sampler=None, workload=None):
        seen.append(cfg.batch)
        status = "oom" if cfg.batch >= 8 else "ok"
        return _fake_result(cfg, status)

    monkeypatch.setattr(B, "run", fake_run)
    monkeypatch.setattr(B.Ceilings, "get", lambda self, p: 1e11)
    with Store(tmp_path / "r.sqlite") as store:
        rows = list(B.measure(B.sweep(BenchConfig("lenet-5", 1, steps=1, warmup=0), 64), stop_on_oom=True))
        assert seen == [1, 2, 4, 8]
        assert [r["status"] for r in rows] == ["ok", "ok", "ok", "oom"]
        assert not store.count()  # measuring writes nothing: the caller stores
        for row in rows:
            store.add(row)
        assert [r["run_key"] for r in store.rows()] == [r["run_key"] for r in rows]
        # run again: the three finished rows are skipped, the failed one is tried again
        seen.clear()
        skipped = []
        list(B.measure(B.sweep(BenchConfig("lenet-5", 1, steps=1, warmup=0), 64), skip=store.has_ok,
                       stop_on_oom=True, on_skip=lambda cfg, key: skipped.append(cfg.batch)))
        assert seen == [8] and skipped == [1, 2, 4]


def _fake_result(cfg, status):
    from harness.measure.runner import BenchResult, StepFlop

    samples = Samples((0.1, 0.1)) if status == "ok" else None
    return BenchResult(cfg, status, StepFlop(10, 10, 4, 6, 0), samples, ceiling_flop_per_s=1e11,
                       error=None if status == "ok" else "OutOfMemoryError: CUDA out of memory")


def test_checkpointing_hardware_flop_counts_the_recompute():
    entry = models.get("gpt2-small")
    cfg = BenchConfig("gpt2-small", batch=1, seq=32, checkpointing=True)
    flop = count_step(entry, cfg)
    plain = count_step(entry, BenchConfig("gpt2-small", batch=1, seq=32))
    assert flop.model == plain.model
    forward_blocks = count_flops(entry.build("meta"), entry.inputs(1, 32, "meta")).by_module["blocks"]
    # the recompute reruns each block's forward, stopping after the last tensor the backward needs
    assert 0.5 * forward_blocks < flop.hardware - flop.model <= forward_blocks


def test_checkpointing_counts_alike_on_meta_and_cpu():
    entry = models.get("gpt2-small")
    counts = []
    for device in ("meta", "cpu"):
        net = entry.build(device, config=entry.tiny)
        apply_checkpointing(net)
        counts.append(count_flops(net, entry.inputs(2, 16, device, config=entry.tiny), phase="train").total)
    assert counts[0] == counts[1]


def test_checkpointing_needs_blocks():
    with pytest.raises(ValueError, match="no repeated blocks"):
        apply_checkpointing(models.get("small-cnn").build("meta"))


def invoke(*args):
    return CliRunner().invoke(app, list(args))


def test_bench_command_stores_and_resumes(tmp_path):
    db = str(tmp_path / "r.sqlite")
    r = invoke("bench", "lenet-5", "--device", "cpu", "--batch", "2,4", "--steps", "2", "--warmup", "0", "--db", db, "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output[r.output.index("["): r.output.rindex("]") + 1])
    assert [row["batch"] for row in rows] == [2, 4]
    assert all(row["status"] == "ok" and row["utilisation_ceiling"] > 0 for row in rows)
    with Store(db) as store:
        assert store.count() == 2
        assert store.rows()[0]["device_kind"] == "cpu"
    again = invoke("bench", "lenet-5", "--device", "cpu", "--batch", "2,4", "--steps", "2", "--warmup", "0", "--db", db)
    assert again.exit_code == 0 and "already in the database" in again.output


@pytest.mark.parametrize(
    "args, needle",
    [
        (("bench", "nope"), "unknown model 'nope'"),
        (("bench", "lenet-5", "--precision", "fp8"), "unknown precision 'fp8'"),
        (("bench", "lenet-5", "--precision", "tf32", "--device", "cpu"), "GPU precision"),
        (("bench", "lenet-5", "--batch", "0"), "batch must be at least 1"),
        (("bench", "lenet-5", "--batch", "two"), "whole numbers"),
        (("bench", "lenet-5", "--device", "tpu"), "unknown device 'tpu'"),
        (("bench", "small-cnn", "--checkpointing"), "no repeated blocks"),
        (("bench", "lenet-5", "--steps", "0"), "--steps must be at least 1"),
    ],
)
def test_bench_bad_input(args, needle):
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    assert needle in r.output and len(r.output.strip().splitlines()) == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_bench_cuda_missing():
    r = invoke("bench", "lenet-5", "--device", "cuda")
    assert r.exit_code == 2 and "not available" in r.output


@pytest.mark.gpu
def test_bench_on_gpu_reports_datasheet_utilisation(tmp_path):
    r = run(BenchConfig("resnet-50", batch=32, precision="bf16", device="cuda", steps=5), *_gpu_peaks())
    assert r.status == "ok", r.error
    assert 0 < r.utilisation < 1 and 0 < r.utilisation_ceiling < 1


def _gpu_peaks():
    dev = torch.device("cuda")
    prec = P.get("bf16", dev)
    peak, _ = B.datasheet_peak(dev, prec)
    return peak, B.Ceilings(dev, {}).get(prec)
