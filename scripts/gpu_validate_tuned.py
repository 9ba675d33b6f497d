"""GPU validation of the count against hardware counters, of a tuned training step, and of where the time goes.

1. counters: can Nsight Compute read hardware counters here (`ncu --clock-control none` on a tiny
   matmul)? If so, the executed tensor-core and FFMA operations of one forward and one training
   step of a GPT, a ResNet, an LSTM, a long-sequence attention model and an MoE, beside the
   harness's count by category. If not, each category's kernels timed with torch.profiler and
   the implied FLOP/s set beside the measured matmul ceiling.
2. tuned: a ~1B-parameter GPT at bf16 through `harness.bench`: eager, torch.compile, fused AdamW,
   flash SDPA, a larger batch, activation checkpointing (HFU), MFU against the datasheet peak.
3. hf_cuda: an `hf:` model counted on the device equals its meta count (forward and train).
4. time_share: share of step time per category (profiler) beside share of FLOP (the count), for
   GPT-2 small, ResNet-50 and MobileNetV2.

Every part is guarded: a failure is recorded with its reason and the next part runs. Parts not
started within --budget-s are recorded as skipped. Writes results.json and summary.md to --out.
--dry-run runs every part on the CPU at tiny sizes (to check the script without a GPU).
Usage: PYTHONPATH=. python scripts/gpu_validate_tuned.py --out DIR [--budget-s 540] [--dry-run]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable
from unittest import mock

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402
import models  # noqa: E402
from harness.counting import engine  # noqa: E402
from harness.counting.outputs import first_tensor  # noqa: E402
from harness.measure import precision as P  # noqa: E402
from harness.measure.ceiling import matmul_ceiling  # noqa: E402
from harness.measure.runner import BenchConfig, make_step  # noqa: E402

METRICS = ("sm__ops_path_tensor_src_fp16_dst_fp32.sum", "sm__sass_thread_inst_executed_op_ffma_pred_on.sum",
           "sm__sass_thread_inst_executed_op_fadd_pred_on.sum", "sm__sass_thread_inst_executed_op_fmul_pred_on.sum")
PROBE_METRICS = METRICS[:2]
# (zoo name, config fields changed on the GPU, batch, seq): sizes one ncu replay of a step can afford
COUNTER_MODELS: list[tuple[str, dict, int, int | None]] = [
    ("gpt2-small", {}, 4, 512),
    ("resnet-50", {}, 16, None),
    ("lstm-lm", {}, 20, None),
    ("igpt-xl", {"n_layer": 2}, 1, 4096),  # long-sequence attention: two of iGPT-XL's blocks at 4096
    ("switch-c", {"n_layer": 2, "n_experts": 8}, 2, 512),  # MoE: two Switch-C blocks, 8 experts
]
TIME_SHARE_MODELS: list[tuple[str, dict, int, int | None]] = [
    ("gpt2-small", {}, 8, 1024), ("resnet-50", {}, 64, None), ("mobilenetv2", {}, 64, None)]
GPT_1B = {"n_layer": 32}  # GPT-2 XL's width (d 1600, 25 heads) at 32 blocks: 1.06B parameters
TUNED_BATCH, TUNED_LARGE_BATCH, TUNED_SEQ = 8, 16, 1024


class Run:
    """Device, sizes and the time budget of one invocation."""

    def __init__(self, dry: bool, budget_s: float, out: Path) -> None:
        self.dry, self.out = dry, out
        self.device = torch.device("cpu" if dry else "cuda")
        self.precision = "fp32" if dry else "bf16"
        self.deadline = time.monotonic() + budget_s
        self.part_deadline = self.deadline
        self._ceiling: float | None = None

    def ceiling_flop_per_s(self) -> float:
        """The measured matmul ceiling at this run's precision, measured once."""
        if self._ceiling is None:
            c = matmul_ceiling(self.device, P.get(self.precision, self.device), iterations=5 if self.dry else 10)
            self._ceiling = c.per_s
        return self._ceiling

    def left_s(self) -> float:
        """Seconds left to the current part (its share of what was left when it started)."""
        return min(self.deadline, self.part_deadline) - time.monotonic()

    def start_part(self, share: float) -> None:
        now = time.monotonic()
        self.part_deadline = now + share * (self.deadline - now)

    def model(self, name: str, fields: dict, batch: int, seq: int | None, device: str | None = None) -> tuple:
        """(entry, module, inputs, config): the tiny config, batch at most 4, its tiny sequence on a dry run."""
        entry = models.get(name)
        device = device or str(self.device)
        if self.dry:
            config, batch, seq = entry.tiny, min(batch, 4), None
        else:
            config = replace(entry.config, **fields) if fields else entry.config
            seq = seq if seq is not None else entry.default_seq  # None: the model takes no sequence
        torch.manual_seed(0)
        return entry, entry.build(device, config), entry.inputs(batch, seq, device, config), config


