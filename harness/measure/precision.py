"""Numeric precisions of a measured step: what each one switches on, and which peak it uses."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch

PRECISIONS = ("fp32", "tf32", "bf16", "fp16")


class PrecisionError(ValueError):
    """A precision this device cannot run."""


@dataclass(frozen=True)
class Precision:
    name: str
    peak_key: str  # the column of the peak table the utilisation divides by
    autocast_dtype: torch.dtype | None
    tf32: bool


_TABLE = {
    "fp32": Precision("fp32", "fp32", None, False),
    "tf32": Precision("tf32", "tf32", None, True),
    # autocast runs matmuls in 16 bits: the tensor-core peak of that format applies
    "bf16": Precision("bf16", "bf16", torch.bfloat16, False),
    "fp16": Precision("fp16", "fp16", torch.float16, False),
}


def get(name: str, device: torch.device) -> Precision:
    """The precision, checked against the device; a one-line error says why not."""
    if name not in _TABLE:
        raise PrecisionError(f"unknown precision {name!r}; choose one of: {', '.join(PRECISIONS)}")
    if device.type == "cpu" and name in ("tf32", "fp16"):
        raise PrecisionError(f"{name} is a GPU precision; on the CPU choose fp32 or bf16")
    if name == "tf32" and device.type != "cuda":
        raise PrecisionError(f"tf32 is an NVIDIA tensor-core mode; on {device.type} choose fp32, bf16 or fp16")
    if device.type == "cuda" and name in ("tf32", "bf16"):
        major, minor = torch.cuda.get_device_capability(device)
        if major < 8:
            raise PrecisionError(
                f"{name} needs an Ampere or newer GPU (compute capability 8.0+); this one is {major}.{minor}: use fp32 or fp16"
            )
    return _TABLE[name]


@contextlib.contextmanager
def active(precision: Precision, device: torch.device) -> Iterator[None]:
    """Switch the precision on for the block: TF32 flags and autocast; restored afterwards."""
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = precision.tf32
    torch.backends.cudnn.allow_tf32 = precision.tf32
    try:
        if precision.autocast_dtype is None:
            yield
        else:
            with torch.autocast(device.type, dtype=precision.autocast_dtype):
                yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn
