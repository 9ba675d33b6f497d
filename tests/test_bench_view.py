"""The bench table: fits the terminal, explains its columns, marks noisy rows, says CV n/a for one step."""

import io

from harness.report.bench_view import LEGEND, SHORT_LEGEND, render, status_text

ROW = {
    "model": "gpt2-small", "phase": "train", "precision": "bf16", "batch": 8, "seq": 1024,
    "flop_per_step": 7.3e12, "seconds_median": 0.21, "seconds_cv": 0.012, "flop_per_s": 3.5e13,
    "utilisation": 0.35, "utilisation_ceiling": 0.5, "backward_forward_time": 2.1, "status": "ok",
    "device_name": "NVIDIA H100 80GB HBM3", "extra": {"backward_forward_flop": 2.0},
}


def _table(rows, width, explain=False):
    out = io.StringIO()
    render(rows, "table", out, width=width, explain=explain)
    return out.getvalue()


def test_the_table_fits_80_and_100_columns():
    for width in (80, 100):
        text = _table([ROW, {**ROW, "batch": 16}], width)
        assert max(len(line) for line in text.splitlines()) <= width, text
        assert "MFU sheet" in text and "status" in text and SHORT_LEGEND in text
    wide = _table([ROW], 200)
    assert "bwd/fwd F" in wide and "hidden to fit" not in wide  # a value read back from `extra`
    assert "hidden to fit 80 columns" in _table([ROW], 80)


def test_explain_says_what_every_column_means():
    text = _table([ROW], 200, explain=True)
    for name in LEGEND:
        assert f"{name}:" in text


def test_noisy_one_step_and_failed_rows():
    assert status_text(ROW) == "ok"
    assert status_text({**ROW, "seconds_cv": 0.25}) == "noisy"  # above NOISY_CV = 10%
    assert status_text({**ROW, "status": "oom", "error": "CUDA out of memory"}) == "oom: CUDA out of memory"
    one_step = _table([{**ROW, "seconds_cv": None}], 200)
    assert " n/a " in one_step and " 0.0% " not in one_step  # not a spread of zero
