"""Where and how a row was measured: run keys, provenance columns, the project commit, the default path."""

from __future__ import annotations

import enum
import functools
import hashlib
import importlib.resources
import json
import os
import platform
import socket
import subprocess
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.hardware.host import cpu_name, driver_version
from harness.store import schema
from harness.store.schema import _BY_NAME, CONFIG_FIELDS

ENV_DB = "HARNESS_DB"
APP_DIR = "compute-harness"
DB_NAME = "results.sqlite"

# --------------------------------------------------------------------------- keys


def _canonical(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        value = value.value
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", None) == 0:
        value = value.item()  # numpy / torch scalars
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (str, int, float)) or value is None:
        return value
    return str(value)


def run_key(**config: Any) -> str:
    """Deterministic short hash (16 hex digits) of a configuration.

    Keys are sorted; fields whose value is None are left out (so a field added later with a None
    default leaves old keys valid); booleans count as 0/1 and integral floats as integers.
    """
    canon = {k: _canonical(v) for k, v in config.items() if v is not None}
    blob = json.dumps(canon, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_key_for(row: Mapping[str, Any]) -> str:
    """The run_key of a row: :func:`run_key` of its :data:`CONFIG_FIELDS`, column defaults filled in."""
    config = {}
    for name in CONFIG_FIELDS:
        value = row.get(name)
        config[name] = _BY_NAME[name].default if value is None else value
    if config["source"] == f"zoo:{config['model']}":
        config["source"] = None  # the keys of zoo rows stay what they were before sources existed
    return run_key(**config)


@functools.lru_cache(maxsize=1)


def project_commit() -> str:
    """``git rev-parse --short HEAD`` of the project, '-dirty' if the tree has changes; else 'unknown'.

    Computed once per process: the code that runs is the code that was imported.
    """
    root = Path(str(importlib.resources.files("harness")))  # git finds the checkout from the package

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = bool(git("status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit or "unknown"


def provenance(device: Any = None, name: str | None = None) -> dict[str, Any]:
    """The provenance columns for a measurement made now, in this process, on ``device``.

    ``device`` (a torch.device or a string such as 'cuda:0' or 'cpu'): default CUDA if available,
    else CPU. ``name``: the device's name where the caller knows it (MPS, XPU, XLA); else the CUDA
    device name or the CPU model. Use as ``store.add({**provenance(device), **row})``.
    """
    try:
        import torch
    except ImportError:  # torch is a dependency; keep provenance usable without it
        torch = None

    if device is None:
        kind = "cuda" if torch is not None and torch.cuda.is_available() else "cpu"
        index = None
    else:
        kind = str(getattr(device, "type", device)).split(":")[0]
        index = getattr(device, "index", None)
        if index is None and ":" in str(device):
            index = int(str(device).split(":")[1])
    if name is not None:
        pass
    elif kind == "cuda" and torch is not None and torch.cuda.is_available():
        name = torch.cuda.get_device_name(torch.cuda.current_device() if index is None else index)
    else:
        name = cpu_name()

    return {
        "device_name": name,
        "device_kind": kind,
        "driver": driver_version(),
        "torch_version": torch.__version__ if torch is not None else "not installed",
        "cuda_version": torch.version.cuda if torch is not None else None,
        "hostname": socket.gethostname(),
        "project_commit": project_commit(),
        "utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "schema_version": schema.SCHEMA_VERSION,
        "python_version": platform.python_version(),
    }


# --------------------------------------------------------------------------- paths


def default_path() -> Path:
    """``$HARNESS_DB``, else ``$XDG_DATA_HOME/compute-harness/results.sqlite``,
    else ``~/.local/share/compute-harness/results.sqlite``."""
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg and Path(xdg).expanduser().is_absolute() else None
    if base is None:  # the XDG spec: unset, empty or relative means the default
        base = Path.home() / ".local" / "share"
    return base / APP_DIR / DB_NAME
