"""The `harness` command line: one module per command; `app` and the shared helpers live in `_common`."""

from __future__ import annotations

import importlib

from harness.cli._common import app, fail


@app.callback()
def main() -> None:
    """Count, measure and reconcile the FLOP of ML models (1 multiply-accumulate = 2 FLOP)."""


# one module per command; registration order is the order `harness --help` lists them
COMMANDS = ("count", "bench", "peak", "results", "calibrate", "estimate", "check", "report", "trends", "zoo",
            "reconcile_dataset")
for _name in COMMANDS:
    importlib.import_module(f"{__name__}.{_name}")


def run() -> None:
    app()


__all__ = ["app", "fail", "run"]
