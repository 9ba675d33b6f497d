"""Hardware: the accelerator peak table (peaks.csv, a source per row), name and device matching."""

from harness.hardware.devices import DEVICE_TYPES, DeviceType, device_accelerator
from harness.hardware.table import (
    KINDS,
    PRECISIONS,
    Accelerator,
    PrecisionUnsupported,
    UnknownHardware,
    canonical_precision,
    cores_per_chip,
    generation,
    load_table,
    resolve,
    resolve_many,
)

__all__ = [
    "DEVICE_TYPES",
    "KINDS",
    "PRECISIONS",
    "Accelerator",
    "DeviceType",
    "PrecisionUnsupported",
    "UnknownHardware",
    "canonical_precision",
    "cores_per_chip",
    "device_accelerator",
    "generation",
    "load_table",
    "resolve",
    "resolve_many",
]
