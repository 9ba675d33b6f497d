"""GPU validation of the measurement layer, in one run of at most ten minutes on an H100.

1. Ceilings: an 8192^3 matmul per precision (fp32, tf32, bf16, fp16) and a 1 GiB device copy,
   beside the peak table's dense figures.
2. Benchmarks: a spread of zoo models, small CNNs to a 1.5B-parameter transformer, in
   fp32 / tf32 / bf16 at several batch sizes, training steps with NVML telemetry, plus an
   inference run, an activation-checkpointing run (HFU) and repeated runs (repeatability).
3. Overhead: the same step timed by a bare loop and by the harness (events + telemetry).

Writes results.sqlite, results.csv, validation.json and summary.md to --out.
Usage: PYTHONPATH=. python scripts/gpu_validate_bench.py --out DIR [--budget-s 480]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

import models
from harness.hardware.table import resolve
from harness.measure import bench as B
from harness.measure import precision as P
from harness.measure.ceiling import copy_ceiling, matmul_ceiling
from harness.measure.runner import BenchConfig, make_step
from harness.hardware.telemetry import Sampler
from harness.measure.timing import time_step
from harness.store import Store

# (model, precision, batches, seq, extra config)
PLAN: list[tuple[str, str, list[int], int | None, dict]] = [
    ("lenet-5", "bf16", [256], None, {}),
    ("resnet-50", "bf16", [32, 128, 256], None, {}),
    ("resnet-50", "tf32", [128], None, {}),
    ("resnet-50", "fp32", [128], None, {}),
    ("mobilenetv2", "bf16", [128], None, {}),
    ("efficientnet-b0", "bf16", [128], None, {}),
    ("vit-b-16", "bf16", [64, 128], None, {}),
    ("bert-base", "bf16", [16, 32], None, {}),
    ("gpt2-small", "bf16", [8, 16], 1024, {}),
    ("gpt2-small", "tf32", [8], 1024, {}),
    ("gpt2-small", "fp32", [8], 1024, {}),
    ("gpt2-small", "bf16", [16], 1024, {"phase": "inference"}),
    ("lstm-lm", "fp32", [64], None, {}),
    ("gpt2-xl", "bf16", [4, 8], 1024, {}),
    ("gpt2-xl", "bf16", [8], 1024, {"checkpointing": True}),
    ("gpt2-small", "bf16", [16], 1024, {"compile": True}),
]
REPEATS = ("gpt2-small", "bf16", 16, 1024)  # measured three times for run-to-run spread


def ceilings(device: torch.device, out: dict) -> None:
    acc = resolve(torch.cuda.get_device_name(device))
    rows = []
    for name in ("fp32", "tf32", "bf16", "fp16"):
        c = matmul_ceiling(device, P.get(name, device), iterations=20)
        peak = acc.peak(name)
        rows.append({"precision": name, "flop_per_s": c.per_s, "peak": peak, "ratio": c.per_s / peak, "cv": c.cv})
        print(f"ceiling {name}: {c.per_s / 1e12:.1f} TFLOP/s = {c.per_s / peak:.1%} of {peak / 1e12:.1f}, cv {c.cv:.2%}", flush=True)
    copy = copy_ceiling(device, iterations=20)
    bw = acc.memory_bandwidth_gbs * 1e9 if acc.memory_bandwidth_gbs else None
    rows.append({"precision": "copy", "bytes_per_s": copy.per_s, "peak": bw, "ratio": copy.per_s / bw if bw else None, "cv": copy.cv})
    print(f"copy: {copy.per_s / 1e12:.2f} TB/s (read + write)", flush=True)
    out["accelerator"] = acc.name
    out["ceilings"] = rows


def overhead(device: torch.device, out: dict) -> None:
    """The same step timed bare (one sync at the end) and by the harness (events + NVML thread)."""
    entry = models.get("gpt2-small")
    cfg = BenchConfig("gpt2-small", 8, 1024, precision="bf16", device="cuda")
    net, x = entry.build(device), entry.inputs(8, 1024, device)
    step = make_step(net, x, cfg, device)
    noop = lambda name: None  # noqa: E731
    for _ in range(5):
        step(noop)
    ratios = []
    for _ in range(3):
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(20):
            step(noop)
        torch.cuda.synchronize()
        bare = (time.perf_counter() - start) / 20
        with Sampler():
            harness = time_step(step, device, 0, 20).mean
        ratios.append(harness / bare)
    out["overhead"] = {"bare_vs_harness_ratio": ratios, "median": statistics.median(ratios)}
    print(f"overhead: harness / bare step time = {statistics.median(ratios):.4f}", flush=True)
    del net, x, step
    torch.cuda.empty_cache()


def configs() -> list[BenchConfig]:
    out = []
    for model, prec, batches, seq, extra in PLAN:
        for b in batches:
            out.append(BenchConfig(model, b, seq, precision=prec, device="cuda", warmup=10, steps=30, **extra))
    return out


def repeatability(device: torch.device, out: dict) -> None:
    """One configuration measured three times from scratch: the spread of the medians."""
    from harness.measure.runner import run

    m, p, b, s = REPEATS
    cfg = BenchConfig(m, b, s, precision=p, device="cuda", warmup=10, steps=30)
    peak, _ = B.datasheet_peak(device, P.get(p, device))
    ceiling = B.Ceilings(device, {}).get(P.get(p, device))
    results = [run(cfg, peak, ceiling, lambda: Sampler()) for _ in range(3)]
    medians = [r.seconds for r in results if r.seconds]
    out["repeatability"] = {
        "config": f"{m} {p} batch {b} seq {s}",
        "medians_s": medians,
        "cv_within_runs": [r.samples.cv for r in results if r.samples],
        "cv_across_runs": statistics.stdev(medians) / statistics.fmean(medians) if len(medians) > 1 else None,
    }
    print(f"repeatability: {out['repeatability']}", flush=True)


def summary(out: dict, rows: list[dict]) -> str:
    lines = [f"# Measurement validation on {out['device']}", "", f"torch {out['torch']}, {out['utc']}, peak table row: {out.get('accelerator')}", ""]
    lines += ["## Ceilings", "", "| precision | measured | datasheet (dense) | ratio | CV |", "|---|---|---|---|---|"]
    for c in out.get("ceilings", []):
        if c["precision"] == "copy":
            lines.append(f"| copy (read+write) | {c['bytes_per_s'] / 1e12:.2f} TB/s | {(c['peak'] or 0) / 1e12:.2f} TB/s | {c['ratio'] or 0:.1%} | {c['cv']:.2%} |")
        else:
            lines.append(f"| {c['precision']} | {c['flop_per_s'] / 1e12:.1f} TFLOP/s | {c['peak'] / 1e12:.1f} | {c['ratio']:.1%} | {c['cv']:.2%} |")
    rep = out.get("repeatability")
    if rep:
        lines += ["", f"Repeatability ({rep['config']}, three runs from scratch): medians {', '.join(f'{m:.4f}' for m in rep['medians_s'])} s; "
                  f"CV across runs {rep['cv_across_runs']:.2%}; CV within runs {', '.join(f'{c:.2%}' for c in rep['cv_within_runs'])}."]
    o = out.get("overhead")
    if o:
        lines += ["", f"Harness timing + telemetry vs a bare loop: {o['median']:.4f}x step time (runs: {', '.join(f'{r:.4f}' for r in o['bare_vs_harness_ratio'])})."]
    lines += ["", "## Benchmarks", "", "| model | phase | prec | batch | ckpt | GFLOP/step | s/step | CV | TFLOP/s | MFU | MFU ceil | HFU | bwd/fwd time | bwd/fwd FLOP | SM MHz | W | status |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    f = lambda v, spec: "-" if v is None else format(v, spec)  # noqa: E731
    for r in rows:
        r = {**(r.get("extra") or {}), **r}  # derived ratios live in the row's extra column
        lines.append(
            f"| {r['model']} | {r['phase']} | {r['precision']} | {r['batch']} | {r['checkpointing']} | {f(r.get('flop_per_step') and r['flop_per_step'] / 1e9, ',.1f')} "
            f"| {f(r.get('seconds_median'), '.4f')} | {f(r.get('seconds_cv'), '.2%')} | {f(r.get('flop_per_s') and r['flop_per_s'] / 1e12, '.1f')} "
            f"| {f(r.get('utilisation'), '.1%')} | {f(r.get('utilisation_ceiling'), '.1%')} | {f(r.get('hfu'), '.1%')} | {f(r.get('backward_forward_time'), '.2f')} "
            f"| {f(r.get('backward_forward_flop'), '.2f')} | {f(r.get('sm_clock_mhz'), '.0f')} | {f(r.get('power_watts'), '.0f')} | {r['status']} {r.get('error') or ''} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--budget-s", type=float, default=480.0, help="stop starting new configurations after this")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not torch.cuda.is_available():
        raise SystemExit("error: no CUDA device; this script validates measurement on a GPU")
    start = time.time()
    device = torch.device("cuda")
    out: dict = {"device": torch.cuda.get_device_name(device), "torch": torch.__version__,
                 "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    ceilings(device, out)
    overhead(device, out)
    repeatability(device, out)
    rows: list[dict] = []
    with Store(args.out / "results.sqlite") as store:
        for cfg in configs():
            if time.time() - start > args.budget_s:
                print(f"budget spent: skipping {cfg}", flush=True)
                continue
            for r in B.measure([cfg]):
                store.add(r, repeat=True)
                print(f"{r['model']} {r['precision']} b{r['batch']} {r['status']} {(r.get('utilisation') or 0):.1%} "
                      f"cv {(r.get('seconds_cv') or 0):.2%} {r['error'] or ''}", flush=True)
        rows = store.rows()
        store.export(args.out / "results.csv", "csv")
    out["elapsed_s"] = time.time() - start
    (args.out / "validation.json").write_text(json.dumps(out, indent=1))
    (args.out / "summary.md").write_text(summary(out, rows))
    print(summary(out, rows))


if __name__ == "__main__":
    main()
