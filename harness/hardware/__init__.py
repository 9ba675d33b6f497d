"""Hardware: the accelerator peak table (peaks.csv, a source per row) and name matching."""

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
    "KINDS",
    "PRECISIONS",
    "Accelerator",
    "PrecisionUnsupported",
    "UnknownHardware",
    "canonical_precision",
    "cores_per_chip",
    "generation",
    "load_table",
    "resolve",
    "resolve_many",
]
