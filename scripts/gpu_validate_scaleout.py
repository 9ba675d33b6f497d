"""GPU validation of scale-out and sweeps on one device, in one run of a few minutes.

1. The single-process baseline with the NCCL process group initialised (DDP at world size 1)
   against a plain run: the overhead of the data-parallel machinery alone.
2. torchrun at one process with NCCL, DDP and FSDP: the distributed path end to end.
3. A batch sweep of GPT-2 XL until the device runs out of memory: the OOM row is recorded
   and the sweep stops.

Writes scaleout.json, results.sqlite and summary.md to --out.
Usage: PYTHONPATH=. python scripts/gpu_validate_scaleout.py --out DIR
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from harness.measure import bench as B
from harness.measure.distributed import launch, single_process_nccl_overhead
from harness.measure.runner import BenchConfig
from harness.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not torch.cuda.is_available():
        raise SystemExit("error: no CUDA device; this script validates scale-out on a GPU")
    out: dict = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
                 "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    cfg = BenchConfig("gpt2-small", 8, 1024, precision="bf16", device="cuda", warmup=5, steps=20)
    out["nccl_overhead"] = single_process_nccl_overhead(cfg)
    print("nccl overhead", out["nccl_overhead"], flush=True)
    db = str(args.out / "results.sqlite")
    out["torchrun"] = []
    for strategy in ("ddp", "fsdp"):
        r = launch(cfg, 1, strategy, timeout_s=240)
        with Store(db) as store:
            store.add(r.row, repeat=True)
        row = {k: getattr(r, k, None) for k in ("world_size", "strategy", "backend", "seconds_median", "utilisation",
                                                 "comm_share", "allreduce_algbw", "group_flop")}
        out["torchrun"].append(row)
        print("torchrun", row, flush=True)
    with Store(db) as store:
        sweep = B.sweep(BenchConfig("gpt2-xl", 1, 1024, precision="bf16", device="cuda", warmup=3, steps=10), 64)
        results = []
        for row in B.measure(sweep, stop_on_oom=True):
            store.add(row, repeat=True)
            results.append(row)
    out["sweep"] = [{"batch": r["batch"], "status": r["status"], "utilisation": r.get("utilisation"),
                     "error": r["error"]} for r in results]
    for s in out["sweep"]:
        print("sweep", s, flush=True)
    (args.out / "scaleout.json").write_text(json.dumps(out, indent=1, default=str))
    o = out["nccl_overhead"]
    lines = [f"# Scale-out validation on {out['device']}", "", f"torch {out['torch']}, {out['utc']}", "",
             f"Single process, gpt2-small bf16 batch 8 seq 1024: plain {o['plain_seconds']:.4f} s/step, "
             f"DDP with NCCL initialised {o['ddp_seconds']:.4f} s/step, ratio {o['ratio']:.4f}.", "",
             "| torchrun ranks | strategy | backend | s/step | MFU | comm share |", "|---|---|---|---|---|---|"]
    for t in out["torchrun"]:
        lines.append(f"| {t['world_size']} | {t['strategy']} | {t['backend']} | {t['seconds_median']:.4f} | "
                     f"{(t['utilisation'] or 0):.1%} | {t['comm_share']} |")
    lines += ["", "GPT-2 XL bf16 batch sweep (stops at the first out-of-memory):", "", "| batch | status | MFU |", "|---|---|---|"]
    lines += [f"| {s['batch']} | {s['status']} | {(s['utilisation'] or 0):.1%} |" for s in out["sweep"]]
    (args.out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
