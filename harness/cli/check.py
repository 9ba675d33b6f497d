"""`harness check`: cross-check a compute claim."""

from __future__ import annotations

import sys
from typing import Any

import typer

from harness.cli._common import FORMATS, app, choose, fail


@app.command()
def check(
    name: str = typer.Argument(None, help="a zoo entry (its recorded set-up; the claim's fields below override it)"),
    file: str = typer.Option(None, "--file", help="a CSV or YAML of claims with the same field names"),
    catalogue: bool = typer.Option(False, "--catalogue", help="check the shipped catalogue of documented claims"),
    params: float = typer.Option(None, "--params", help="parameters (all of them; MoE: --active-params too)"),
    active_params: float = typer.Option(None, "--active-params", help="parameters active per token (mixture of experts)"),
    tokens: float = typer.Option(None, "--tokens", help="training tokens, all epochs"),
    examples: float = typer.Option(None, "--examples", help="training examples per epoch"),
    epochs: float = typer.Option(None, "--epochs"),
    hardware: str = typer.Option(None, "--hardware", help="a name from the peak table, e.g. 'NVIDIA A100'"),
    count: float = typer.Option(None, "--count", help="number of chips (a whole number)"),
    hours: float = typer.Option(None, "--hours", help="wall-clock training time"),
    days: float = typer.Option(None, "--days"),
    seconds: float = typer.Option(None, "--seconds"),
    chip_hours: float = typer.Option(None, "--chip-hours", help="chip-hours (GPU-hours), instead of count x time"),
    precision: str = typer.Option(None, "--precision", help="fp32 | tf32 | bf16 | fp16 | fp8"),
    utilisation: float = typer.Option(None, "--utilisation", help="the utilisation (MFU, a fraction) the claim reports"),
    peak: float = typer.Option(None, "--peak", help="the peak FLOP/s per chip the claim used"),
    claimed: float = typer.Option(None, "--claimed", help="the claimed training compute, FLOP"),
    domain: str = typer.Option(None, "--domain", help="language | vision | ... (picks the default utilisation)"),
    defaults: str = typer.Option(None, "--defaults", help="a defaults table (default: the shipped calibrated table)"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
) -> None:
    """Cross-check a compute claim: both estimates with ranges, the implied utilisation, a verdict and its reasons."""
    from harness.cli.estimate import load_defaults_or_fail
    from harness.estimate import claims as K
    from harness.report.claims_view import render

    choose(fmt, FORMATS, "format")
    fields = dict(params=params, active_params=active_params, tokens=tokens, examples=examples, epochs=epochs,
                  hardware=hardware, count=count, hours=hours, days=days, seconds=seconds, chip_hours=chip_hours,
                  precision=precision, utilisation=utilisation, peak=peak, claimed=claimed, domain=domain)
    given = {k: v for k, v in fields.items() if v is not None}
    if sum([bool(name), bool(file), catalogue]) > 1 or not (name or file or catalogue or given):
        fail("give exactly one of: a zoo entry name, --file, --catalogue, or the claim's fields (--params, --tokens, ...)")
    if (file or catalogue) and given:
        flags = ", ".join(f"--{k.replace('_', '-')}" for k in given)
        fail(f"{flags} cannot apply to --file or --catalogue claims; edit the file, or check one claim by its fields")
    table = load_defaults_or_fail(defaults)
    counted = None
    try:
        if catalogue:
            results = K.check_catalogue(defaults=table, zoo_claim=lambda zoo: _zoo_claim(zoo)[0])
        elif file:
            results = K.check_all(K.load_claims(file), defaults=table)
        elif name:
            claim, counted = _zoo_claim(name)
            if given:
                claim = claim.updated(**given)
                if given.keys() & {"params", "active_params", "tokens", "examples", "epochs"}:
                    from dataclasses import replace

                    claim, counted = replace(claim, counted_flop=None, counted_basis=""), None  # the count is of the recorded run
                said = ", ".join(f"--{k.replace('_', '-')} {v:g}" if isinstance(v, float) else f"--{k} {v}"
                                 for k, v in given.items())
                typer.echo(f"{name}: the recorded set-up with {said} in its place", err=True)
            results = [K.check(claim, defaults=table)]
        else:
            results = [K.check(K.Claim.from_fields("claim", **given), defaults=table)]
    except ValueError as e:
        fail(str(e).splitlines()[0])
    render(results, fmt, sys.stdout, single=not (file or catalogue))
    if name and fmt == "table" and counted is not None:
        from harness.report.counted_view import counted_lines

        typer.echo("\n".join(counted_lines(counted)))


def _zoo_claim(name: str) -> tuple[Any, Any]:
    """The claim a zoo entry's published facts make, with method 1 from its counted training run
    (the zoo is imported and counted here, never by estimate)."""
    import models
    from harness.estimate.claims import Claim
    from harness.zoo_compute import counted_for

    entry = models.get(name)
    counted = counted_for(name) if entry.facts is not None else None
    return Claim.from_entry(entry, counted=counted), counted
