"""Trend fits in log space, bootstrap intervals, record-setters and the large-scale rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.estimate import trends as T


def _synthetic(slope: float, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n systems dated uniformly over 2000-2020 with log10 value = slope x (t - 2000) + 10 + noise."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(2000, 2020, n)
    return t, 10 ** (slope * (t - 2000) + 10 + rng.normal(0, noise, n))


def test_doubling_months_from_slope() -> None:
    assert T.doubling_months(math.log10(2)) == pytest.approx(12.0)  # doubles once a year
    assert T.doubling_months(1.0) == pytest.approx(12 * math.log10(2))  # 10x a year: 3.61 months
    assert T.doubling_months(0.0) is None and T.doubling_months(-0.1) is None


def test_exact_exponential_is_recovered_with_a_collapsed_interval() -> None:
    t = np.array([2001.0, 2003.5, 2004.0, 2010.25, 2015.0])
    v = 3e12 * 10 ** (0.5 * (t - 2001))  # 0.5 OOM per year exactly
    fit = T.fit_trend(t, v, boots=200, seed=1)
    assert fit.slope_oom_per_year == pytest.approx(0.5, abs=1e-12)
    assert (fit.slope_low, fit.slope_high) == (pytest.approx(0.5, abs=1e-9), pytest.approx(0.5, abs=1e-9))
    assert fit.doubling_months[0] == pytest.approx(12 * math.log10(2) / 0.5)  # 7.22 months
    assert fit.r2 == pytest.approx(1.0)
    assert fit.predict(2001) == pytest.approx(3e12)
    assert (fit.n, fit.start, fit.end) == (5, 2001.0, 2015.0)


def test_noisy_slope_recovered_and_covered() -> None:
    t, v = _synthetic(0.3, n=120, noise=0.4, seed=7)
    fit = T.fit_trend(t, v, boots=500, seed=0)
    # the standard error of the slope is 0.4 / (sd(t) sqrt(n)) = 0.4 / (5.77 x 10.95) = 0.0063
    assert fit.slope_oom_per_year == pytest.approx(0.3, abs=4 * 0.0063)
    assert fit.slope_low < 0.3 < fit.slope_high
    central, low, high = fit.doubling_months
    assert low < 12 * math.log10(2) / 0.3 < high  # 12.04 months
    assert low < central < high
    assert fit.boots == 500 and fit.level == 0.90


def test_ninety_percent_interval_covers_about_ninety_percent() -> None:
    covered = 0
    trials = 120
    for seed in range(trials):
        t, v = _synthetic(0.3, n=40, noise=0.5, seed=1000 + seed)
        fit = T.fit_trend(t, v, boots=200, seed=seed)
        covered += fit.slope_low <= 0.3 <= fit.slope_high
    # binomial(120, 0.9): mean 108, sd 3.3; the percentile bootstrap runs a little narrow at n = 40
    assert 96 <= covered <= 118


def test_bootstrap_is_seeded() -> None:
    t, v = _synthetic(0.2, n=30, noise=0.5, seed=3)
    a, b = T.fit_trend(t, v, boots=300, seed=5), T.fit_trend(t, v, boots=300, seed=5)
    c = T.fit_trend(t, v, boots=300, seed=6)
    assert a == b
    assert (a.slope_low, a.slope_high) != (c.slope_low, c.slope_high)
    assert a.slope_oom_per_year == c.slope_oom_per_year  # the central fit does not depend on the seed


def test_fit_in_log_space_not_raw_values() -> None:
    # one huge system decides a raw-value fit; in log space it is one point of five on a 1 OOM/yr line
    t = np.array([2000.0, 2001, 2002, 2003, 2004])
    v = 10.0 ** np.array([1, 2, 3, 4, 9])
    fit = T.fit_trend(t, v, boots=10)
    # least squares of log10 v = [1, 2, 3, 4, 9] on t - 2000 = [0..4]: mean y 3.8,
    # slope = ((-2)(-2.8) + (-1)(-1.8) + 0 + (1)(0.2) + (2)(5.2)) / (4 + 1 + 0 + 1 + 4) = 18 / 10
    assert fit.slope_oom_per_year == pytest.approx(1.8)


def test_unusable_points_are_left_out_and_too_few_is_an_error() -> None:
    fit = T.fit_trend([2000, 2001, 2002, 2003], [10, 100, 0, float("nan")], boots=10)
    assert fit.n == 2 and fit.slope_oom_per_year == pytest.approx(1.0)
    with pytest.raises(T.TrendError, match="got 1"):
        T.fit_trend([2000, 2001], [10, -1])
    with pytest.raises(T.TrendError, match="distinct dates"):
        T.fit_trend([2000, 2000], [10, 100])


# ---------------------------------------------------------------------------------------- record-setters

DATES = [2000.0, 2001.0, 2002.0, 2003.0, 2004.0, 2004.0, 2005.0]
VALUES = [10.0, 5.0, 20.0, 20.0, 30.0, 100.0, 0.0]


def test_record_setters_by_hand() -> None:
    # 2000: 10 (first); 2001: 5 < 10; 2002: 20 > 10; 2003: 20 ties, not above; 2004: 100 counts before 30
    # (same date, larger first), so 30 is no record; 2005: a zero has no logarithm and never counts
    assert T.record_setters(DATES, VALUES) == [0, 2, 5]


def test_step_line_connects_the_records() -> None:
    assert T.step_line(DATES, VALUES, until=2006.0) == [
        (2000.0, 10.0), (2002.0, 10.0), (2002.0, 20.0), (2004.0, 20.0), (2004.0, 100.0), (2006.0, 100.0)]
    assert T.step_line(DATES, VALUES)[-1] == (2004.0, 100.0)


def test_record_trend_fits_the_records_and_bootstraps_the_input() -> None:
    rng = np.random.default_rng(0)
    rec_t = np.arange(2000.0, 2011.0)
    rec_v = 10 ** (0.5 * (rec_t - 2000) + 15)  # records exactly on 0.5 OOM/yr
    others_t = rng.uniform(2000.5, 2010.5, 60)
    others_v = 10 ** (0.5 * (np.floor(others_t) - 2000) + 15 - rng.uniform(0.1, 2, 60))  # below the record
    t = np.concatenate([rec_t, others_t])
    v = np.concatenate([rec_v, others_v])
    assert sorted(T.record_setters(t, v)) == list(range(11))
    fit = T.record_trend(t, v, boots=300, seed=0)
    assert fit.n == 11
    assert fit.slope_oom_per_year == pytest.approx(0.5, abs=1e-12)
    # a draw that leaves out a record lets a lower system set it: the interval has width, around 0.5
    assert fit.slope_low < 0.5 < fit.slope_high
    assert fit.boots == 300


def test_an_early_outlier_widens_the_record_interval() -> None:
    rng = np.random.default_rng(1)
    t = rng.uniform(2000, 2020, 80)
    v = 10 ** (0.4 * (t - 2000) + 12 + rng.normal(0, 0.5, 80))
    plain = T.record_trend(t, v, boots=400, seed=0)
    t2, v2 = np.append(t, 2000.5), np.append(v, 10 ** 19.0)  # an early giant: the record until ~2017
    spoilt = T.record_trend(t2, v2, boots=400, seed=0)
    assert spoilt.n < plain.n
    assert spoilt.slope_high - spoilt.slope_low > plain.slope_high - plain.slope_low


# ---------------------------------------------------------------------------------------- large-scale


def test_large_scale_rule_by_hand() -> None:
    dates = [2000.0, 2000.5, 2001.0, 2001.5, 2002.0, 2010.0]
    logs = [1.0, 2.0, 4.0, 1.0, 2.0, 9.0]
    z = T.large_scale_z(dates, [10 ** y for y in logs])
    # 2001 (4): the others within 2 years are 1, 2, 1, 2: mean 1.5, sd 0.5 -> z = (4 - 1.5) / 0.5 = 5
    assert z[2] == pytest.approx(5.0)
    # 2000 (1): others 2, 4, 1, 2 (2002 is exactly 2 years away, inside): mean 2.25, sd sqrt(4.75 / 4)
    assert z[0] == pytest.approx((1 - 2.25) / math.sqrt(4.75 / 4))
    assert z[1] == pytest.approx(0.0) and z[4] == pytest.approx(0.0)  # 2 against 1, 4, 1, 2 (mean 2)
    assert z[5] is None  # no system within 2 years of 2010
    assert T.large_scale(dates, [10 ** y for y in logs]) == [False, False, True, False, False, False]


def test_large_scale_threshold_moves_the_split() -> None:
    dates = [2000.0, 2001.0, 2000.5]
    logs = [0.0, 2.0, 1.8]
    values = [10 ** y for y in logs]
    z = T.large_scale_z(dates, values)
    assert z[2] == pytest.approx(0.8)  # 1.8 against 0 and 2: mean 1, sd 1
    assert z[1] == pytest.approx((2 - 0.9) / 0.9)  # 2 against 0 and 1.8: mean 0.9, sd 0.9 -> 1.22
    assert z[0] == pytest.approx((0 - 1.9) / 0.1)  # 0 against 2 and 1.8: mean 1.9, sd 0.1 -> -19
    assert T.large_scale(dates, values, threshold=0.72) == [False, True, True]
    assert T.large_scale(dates, values, threshold=1.0) == [False, True, False]
    assert T.large_scale(dates, values, threshold=1.3) == [False, False, False]


def test_large_scale_needs_spread_and_neighbours() -> None:
    assert T.large_scale_z([2000, 2001, 2002], [10, 10, 1e6]) == [
        pytest.approx((1 - 3.5) / 2.5), pytest.approx((1 - 3.5) / 2.5), None]  # 1e6 against two equal
    assert T.large_scale_z([2000, 2001], [10, 100]) == [None, None]  # one neighbour: no spread
