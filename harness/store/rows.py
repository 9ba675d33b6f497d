"""Rows on the way in and out: validation and coercion to SQLite values, JSON decoding, filters."""

from __future__ import annotations

import enum
import json
import math
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.store import schema
from harness.store.provenance import _canonical, run_key_for
from harness.store.schema import _BY_NAME, _PHASES, _STATUSES, COLUMN_NAMES, COLUMNS, PROVENANCE, Column

_INT64_MAX = 2**63 - 1


def _json_default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if hasattr(value, "tolist"):  # numpy / torch arrays and scalars
        return value.tolist()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _to_json(name: str, value: Any) -> str:
    try:
        return json.dumps(value, default=_json_default, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise ValueError(f"column {name!r}: {e}") from None


def _coerce(col: Column, value: Any) -> Any:
    """Python value -> SQLite value for one column, or ValueError naming the column."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        value = value.value
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", None) == 0:
        value = value.item()
    if col.json:
        if isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                raise ValueError(f"column {col.name!r}: the string given is not JSON") from None
            return value
        return _to_json(col.name, value)
    if col.sqltype == "INTEGER":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise ValueError(f"column {col.name!r} takes an integer, got {type(value).__name__} {value!r}")
        if abs(value) > _INT64_MAX:
            raise ValueError(f"column {col.name!r}: {value} does not fit in a 64-bit integer")
        return int(value)
    if col.sqltype == "REAL":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"column {col.name!r} takes a number, got {type(value).__name__} {value!r}")
        value = float(value)
        return None if math.isnan(value) else value
    if not isinstance(value, str):
        raise ValueError(f"column {col.name!r} takes a string, got {type(value).__name__} {value!r}")
    return value


def prepare_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a row and turn it into column -> SQLite value (what :meth:`Store.add` writes).

    Unknown keys go into ``extra``; defaults and ``run_id``, ``run_key``, ``schema_version`` are
    filled in; a missing required column raises ValueError naming every one missing.
    """
    if not isinstance(row, Mapping):
        raise TypeError(f"a row is a mapping of column -> value, not {type(row).__name__}")
    data = dict(row)
    extra = data.pop("extra", None)
    if isinstance(extra, str):
        extra = json.loads(extra) if extra else None
    if extra is not None and not isinstance(extra, Mapping):
        raise ValueError(f"column 'extra' takes a mapping, got {type(extra).__name__}")
    extra = dict(extra or {})
    for key in [k for k in data if k not in _BY_NAME]:
        extra[str(key)] = data.pop(key)

    version = data.get("schema_version")
    if version is not None and version != schema.SCHEMA_VERSION:
        raise ValueError(f"row says schema_version {version!r}, this store writes {schema.SCHEMA_VERSION}")
    data["schema_version"] = schema.SCHEMA_VERSION
    if data.get("run_id") is None:
        data["run_id"] = str(uuid.uuid4())
    for col in COLUMNS:
        if data.get(col.name) is None and col.default is not None:
            data[col.name] = col.default

    out = {col.name: _coerce(col, data.get(col.name)) for col in COLUMNS if col.name != "extra"}
    out["extra"] = _to_json("extra", extra) if extra else None
    keyed = ("model", "batch", "phase", "precision")
    if out["run_key"] is None and all(out.get(f) is not None for f in keyed):
        out["run_key"] = run_key_for(out)

    missing = [c.name for c in COLUMNS if c.required and out.get(c.name) is None]
    if missing:
        prov = [m for m in missing if m in PROVENANCE]
        other = [m for m in missing if m not in PROVENANCE]
        parts = []
        if other:
            parts.append(f"required fields {', '.join(other)}")
        if prov:
            parts.append(f"provenance {', '.join(prov)} (gather it with harness.store.provenance())")
        raise ValueError(f"row lacks {'; and '.join(parts)}")
    if out["phase"] not in _PHASES:
        raise ValueError(f"phase must be one of {_PHASES}, got {out['phase']!r}")
    if out["status"] not in _STATUSES:
        raise ValueError(f"status must be one of {_STATUSES}, got {out['status']!r}")
    for flag in ("compile", "checkpointing"):
        if out[flag] not in (0, 1):
            raise ValueError(f"{flag} must be 0/1 or a bool, got {out[flag]!r}")
    if out["status"] == "ok" and out["seconds_median"] is None:
        raise ValueError("an 'ok' row needs seconds_median")
    return out


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for col in COLUMNS:
        if col.json and row.get(col.name) is not None:
            row[col.name] = json.loads(row[col.name])
    return row


def _where(filters: Mapping[str, Any]) -> tuple[str, list[Any]]:
    unknown = sorted(set(filters) - set(COLUMN_NAMES))
    if unknown:
        raise ValueError(f"unknown column(s) to filter on: {', '.join(unknown)}")
    clauses, params = [], []
    for name, value in filters.items():
        if value is None:
            clauses.append(f"{name} IS NULL")
        elif isinstance(value, (list, tuple, set, frozenset)):
            values = [_canonical(v) for v in value]
            if not values:
                clauses.append("0")
            else:
                clauses.append(f"{name} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        else:
            clauses.append(f"{name} = ?")
            params.append(_canonical(value))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params
