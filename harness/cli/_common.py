"""What every command shares: the Typer app, one-line errors, choices and number lists."""

from __future__ import annotations

from typing import NoReturn

import typer

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Count, measure and reconcile the FLOP of ML models (1 multiply-accumulate = 2 FLOP).",
)

FORMATS = ("table", "json", "csv")
DEVICES = ("meta", "cpu", "cuda")
PHASES = ("forward", "train")


def fail(message: str) -> NoReturn:
    """One line on stderr, exit code 2, no traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def choose(value: str, valid: tuple[str, ...], what: str) -> str:
    if value not in valid:
        fail(f"unknown {what} {value!r}; choose one of: {', '.join(valid)}")
    return value


def check_device(device: str) -> str:
    import torch

    choose(device, DEVICES, "device")
    if device == "cuda" and not torch.cuda.is_available():
        fail("device 'cuda' is not available on this machine; choose meta or cpu")
    return device


MAX_BATCH = 2**31 - 1
"""The largest batch (or sequence length) any command accepts: torch sizes tensors in 64 bits, and
a batch beyond this overflows the element count of wide layers' activations."""


def ints(text: str | None, what: str, *, minimum: int = 1, maximum: int = MAX_BATCH) -> list[int] | None:
    """A comma list of whole numbers, each in [minimum, maximum]; None when not given.

    An empty list ('' or ',') is refused, not read as the default.
    """
    if text is None:
        return None
    parts = [v.strip() for v in text.split(",")]
    if not any(parts):
        fail(f"{what} is empty: give whole numbers separated by commas, e.g. {what} 8,16")
    try:
        values = [int(v) for v in parts if v]
    except ValueError:
        fail(f"{what} must be whole numbers separated by commas, not {text!r}")
    for v in values:
        if v < minimum:
            fail(f"{what} must be at least {minimum}, not {v}")
        if v > maximum:
            fail(f"{what} must be at most {maximum:,}, not {v:,}")
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        fail(f"{what} lists {', '.join(map(str, twice))} more than once: each value is measured once "
             "(a second bench of the same configuration is kept as a repeat)")
    return values


def one_int(text: str | None, what: str, *, minimum: int = 1, maximum: int = MAX_BATCH) -> int | None:
    """One whole number in [minimum, maximum] (e.g. --batch of count); None when not given."""
    values = ints(text, what, minimum=minimum, maximum=maximum)
    if values is not None and len(values) != 1:
        fail(f"{what} takes one whole number, not {text!r}")
    return values[0] if values else None
