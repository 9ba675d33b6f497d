"""The loader's decimal publication date, which the trend fits regress on."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.estimate.dataset import load_systems

HEADER = "Model,Publication date,Training compute (FLOP),Training hardware,Hardware quantity,Training time (hours)\n"


@pytest.mark.parametrize("cell, year, decimal", [
    ("2012-09-30", 2012, 2012 + 273 / 366),  # 2012 is a leap year: Sep 30 is day 274
    ("2015-01-01", 2015, 2015.0),
    ("2015-07-02", 2015, 2015 + 182 / 365),
    ("2019-03", 2019, 2019 + 59 / 365),  # a month alone reads as its 1st: Jan 31 + Feb 28 days before it
    ("1957", 1957, 1957.0),
    ("2021-02-30", 2021, None),  # no such day: the year reads, the decimal date does not
])
def test_decimal_date(tmp_path: Path, cell: str, year: int, decimal: float | None) -> None:
    path = tmp_path / "d.csv"
    path.write_text(HEADER + f"M,{cell},1e20,,,\n", encoding="utf-8")
    (row,) = load_systems(path).rows
    assert row.year == year
    assert row.date == (None if decimal is None else pytest.approx(decimal, abs=1e-12))
