"""`harness check`: cross-check a compute claim."""

from __future__ import annotations

import sys

import typer

from harness.cli._common import FORMATS, app, choose, fail


@app.command()
def check(
    name: str = typer.Argument(None, help="a zoo entry (its recorded set-up), or omit and give the claim's fields"),
    file: str = typer.Option(None, "--file", help="a CSV or YAML of claims with the same field names"),
    catalogue: bool = typer.Option(False, "--catalogue", help="check the shipped catalogue of documented claims"),
    params: float = typer.Option(None, "--params"),
    tokens: float = typer.Option(None, "--tokens"),
    examples: float = typer.Option(None, "--examples"),
    epochs: float = typer.Option(None, "--epochs"),
    hardware: str = typer.Option(None, "--hardware", help="a name from the peak table, e.g. 'NVIDIA A100'"),
    count: float = typer.Option(None, "--count", help="number of chips"),
    hours: float = typer.Option(None, "--hours"),
    days: float = typer.Option(None, "--days"),
    seconds: float = typer.Option(None, "--seconds"),
    precision: str = typer.Option(None, "--precision"),
    utilisation: float = typer.Option(None, "--utilisation", help="the utilisation the claim assumed"),
    peak: float = typer.Option(None, "--peak", help="the peak FLOP/s per chip the claim used"),
    claimed: float = typer.Option(None, "--claimed", help="the claimed training compute, FLOP"),
    domain: str = typer.Option(None, "--domain"),
    defaults: str = typer.Option(None, "--defaults", help="a defaults table (default: results/utilisation_defaults.csv)"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
) -> None:
    """Cross-check a compute claim: both estimates with ranges, the implied utilisation, a verdict and its reasons."""
    import csv
    import json

    from harness.estimate import claims as K

    choose(fmt, FORMATS, "format")
    fields = dict(params=params, tokens=tokens, examples=examples, epochs=epochs, hardware=hardware, count=count,
                  hours=hours, days=days, seconds=seconds, precision=precision, utilisation=utilisation, peak=peak,
                  claimed=claimed, domain=domain)
    given = {k: v for k, v in fields.items() if v is not None}
    sources = sum([bool(name), bool(file), catalogue, bool(given) and not name])
    if sources != 1:
        fail("give exactly one of: a zoo entry name, --file, --catalogue, or the claim's fields (--params, --tokens, ...)")
    try:
        if catalogue:
            results = K.check_catalogue(defaults=defaults)
        elif file:
            results = K.check_all(K.load_claims(file), defaults=defaults)
        elif name:
            import models

            models.get(name)
            results = [K.check(K.claim_for_model(name), defaults=defaults)]
        else:
            results = [K.check(K.Claim.from_fields("claim", **given), defaults=defaults)]
    except ValueError as e:
        fail(str(e).splitlines()[0])
    if fmt == "json":
        payload = [r.to_dict() for r in results]
        json.dump(payload[0] if len(payload) == 1 and not (file or catalogue) else payload, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    elif fmt == "csv":
        rows = K.results_rows(results)
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    else:
        from rich.console import Console

        Console(file=sys.stdout, width=200).print(K.results_table(results))
