"""The torchrun entry, ``python -m harness.measure.distributed``: one rank, and rank 0's row stored.

The rank measures and reports (:mod:`harness.measure.distributed.rank`); with ``--db`` this thin
entry stores rank 0's row, as a repeat when the configuration is already there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.measure.distributed import rank


def store_row(result: dict[str, Any], db: str) -> str:
    """Store rank 0's row in `db`; returns its run_id."""
    from harness.store import Store

    with Store(db) as store:
        return store.add(result["row"], repeat=True)


def main(argv: Sequence[str] | None = None) -> int:
    return rank.main(argv, write=store_row)
