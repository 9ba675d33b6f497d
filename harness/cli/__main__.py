"""`python -m harness.cli`."""

from harness.cli import run

run()
