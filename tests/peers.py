"""Shared helpers for the op-level counter tests (tests/test_peers_*.py, tests/test_counter_gaps.py)."""

import torch.nn as nn

from harness.conventions import MATMUL_CLASS


class Call(nn.Module):
    """A module around one function call, so a peer's op-level case counts as a model."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


def matmul_class(result, phase=None):
    """Matmul, conv, attention and recurrent FLOP: what a peer that counts only 'MAC ops' reports (x2)."""
    cats = result.by_category if phase is None else result.by_phase_category[phase]
    return sum(cats[c.value] for c in MATMUL_CLASS)
