"""The errors of the results database: one-line messages that say what to do."""

from __future__ import annotations


class StoreError(ValueError):
    """The results database cannot be used as asked; the message (one line) says what to do."""


class DuplicateRunError(StoreError):
    """An 'ok' row with this run_key is already stored (pass ``repeat=True`` or ``replace=True``)."""
