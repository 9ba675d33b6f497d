"""Compute harness: count, measure and reconcile the FLOP of ML models."""

from harness.counting.api import count_flops
from harness.counting.result import FlopCount

__all__ = ["FlopCount", "count_flops"]
__version__ = "0.1.0"
