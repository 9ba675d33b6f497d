"""Both estimation methods applied to every row of an Epoch-schema dataset."""

from __future__ import annotations

from typing import Any

from harness.estimate import dataset as D
from harness.estimate.active import active_parameters
from harness.estimate.defaults import DefaultRow, SystemKeys, utilisation_default
from harness.estimate.methods import Utilisation, method1_examples, method2_hardware
from harness.hardware.table import generation

HOUR = 3600.0


def row_keys(row: D.SystemRow) -> SystemKeys:
    """What the defaults lookup needs to know of a dataset row."""
    gens = {generation(a) for a in row.accelerators}
    gen = gens.pop() if len(gens) == 1 else ("mixed" if gens else None)
    return SystemKeys(generation=gen, precision=row.precision, domain=row.domain, chips=row.quantity,
                      parameters=row.parameters, year=row.year)


def row_utilisation(row: D.SystemRow, table: list[DefaultRow] | None) -> Utilisation:
    return utilisation_default(row_keys(row), table)


def estimate_row(row: D.SystemRow, table: list[DefaultRow] | None) -> dict[str, Any]:
    """Method 1 where parameters and dataset size exist (6 N D x epochs: Epoch's 2 x 3 x
    connections x examples, with datapoints = tokens for language models; N the active
    parameters of a mixture of experts where the row states them, flagged
    `moe_active_parameters`), method 2 where chips,
    hours and a peak exist, the implied utilisation of the published compute, and the flags."""
    out: dict[str, Any] = {"Model": row.model, "compute": row.compute}
    flags = [f.code for f in D.flags(row)]
    if row.parameters and row.dataset_size:
        active = active_parameters(row.model, row.parameters, row.parameters_notes)
        n = active.parameters if active is not None else row.parameters
        out["compute_method1"] = method1_examples(n, row.dataset_size, row.epochs or 1.0).flop
        if active is not None:  # a mixture of experts: 6ND on the parameters a token uses
            out["method1_parameters"] = f"active: {n:.3g} of {row.parameters:.3g} ({active.source})"
            flags.append("moe_active_parameters")
    peak, rule = D.peak_flop_per_s(row)
    if row.quantity and row.hours and peak:
        u = row_utilisation(row, table)
        e = method2_hardware(row.quantity, row.hours * HOUR, peak, u, rule)
        out |= {"compute_method2": e.flop, "compute_method2_low": e.low, "compute_method2_high": e.high,
                "utilisation_used": u.central, "utilisation_source": u.source, "peak_rule": rule}
    out["implied_utilisation"] = D.implied_utilisation(row)
    out["flags"] = ";".join(flags)
    return out