def guarded(run: Run, name: str, fn: Callable[[Run], dict], results: dict, min_s: float, share: float) -> None:
    """Run one part within `share` of the time left; record its result, or why it has none."""
    run.start_part(share)
    if run.left_s() < min_s:
        results[name] = {"status": "skipped", "reason": f"budget: {run.left_s():.0f} s left, part needs ~{min_s:.0f} s"}
        return
    start = time.monotonic()
    try:
        results[name] = {"status": "ok", **fn(run)}
    except Exception as e:  # noqa: BLE001 - recorded, the run goes on
        results[name] = {"status": "error", "reason": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-2000:]}
    finally:
        results[name]["seconds"] = round(time.monotonic() - start, 2)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    print(f"{name}: {results[name]['status']} {results[name].get('reason', '')} ({results[name]['seconds']} s)", flush=True)


# ---------------------------------------------------------------- categories of ops, from the counter


def count_with_ops(net: torch.nn.Module, inputs: tuple, phase: str) -> tuple[Any, dict[str, str]]:
    """The harness's count, and the category each op's FLOP went to (recorded from the counter's own tally)."""
    seen: dict[str, Counter] = defaultdict(Counter)
    original = engine.Tally.add

    def add(self: Any, op: str, flops: dict) -> None:
        for category, flop in flops.items():
            seen[_packet(op)][str(category.value if hasattr(category, "value") else category)] += flop
        original(self, op, flops)

    with mock.patch.object(engine.Tally, "add", add):
        r = harness.count_flops(net, inputs, phase=phase, optimizer="adamw" if phase == "train" else None)
    return r, {op: c.most_common(1)[0][0] for op, c in seen.items() if sum(c.values())}


def _packet(op: str) -> str:
    """`aten.addmm.default` and the profiler's `aten::addmm` -> `addmm`."""
    return op.replace("aten::", "").replace("aten.", "").split(".")[0]


def category_times(run: Run, net: torch.nn.Module, inputs: tuple, phase: str) -> dict:
    """Self device time per category of one step, from torch.profiler, beside the counted FLOP."""
    r, op_category = count_with_ops(net, inputs, phase)
    cfg = BenchConfig("profiled", 1, phase="train" if phase == "train" else "inference",
                      precision=run.precision, device=str(run.device))
    step = make_step(net, inputs, cfg, run.device)
    ranges: list[Any] = []

    def mark(name: str) -> None:  # the harness step's phase marks open and close profiler ranges
        if ranges:
            ranges.pop().__exit__(None, None, None)
        nxt = {"start": "forward", "forward": "backward", "backward": "optimizer"}.get(name)
        if nxt:
            ranges.append(torch.profiler.record_function(f"phase:{nxt}"))
            ranges[-1].__enter__()

    step(lambda name: None)  # warm-up
    activities = [torch.profiler.ProfilerActivity.CPU]
    if run.device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        step(mark)
        if run.device.type == "cuda":
            torch.cuda.synchronize()
    seconds: dict[str, float] = defaultdict(float)
    for ev in prof.events():
        if not ev.name.startswith("aten::"):
            continue
        us = ev.self_device_time_total if run.device.type == "cuda" else ev.self_cpu_time_total
        if not us:
            continue
        category = op_category.get(_packet(ev.name), "no FLOP (data movement, uncounted)")
        if _in_phase(ev, "phase:optimizer"):
            category = "optimizer"
        seconds[category] += us / 1e6
    total_s = sum(seconds.values()) or float("nan")
    total_flop = sum(r.by_category.values()) or 1
    rows = []
    for category in sorted(set(seconds) | {k for k, v in r.by_category.items() if v}):
        flop, s = r.by_category.get(category, 0), seconds.get(category, 0.0)
        rows.append({"category": category, "flop": flop, "seconds": s, "flop_share": flop / total_flop,
                     "time_share": s / total_s, "flop_per_s": flop / s if s and flop else None})
    return {"phase": phase, "total_flop": r.total, "profiled_seconds": total_s, "categories": rows,
            "note": "self device time of each aten op (self CPU time on a CPU), given to the category that got most "
                    "of that op's counted FLOP; ops inside the optimizer step go to optimizer"}


