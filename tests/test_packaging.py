"""Shipped data: every data file in the packages is declared as package data, and an installed
(non-editable) copy reads its tables through importlib.resources from outside the repository."""

from __future__ import annotations

import csv
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("harness", "models")  # the top-level packages pyproject ships
CODE_SUFFIXES = {".py", ".pyc", ".pyi"}


def _declared() -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["setuptools"]["package-data"]


def _data_files() -> dict[str, list[str]]:
    """package -> data files directly in it (what a package-data pattern must cover)."""
    found: dict[str, list[str]] = {}
    for top in PACKAGES:
        for file in sorted((ROOT / top).rglob("*")):
            if not file.is_file() or file.suffix in CODE_SUFFIXES or "__pycache__" in file.parts:
                continue
            package = ".".join(file.parent.relative_to(ROOT).parts)
            found.setdefault(package, []).append(file.name)
    return found


def test_every_data_file_in_the_packages_is_declared():
    declared = _declared()
    data = _data_files()
    assert data, "the walk found no data files (peaks.csv at least should be there)"
    undeclared = [
        f"{package}/{name}"
        for package, names in data.items()
        for name in names
        if not any(fnmatch.fnmatch(name, pattern) for pattern in declared.get(package, []))
    ]
    assert undeclared == [], f"add these to [tool.setuptools.package-data] in pyproject.toml: {undeclared}"


def test_every_declared_pattern_matches_a_file():
    """A stale pattern (a table renamed or moved) would ship nothing and fail only once installed."""
    data = _data_files()
    stale = [
        f"{package}: {pattern}"
        for package, patterns in _declared().items()
        for pattern in patterns
        if not any(fnmatch.fnmatch(name, pattern) for name in data.get(package, []))
    ]
    assert stale == []


_READER = r"""
import json, sys
from importlib import resources
import harness, harness.hardware
from harness.hardware import load_table, resolve
declared = json.loads(sys.argv[1])
readable = {}
for package, names in declared.items():
    for name in names:
        readable[f"{package}/{name}"] = len(resources.files(package).joinpath(name).read_bytes())
print(json.dumps({
    "harness": harness.__file__,
    "rows": len(load_table()),
    "a100_bf16": resolve("NVIDIA A100").peak("bf16"),
    "torch": "torch" in sys.modules,
    "readable": readable,
}))
"""


@pytest.mark.skipif(shutil.which("pip") is None and not Path(sys.executable).with_name("pip").exists(),
                    reason="pip is not available")
def test_a_non_editable_install_reads_the_peak_table_from_outside_the_repository(tmp_path):
    source = tmp_path / "src"  # build from a copy: the build leaves nothing in the checkout
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for top in PACKAGES:
        shutil.copytree(ROOT / top, source / top, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # only data matched by the declared patterns is in the wheel: each declared file must be there
    declared = {p: [n for n in _data_files().get(p, []) if any(fnmatch.fnmatch(n, g) for g in globs)]
                for p, globs in _declared().items()}
    away = tmp_path / "elsewhere"  # neither the repository nor the copy is on the path or the cwd
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(site)
    run = subprocess.run(
        [sys.executable, "-c", _READER, json.dumps(declared)],
        cwd=away, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(got["harness"]).is_relative_to(site)  # the installed copy, not the checkout
    with (ROOT / "harness" / "hardware" / "peaks.csv").open(newline="", encoding="utf-8") as f:
        assert got["rows"] == sum(1 for _ in csv.DictReader(f))
    assert got["a100_bf16"] == 312e12  # A100 datasheet: 312 TFLOPS dense BF16
    assert not got["torch"]  # reading the table loads no torch in an installed copy either
    sizes = {f"{p}/{n}": (ROOT / p.replace(".", "/") / n).stat().st_size for p, ns in declared.items() for n in ns}
    assert got["readable"] == sizes
