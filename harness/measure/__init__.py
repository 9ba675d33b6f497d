"""Measurement: timing done right, the step runner, sweeps. Counting knows nothing of this."""