def _in_phase(ev: Any, name: str) -> bool:
    parent = ev.cpu_parent
    while parent is not None:
        if parent.name == name:
            return True
        parent = parent.cpu_parent
    return False


# ---------------------------------------------------------------- 1. hardware counters


def _ncu_cmd(metrics: tuple[str, ...], child: list[str]) -> list[str] | None:
    ncu = shutil.which("ncu")
    if ncu is None:
        return None
    return [ncu, "--clock-control", "none", "--profile-from-start", "off", "--csv", "--print-units", "base",
            "--metrics", ",".join(metrics), sys.executable, str(Path(__file__).resolve()), *child]


def _ncu_sums(stdout: str) -> dict[str, float]:
    """Sum each metric over every kernel of ncu's --csv output."""
    import csv

    lines = [line for line in stdout.splitlines() if line.startswith('"')]
    reader = csv.DictReader(lines)
    if lines and not {"Metric Name", "Metric Value"} <= set(reader.fieldnames or ()):
        raise ValueError(f"ncu --csv printed no 'Metric Name'/'Metric Value' columns: {lines[0][:200]}")
    sums: dict[str, float] = defaultdict(float)
    for row in reader:
        with contextlib.suppress(KeyError, ValueError):
            sums[row["Metric Name"]] += float(row["Metric Value"].replace(",", ""))
    return dict(sums)


def probe_counters(run: Run) -> dict:
    """Whether ncu reads the probe metrics on a tiny matmul; the reason when it does not."""
    cmd = _ncu_cmd(PROBE_METRICS, ["--ncu-child", "matmul"])
    if cmd is None:
        return {"available": False, "reason": "counters unavailable: ncu not on PATH"}
    if run.dry:
        return {"available": False, "reason": "counters unavailable: --dry-run runs on the CPU"}
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=min(180, max(10, run.left_s())))
    text = p.stdout + p.stderr
    if "LibraryNotLoaded" in text or "ERR_NVGPUCTRPERM" in text or "==ERROR==" in text or p.returncode != 0:
        tag = next((t for t in ("LibraryNotLoaded", "ERR_NVGPUCTRPERM") if t in text), None)
        tag = tag or next((line.strip() for line in text.splitlines() if "==ERROR==" in line), f"ncu exit {p.returncode}")
        return {"available": False, "reason": f"counters unavailable: {tag}", "ncu_tail": text[-1500:]}
    try:
        sums = _ncu_sums(p.stdout)
    except ValueError as e:
        return {"available": False, "reason": f"counters unavailable: {e}", "ncu_tail": text[-1500:]}
    if not any(m in sums for m in PROBE_METRICS):
        return {"available": False, "reason": "counters unavailable: ncu printed no metric values", "ncu_tail": text[-1500:]}
    return {"available": True, "probe": sums, "probe_matmul_flop": 2 * 256**3}


