"""The model registry: every reference architecture the harness can build, by exact name.

Each family module of this package exports `ENTRIES`, a list of `Entry`; the registry collects
them all. `models` knows nothing of counting or timing. An entry builds its module on any
device (large models on "meta", where no memory is allocated) and makes example inputs.
"""

from __future__ import annotations

import importlib
import pkgutil

from models._entry import Entry, Facts, ModelInputError

__all__ = ["REGISTRY", "Entry", "Facts", "ModelInputError", "get"]


def _collect() -> dict[str, Entry]:
    registry: dict[str, Entry] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for entry in getattr(module, "ENTRIES", ()):
            if entry.name in registry:
                raise ValueError(f"two zoo entries are named {entry.name!r}")
            registry[entry.name] = entry
    return registry


REGISTRY: dict[str, Entry] = _collect()


def get(name: str) -> Entry:
    """The entry of that exact name, or an error listing the valid ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ModelInputError(f"unknown model {name!r}; choose one of: {', '.join(REGISTRY)}") from None
