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



def ints(text: str | None, what: str) -> list[int] | None:
    if text is None:
        return None
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        fail(f"{what} must be whole numbers separated by commas, not {text!r}")
    return values