def part_counters(run: Run) -> dict:
    probe = probe_counters(run)
    rows = []
    for name, fields, batch, seq in COUNTER_MODELS:
        for phase in ("forward", "train"):
            if run.left_s() < 30:
                rows.append({"model": name, "phase": phase, "status": "skipped", "reason": "budget"})
                continue
            try:
                rows.append({"model": name, "phase": phase, "status": "ok",
                             **(_hardware_vs_count(run, name, phase) if probe["available"]
                                else _times_vs_ceiling(run, name, fields, batch, seq, phase))})
            except Exception as e:  # noqa: BLE001
                rows.append({"model": name, "phase": phase, "status": "error", "reason": f"{type(e).__name__}: {e}"})
    method = "ncu hardware counters" if probe["available"] else "torch.profiler category times vs matmul ceiling"
    return {"probe": probe, "method": method, "models": rows}


def _hardware_vs_count(run: Run, name: str, phase: str) -> dict:
    """ncu's executed operations of one step (in a child process) beside the harness's count."""
    cmd = _ncu_cmd(METRICS, ["--ncu-child", name, phase])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=max(10, min(240, run.left_s() - 10)))
    if p.returncode != 0:
        raise RuntimeError(f"ncu exit {p.returncode}: {(p.stdout + p.stderr)[-300:]}")
    sums = _ncu_sums(p.stdout)
    fields, batch, seq = next((f, b, s) for n, f, b, s in COUNTER_MODELS if n == name)
    _, net, inputs, _ = run.model(name, fields, batch, seq, device="meta")
    r = harness.count_flops(net, inputs, phase=phase, optimizer=None)
    tensor_flop = sum(r.by_category.get(c, 0) for c in ("matmul", "conv", "attention", "recurrent"))
    ffma = sums.get(METRICS[1], 0.0)
    return {"metrics": sums, "counted_by_category": dict(r.by_category), "counted_total": r.total,
            "recompute_flop": r.recompute_flop, "counted_tensor_class_flop": tensor_flop,
            "tensor_ops_over_counted_tensor_class": sums.get(METRICS[0], 0.0) / tensor_flop if tensor_flop else None,
            "ffma_x2_plus_fadd_fmul": 2 * ffma + sums.get(METRICS[2], 0.0) + sums.get(METRICS[3], 0.0),
            "note": "ncu counts every kernel of the step (no optimizer); tensor ops include padding and recompute"}


def _times_vs_ceiling(run: Run, name: str, fields: dict, batch: int, seq: int | None, phase: str) -> dict:
    _, net, inputs, _ = run.model(name, fields, batch, seq)
    ceiling = run.ceiling_flop_per_s()
    times = category_times(run, net, inputs, phase)
    for row in times["categories"]:
        row["fraction_of_matmul_ceiling"] = row["flop_per_s"] / ceiling if row["flop_per_s"] else None
    return {**times, "matmul_ceiling_flop_per_s": ceiling}


def ncu_child(args: list[str]) -> None:
    """What ncu profiles: one step between cudaProfilerStart and Stop."""
    dev = torch.device("cuda")
    if args[0] == "matmul":
        a = torch.randn(256, 256, device=dev, dtype=torch.float16)
        torch.cuda.synchronize()
        torch.cuda.profiler.start()
        torch.mm(a, a)
        torch.cuda.synchronize()
        torch.cuda.profiler.stop()
        return
    name, phase = args
    fields, batch, seq = next((f, b, s) for n, f, b, s in COUNTER_MODELS if n == name)
    run = Run(False, 600, Path("."))
    _, net, inputs, _ = run.model(name, fields, batch, seq)
    def once() -> None:
        with P.active(P.get("fp16", dev), dev):  # fp16 inputs: what the tensor metric counts
            if phase == "forward":
                with torch.no_grad():
                    net(*inputs)
            else:
                first_tensor(net(*inputs)).float().sum().backward()
    once()  # warm-up outside the profiled range
    torch.cuda.synchronize()
    torch.cuda.profiler.start()
    once()
    torch.cuda.synchronize()
    torch.cuda.profiler.stop()


# ---------------------------------------------------------------- 2. a tuned ~1B GPT


