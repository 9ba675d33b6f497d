"""Layer rules: what each layer loads when imported, and that no lower layer imports a higher one.

Two checks, over whatever modules each package holds today (the packages are walked, not listed):

* at run time, in a fresh interpreter per layer: importing every module of a pure layer
  (`harness`, `harness.hardware`, `harness.analytic`, `harness.estimate`) leaves torch out of
  `sys.modules`, and importing a layer loads none of the layers it must not know;
* in the source: no module of a layer names a forbidden layer in any import statement, at module
  level or inside a function (a lazy import still points the wrong way).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# layer -> packages it must never import (DESIGN.md: everything flows one way)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "harness.conventions": ("torch", "models", "harness.counting", "harness.measure", "harness.estimate",
                            "harness.store", "harness.report", "harness.cli"),
    "harness.hardware": ("torch", "models", "harness.counting", "harness.measure", "harness.estimate",
                         "harness.store", "harness.report", "harness.cli"),
    "harness.analytic": ("torch", "models", "harness.counting", "harness.measure", "harness.estimate",
                         "harness.store", "harness.report", "harness.cli"),
    "models": ("harness.counting", "harness.measure", "harness.estimate", "harness.store", "harness.report",
               "harness.cli"),
    "harness.counting": ("harness.measure", "harness.estimate", "harness.store", "harness.report", "harness.cli"),
    "harness.measure": ("harness.estimate", "harness.report", "harness.cli"),
    "harness.estimate": ("torch", "models", "harness.counting", "harness.measure", "harness.cli"),
}
# layers whose every module must import without torch
TORCH_FREE = ("harness", "harness.hardware", "harness.analytic", "harness.estimate")


def _modules(package: str) -> list[str]:
    """Every module of a package (or the one module), found on disk under the repository root."""
    path = ROOT.joinpath(*package.split("."))
    if path.with_suffix(".py").is_file():
        return [package]
    if not (path / "__init__.py").is_file():
        return []
    found = []
    for file in sorted(path.rglob("*.py")):
        rel = file.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        if all((ROOT.joinpath(*parts[:i]) / "__init__.py").is_file() for i in range(1, len(parts))):
            found.append(".".join(parts))
    return found


def _source_file(module: str) -> Path:
    path = ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _imported_names(module: str) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import statement in a module's source."""
    file = _source_file(module)
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    package = module if file.name == "__init__.py" else module.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.append((node.lineno, name))
            out.extend((node.lineno, f"{name}.{alias.name}") for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            out.append((node.lineno, node.args[0].value))
    return out


def _is_under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _in_layer(module: str, layer: str) -> bool:
    return _is_under(module, layer)


def test_the_walk_finds_the_layers():
    """The checks below run over real modules: each layer exists and is walked (a typo would pass silently)."""
    for layer in FORBIDDEN:
        assert _modules(layer), layer
    assert "harness.estimate.dataset" in _modules("harness.estimate")
    assert "harness.hardware.table" in _modules("harness.hardware")
    assert "harness.analytic.families.gpt" in _modules("harness.analytic")


def test_the_import_scan_sees_imports_inside_functions():
    """The source scan's own check: analytic/__init__.py imports `families` inside _collect()."""
    names = {n for _, n in _imported_names("harness.analytic")}
    assert {"harness.analytic.breakdown", "harness.analytic.families", "importlib", "pkgutil"} <= names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_a_higher_one_in_its_source(layer):
    bad = []
    for module in _modules(layer):
        for line, name in _imported_names(module):
            for forbidden in FORBIDDEN[layer]:
                if _is_under(name, forbidden) and not _in_layer(name, layer):
                    bad.append(f"{_source_file(module).relative_to(ROOT)}:{line} imports {name}")
    assert bad == [], "\n".join(bad)


_ENV = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout wins over any installed copy
_PROBE = r"""
import importlib, json, sys
found = {}
for name in sys.argv[1:]:
    before = set(sys.modules)
    importlib.import_module(name)
    found[name] = sorted(set(sys.modules) - before)
print(json.dumps(found))
"""


def _import_in_fresh_interpreter(modules: list[str]) -> dict[str, list[str]]:
    """Import the modules in order in one new interpreter; per module, what its import added."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=_ENV,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("layer", TORCH_FREE)
def test_pure_layers_load_no_torch(layer):
    modules = [layer] if layer == "harness" else _modules(layer)
    added = _import_in_fresh_interpreter(modules)
    loaded_torch = [m for m, new in added.items() if "torch" in new]
    assert loaded_torch == [], f"these modules load torch: {loaded_torch}"


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_importing_a_layer_loads_no_higher_layer(layer):
    added = _import_in_fresh_interpreter(_modules(layer))
    bad = {
        module: sorted(n for n in new if any(_is_under(n, f) for f in FORBIDDEN[layer]) and not _in_layer(n, layer))
        for module, new in added.items()
    }
    assert {m: v for m, v in bad.items() if v} == {}


def test_count_flops_still_imports_from_the_top():
    """`import harness` is lazy, yet `from harness import count_flops` works and brings the engine."""
    probe = (
        "import sys, harness; assert 'torch' not in sys.modules; "
        "from harness import count_flops, FlopCount; import harness.counting.api as api; "
        "assert count_flops is api.count_flops and harness.count_flops is count_flops; "
        "assert 'torch' in sys.modules; "
        "assert not hasattr(harness, 'no_such_name'); "
        "print('ok')"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=_ENV,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
