"""Cross-checking a paper's training-compute claim against both estimation methods.

A `Claim` holds what a paper (or model card) says: parameters, tokens or examples and epochs,
hardware (a peak-table name), chip count, training time, precision, the utilisation (MFU) it
reports, the peak it used, and the FLOP it claims. Any subset may be given. `check(claim)` gives
both estimates, the implied utilisation, a verdict and the likely reasons (`CheckResult`).

Where things live (the names below are the stable public API, re-exported here):

* `claims.claim`: the model and its input. `Claim` (`from_fields`, `from_mapping`, `from_entry`),
  `load_claims(path)` (CSV or YAML), `parse_claims(data, source, fmt)`, `load_catalogue()`,
  `CATALOGUE_PATH` (the packaged claims.csv), `ClaimsError`.
* `claims.detectors`: `Context` and `DETECTORS`, small pure functions `Context -> Finding | None`.
  Add a detector there.
* `claims.check`: `check`, `check_all`, `check_catalogue`, `CheckResult`, `VERDICTS`.
* Output (rich table, JSON, CSV rows) is in `harness.report.claims_view`.

This package never imports the model zoo: a counted FLOP per example, or a zoo entry's facts, are
passed in by the caller (`Claim.from_entry(entry, flop_per_example)`).
"""

from harness.estimate.claims.check import VERDICTS, CheckResult, check, check_all, check_catalogue
from harness.estimate.claims.claim import (
    CATALOGUE_PATH,
    Claim,
    ClaimsError,
    load_catalogue,
    load_claims,
    parse_claims,
)
from harness.estimate.claims.detectors import DETECTORS, Context
from harness.estimate.findings import Finding

__all__ = [
    "CATALOGUE_PATH",
    "DETECTORS",
    "VERDICTS",
    "CheckResult",
    "Claim",
    "ClaimsError",
    "Context",
    "Finding",
    "check",
    "check_all",
    "check_catalogue",
    "load_catalogue",
    "load_claims",
    "parse_claims",
]