class _FusedAdamW(torch.optim.AdamW):
    """The harness step's AdamW with fused=True; `built` counts instances, to show it ran."""

    built = 0

    def __init__(self, params: Any, **kw: Any) -> None:
        super().__init__(params, **{**kw, "fused": True})
        _FusedAdamW.built += 1


def part_tuned(run: Run) -> dict:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    batch, large = (2, 4) if run.dry else (TUNED_BATCH, TUNED_LARGE_BATCH)
    variants: list[tuple[str, dict, Callable[[], Any], int]] = [
        ("eager", {}, contextlib.nullcontext, batch),
        ("torch.compile", {"compile": True}, contextlib.nullcontext, batch),
        ("fused AdamW", {}, lambda: mock.patch.object(torch.optim, "AdamW", _FusedAdamW), batch),
        ("flash SDPA", {}, lambda: sdpa_kernel([SDPBackend.FLASH_ATTENTION]), batch),
        (f"batch {large}", {}, contextlib.nullcontext, large),
        ("activation checkpointing", {"checkpointing": True}, contextlib.nullcontext, batch),
    ]
    rows = []
    for label, kw, ctx, b in variants:
        if run.dry and label == "torch.compile":
            rows.append({"variant": label, "status": "skipped", "reason": "--dry-run: inductor's CPU compile takes minutes"})
            continue
        if run.left_s() < (20 if run.dry else 120 if kw.get("compile") else 40):
            rows.append({"variant": label, "status": "skipped", "reason": f"budget: {run.left_s():.0f} s left"})
            continue
        try:
            _, net, inputs, config = run.model("gpt2-xl", GPT_1B, b, TUNED_SEQ)
            params = sum(p.numel() for p in net.parameters())
            fused_before = _FusedAdamW.built
            with ctx():
                row = harness.bench(net, inputs, precision=run.precision, steps=2 if run.dry else 10,
                                    warmup=1 if run.dry else 3, name=f"gpt-1b {label}", **kw)[0]
            rows.append({"variant": label, "parameters": params, "batch": b,
                         "fused_adamw_built": _FusedAdamW.built - fused_before, **{k: row.get(k) for k in (
                "status", "error", "seq", "precision", "flop_per_step", "hardware_flop_per_step", "seconds_median",
                "seconds_cv", "flop_per_s", "utilisation", "utilisation_ceiling", "hfu", "peak_flop_per_s")}})
            del net, inputs
        except Exception as e:  # noqa: BLE001
            rows.append({"variant": label, "status": "error", "reason": f"{type(e).__name__}: {e}"})
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return {"model": "gpt2-xl config, n_layer 32" if not run.dry else "gpt2-xl tiny config", "variants": rows}


# ---------------------------------------------------------------- 3. hf: model on the device vs meta


def part_hf_cuda(run: Run) -> dict:
    from harness import sources

    spec = f"hf:{ROOT / 'tests' / 'fixtures' / 'hf' / 'gpt2.json'}"
    overrides = ["n_layer=2", "n_embd=64", "n_head=4", "vocab_size=128"] if run.dry else []
    rows = []
    for phase in ("forward", "train"):
        sig = {}
        for device in ("meta", str(run.device)):
            torch.manual_seed(0)
            loaded = sources.load(spec, batch=2, seq=64 if run.dry else 512, device=device,
                                  train=phase == "train", overrides=overrides)
            r = harness.count_flops(loaded.module, loaded.inputs, phase=phase,
                                    optimizer="adamw" if phase == "train" else None, hint=loaded.attention)
            sig[device] = {"total": r.total, "by_category": dict(r.by_category), "by_phase": dict(r.by_phase)}
        rows.append({"phase": phase, "identical": sig["meta"] == sig[str(run.device)], "meta": sig["meta"],
                     "device": sig[str(run.device)]})
    return {"source": spec, "overrides": overrides, "device": str(run.device), "phases": rows}


# ---------------------------------------------------------------- 4. where the time goes


