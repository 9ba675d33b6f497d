"""Exports of the results: the format a file asks for, a target that can be written, the writers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.store.errors import StoreError

EXPORT_SUFFIXES = {"csv": "csv", "json": "json", "jsonl": "json", "parquet": "parquet", "pq": "parquet"}
"""File suffix -> export format."""


def export_format(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The export format: ``fmt`` if given, else the suffix's; a suffix that says otherwise is refused."""
    suffix = Path(path).suffix.lstrip(".").lower()
    implied = EXPORT_SUFFIXES.get(suffix)
    if fmt is None:
        if implied is None:
            raise ValueError(f"cannot tell the format of {path} from its suffix: name it .csv, .json or "
                             ".parquet, or pass --format")
        return implied
    fmt = EXPORT_SUFFIXES.get(fmt.lower(), fmt.lower())
    if fmt not in ("csv", "parquet", "json"):
        raise ValueError(f"export format must be csv, parquet or json, got {fmt!r}")
    if implied is not None and implied != fmt:
        raise ValueError(f"{path} ends in .{suffix} but the format asked is {fmt}: rename the file or drop --format")
    return fmt


def check_writable(path: Path) -> None:
    """A file can be written at ``path`` (its folder made if missing), or StoreError saying why not."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory: name a file inside it, e.g. {path / 'results.csv'}")
    parent = path.parent
    blocker = next((p for p in (parent, *parent.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise StoreError(f"cannot write {path}: {blocker} is a file, not a folder; choose another --out")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"cannot create the folder {parent} ({e.strerror or e}); choose another --out") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(f"cannot write {path}: the folder {parent} is read-only; choose another --out")


def write_frame(df: Any, path: Path, fmt: str) -> None:
    """Write ``df`` to ``path`` as ``fmt`` beside the target and rename it into place: never half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if fmt == "csv":
            df.to_csv(tmp, index=False)
        elif fmt == "json":
            df.to_json(tmp, orient="records", indent=1)
        else:
            df.to_parquet(tmp, index=False, engine="pyarrow")
        os.replace(tmp, path)
    except OSError as e:
        raise StoreError(f"cannot write {path} ({e.strerror or e}); choose another --out") from None
    finally:
        tmp.unlink(missing_ok=True)
