"""GPU validation of the counter and the zoo, in one run.

1. Same count on meta, CPU and CUDA: forward and train step, every breakdown, for the zoo's
   small and mid-sized entries at full size (CPU only where it is quick).
2. The reconciliation table with every external counter, on CUDA.
3. Parameter counts of the zoo against torchvision, timm and transformers, where installed.

Writes counting_equality.json, reconciliation.json, parameter_crosscheck.json and summary.md
to --out. Usage: PYTHONPATH=. python scripts/gpu_validate_counting.py --out DIR
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import torch

import models
from harness import count_flops
from harness.counting.reconcile import reconcile

DEVICE = "cuda"  # --dry-run swaps in "cpu" to check the script without a GPU
EQUALITY_MAX_PARAMS = 2e9  # build on CUDA at full size up to this
CPU_MAX_PARAMS = 2e8  # and on CPU up to this
RECONCILE = ["gpt2-small", "lstm-lm", "small-cnn", "resnet-50", "bert-base", "vit-b-16", "seq2seq-lstm"]


def _signature(r: Any) -> dict:
    return {
        "total": r.total,
        "by_category": dict(r.by_category),
        "by_phase": dict(r.by_phase),
        "by_module": dict(r.by_module),
        "causal_saved": r.causal_saved_flop,
    }


def equality(out: dict) -> None:
    rows = []
    for entry in models.REGISTRY.values():
        n = sum(p.numel() for p in entry.build("meta").parameters())
        if n > EQUALITY_MAX_PARAMS:
            continue
        if DEVICE == "cpu" and n > CPU_MAX_PARAMS:
            continue
        devices = list(dict.fromkeys(["meta", DEVICE] + (["cpu"] if n <= CPU_MAX_PARAMS else [])))
        for phase in ("forward", "train"):
            sigs, seconds, err = {}, {}, None
            for device in devices:
                try:
                    torch.manual_seed(0)
                    net, x = entry.build(device), entry.inputs(device=device)
                    start = time.perf_counter()
                    r = count_flops(net, x, phase=phase, optimizer="adam" if phase == "train" else None)
                    seconds[device] = round(time.perf_counter() - start, 3)
                    sigs[device] = _signature(r)
                    recompute = r.recompute_flop
                    del net, x
                except Exception as e:  # noqa: BLE001 - recorded, the run goes on
                    err = f"{device}: {type(e).__name__}: {e}"
                    break
                finally:
                    torch.cuda.empty_cache()
            same = err is None and all(s == sigs["meta"] for s in sigs.values())
            rows.append(
                {
                    "model": entry.name,
                    "phase": phase,
                    "parameters": n,
                    "devices": devices,
                    "identical": same,
                    "total_flop": sigs.get("meta", {}).get("total"),
                    "recompute_flop": recompute if err is None else None,
                    "seconds": seconds,
                    "error": err,
                    "differences": None
                    if same or err
                    else {d: {k: (s[k], sigs["meta"][k]) for k in s if s[k] != sigs["meta"][k] and k != "by_module"}
                          for d, s in sigs.items()},
                }
            )
            print(f"equality {entry.name:22s} {phase:8s} {'OK' if same else 'DIFF'} {seconds} {err or ''}", flush=True)
    out["equality"] = rows


def reconciliation(out: dict) -> None:
    rows = []
    for name in RECONCILE if DEVICE == "cuda" else RECONCILE[:1]:
        if name not in models.REGISTRY:
            continue
        entry = models.get(name)
        for precision in ("fp32", "bf16"):
            torch.manual_seed(0)
            net, x = entry.build(DEVICE), entry.inputs(device=DEVICE)
            if precision == "bf16":
                net = net.to(torch.bfloat16)
                x = tuple(t.to(torch.bfloat16) if t.is_floating_point() else t for t in x)
            ours = count_flops(net, x)
            table = reconcile(net, x, None, ours=ours)
            rows.append({"model": name, "precision": precision, "ours": ours.total, "counters": [r.to_dict() for r in table]})
            for r in table:
                print(f"reconcile {name:14s} {precision} {r.counter:16s} {r.ratio if r.ratio else r.skipped}", flush=True)
    out["reconciliation"] = rows


def _reference_builders() -> dict[str, Callable[[], torch.nn.Module]]:
    refs: dict[str, Callable[[], torch.nn.Module]] = {}
    with contextlib.suppress(ImportError):
        import torchvision.models as tv

        refs |= {
            "alexnet": lambda: tv.alexnet(),
            "vgg-16": lambda: tv.vgg16(),
            "googlenet": lambda: tv.googlenet(aux_logits=False, init_weights=False),
            "resnet-50": lambda: tv.resnet50(),
            "resnet-152": lambda: tv.resnet152(),
            "mobilenetv2": lambda: tv.mobilenet_v2(),
            "efficientnet-b0": lambda: tv.efficientnet_b0(),
            "vit-b-16": lambda: tv.vit_b_16(),
        }
    with contextlib.suppress(ImportError):
        import timm

        refs["efficientnet-l2"] = lambda: timm.create_model("tf_efficientnet_l2", pretrained=False)
    with contextlib.suppress(ImportError):
        import transformers as hf

        refs |= {
            "gpt2-small": lambda: hf.GPT2LMHeadModel(hf.GPT2Config()),
            "gpt2-xl": lambda: hf.GPT2LMHeadModel(hf.GPT2Config(n_layer=48, n_embd=1600, n_head=25)),
            "bert-base": lambda: hf.BertForMaskedLM(hf.BertConfig()),
            "bert-large": lambda: hf.BertForMaskedLM(
                hf.BertConfig(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096)
            ),
            "distilbert": lambda: hf.DistilBertForMaskedLM(hf.DistilBertConfig()),
            "t5-3b": lambda: hf.T5ForConditionalGeneration(
                hf.T5Config(d_model=1024, d_kv=128, d_ff=16384, num_layers=24, num_heads=32)
            ),
            "t5-11b": lambda: hf.T5ForConditionalGeneration(
                hf.T5Config(d_model=1024, d_kv=128, d_ff=65536, num_layers=24, num_heads=128)
            ),
            "gpt-j-6b": lambda: hf.GPTJForCausalLM(hf.GPTJConfig()),
            "llama-65b": lambda: hf.LlamaForCausalLM(
                hf.LlamaConfig(hidden_size=8192, intermediate_size=22016, num_hidden_layers=80,
                               num_attention_heads=64, vocab_size=32000)
            ),
        }
    return refs


def parameter_crosscheck(out: dict) -> None:
    rows = []
    for name, build in _reference_builders().items():
        if name not in models.REGISTRY:
            continue
        ours = sum(p.numel() for p in models.get(name).build("meta").parameters())
        try:
            with torch.device("meta"):
                ref = sum(p.numel() for p in build().parameters())
            rows.append({"model": name, "ours": ours, "reference": ref, "diff": ours / ref - 1})
        except Exception as e:  # noqa: BLE001
            rows.append({"model": name, "ours": ours, "reference": None, "error": f"{type(e).__name__}: {e}"})
        print(f"params {rows[-1]}", flush=True)
    out["parameters"] = rows


def summary(out: dict) -> str:
    lines = [f"# Counting validation on {out['device']}", "", f"torch {out['torch']}, driver {out['driver']}, {out['utc']}", ""]
    eq = out.get("equality", [])
    lines += ["## Same count on meta, CPU, CUDA", "", "| model | phase | devices | identical | total FLOP | recompute |", "|---|---|---|---|---|---|"]
    for r in eq:
        lines.append(
            f"| {r['model']} | {r['phase']} | {','.join(r['devices'])} | {'yes' if r['identical'] else 'NO ' + str(r['error'] or r['differences'])} "
            f"| {r['total_flop']:,} | {r['recompute_flop'] or 0:,} |" if r["total_flop"] else f"| {r['model']} | {r['phase']} | - | error: {r['error']} | - | - |"
        )
    lines += ["", "## Reconciliation on CUDA (forward)", "", "| model | precision | counter | ratio | why |", "|---|---|---|---|---|"]
    for m in out.get("reconciliation", []):
        for c in m["counters"]:
            ratio = f"{c['ratio']:.3f}" if c["ratio"] else "-"
            why = c["skipped"] and f"skipped: {c['skipped']}" or "; ".join(c["explanation"]) or "agrees within 1%"
            lines.append(f"| {m['model']} | {m['precision']} | {c['counter']} | {ratio} | {why} |")
    lines += ["", "## Parameters against reference implementations", "", "| model | ours | reference | diff |", "|---|---|---|---|"]
    for r in out.get("parameters", []):
        ref = f"{r['reference']:,}" if r.get("reference") else r.get("error", "-")
        diff = f"{r['diff']:+.2%}" if r.get("diff") is not None else "-"
        lines.append(f"| {r['model']} | {r['ours']:,} | {ref} | {diff} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dry-run", action="store_true", help="run on the CPU to check the script")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    global DEVICE
    if args.dry_run:
        DEVICE = "cpu"
    elif not torch.cuda.is_available():
        raise SystemExit("error: no CUDA device; this script validates the counter on a GPU (or pass --dry-run)")
    driver = "-"
    with contextlib.suppress(Exception):
        import pynvml

        pynvml.nvmlInit()
        driver = pynvml.nvmlSystemGetDriverVersion()
    out: dict = {
        "device": torch.cuda.get_device_name(0) if DEVICE == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "driver": driver,
        "python": platform.python_version(),
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    for step in (equality, reconciliation, parameter_crosscheck):
        try:
            step(out)
        except Exception:  # noqa: BLE001 - keep what the other steps found
            out[f"{step.__name__}_error"] = traceback.format_exc()
            print(out[f"{step.__name__}_error"], flush=True)
        (args.out / "counting_validation.json").write_text(json.dumps(out, indent=1))
    (args.out / "summary.md").write_text(summary(out))
    print(summary(out))


if __name__ == "__main__":
    main()