def part_time_share(run: Run) -> dict:
    rows = []
    for name, fields, batch, seq in TIME_SHARE_MODELS:
        if run.left_s() < 20:
            rows.append({"model": name, "status": "skipped", "reason": "budget"})
            continue
        try:
            _, net, inputs, _ = run.model(name, fields, batch, seq)
            rows.append({"model": name, "status": "ok", **category_times(run, net, inputs, "train")})
        except Exception as e:  # noqa: BLE001
            rows.append({"model": name, "status": "error", "reason": f"{type(e).__name__}: {e}"})
    return {"models": rows}


# ---------------------------------------------------------------- output


def summary(results: dict) -> str:
    meta = results["meta"]
    lines = [f"# Counters, tuned step and time shares on {meta['device']}", "",
             f"torch {meta['torch']}, {meta['utc']}, dry run: {meta['dry_run']}, {meta['elapsed_s']:.0f} s of {meta['budget_s']:.0f} s", ""]
    for part in ("counters", "tuned", "hf_cuda", "time_share"):
        r = results[part]
        lines.append(f"## {part}: {r['status']}{' - ' + r['reason'] if r.get('reason') else ''}")
        lines.append("")
        if part == "counters" and r["status"] == "ok":
            lines += [f"Counters: {r['probe'].get('reason', 'available')}. Method: {r['method']}.", ""]
            for m in r["models"]:
                lines.append(f"- {m['model']} {m['phase']}: {m['status']} {m.get('reason', '')}")
        if part == "tuned" and r["status"] == "ok":
            lines += ["| variant | batch | status | s/step | MFU sheet | MFU ceil | HFU |", "|---|---|---|---|---|---|---|"]
            for v in r["variants"]:
                f = lambda k, spec: "-" if v.get(k) is None else format(v[k], spec)  # noqa: E731
                lines.append(f"| {v['variant']} | {v.get('batch', '-')} | {v['status']} {v.get('reason') or v.get('error') or ''} "
                             f"| {f('seconds_median', '.4f')} | {f('utilisation', '.1%')} | {f('utilisation_ceiling', '.1%')} | {f('hfu', '.1%')} |")
        if part == "hf_cuda" and r["status"] == "ok":
            lines += [f"- {p['phase']}: identical to meta: {p['identical']}" for p in r["phases"]]
        if part == "time_share" and r["status"] == "ok":
            for m in r["models"]:
                lines.append(f"- {m['model']}: {m['status']} {m.get('reason', '')}")
                for c in m.get("categories", []):
                    lines.append(f"  - {c['category']}: {c['time_share']:.1%} of time, {c['flop_share']:.1%} of FLOP")
        lines.append("")
    return "\n".join(lines)


def _write(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as f:
        f.write(text)
    os.replace(f.name, path)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--ncu-child"]:
        ncu_child(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for results.json and summary.md")
    parser.add_argument("--budget-s", type=float, default=540.0, help="start no part or model after this many seconds")
    parser.add_argument("--dry-run", action="store_true", help="every part on the CPU at tiny sizes")
    args = parser.parse_args(argv)
    if args.budget_s <= 0:
        print(f"error: --budget-s must be positive, not {args.budget_s}", file=sys.stderr)
        return 2
    if not args.dry_run and not torch.cuda.is_available():
        print("error: no CUDA device; run this on a GPU, or pass --dry-run to check it on the CPU", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    run = Run(args.dry_run, args.budget_s, args.out)
    start = time.monotonic()
    results: dict[str, Any] = {}
    guarded(run, "counters", part_counters, results, 30, 0.3)
    guarded(run, "tuned", part_tuned, results, 60, 0.7)
    guarded(run, "hf_cuda", part_hf_cuda, results, 10, 0.4)
    guarded(run, "time_share", part_time_share, results, 20, 1.0)
    results["meta"] = {"device": torch.cuda.get_device_name() if run.device.type == "cuda" else "cpu (dry run)",
                       "torch": torch.__version__, "dry_run": run.dry, "budget_s": args.budget_s,
                       "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "elapsed_s": time.monotonic() - start}
    _write(args.out / "results.json", json.dumps(results, indent=1, default=str))
    _write(args.out / "summary.md", summary(results))
    print(summary(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
