"""The layering of pyproject.toml's import-linter contracts holds.

A test rather than a separate lint step so that `make test` (and so CI) fails on a broken layer,
with import-linter's report, the offending import chain, as the failure message.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ADAPTERS = {"events", "files", "chat", "translations", "scheduler"}


def top_level_packages() -> set[str]:
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    return {
        d.name
        for d in ROOT.iterdir()
        if (d / "__init__.py").exists() and any(fnmatch.fnmatchcase(d.name, p) for p in include)
    }


def test_import_contracts_hold() -> None:
    assert LINT_IMPORTS.exists(), "import-linter is a dev dependency: pip install -e '.[dev]'"
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = PYPROJECT["tool"]["importlinter"]["contracts"]
    assert f"{len(contracts)} kept, 0 broken" in result.stdout  # every contract was checked


def test_every_package_is_in_the_import_graph() -> None:
    # A package left out of root_packages is invisible to every contract: importing graph from
    # it would pass unnoticed.
    assert set(PYPROJECT["tool"]["importlinter"]["root_packages"]) == top_level_packages()


def test_adapters_are_bound_by_the_adapter_contract() -> None:
    (contract,) = [
        c
        for c in PYPROJECT["tool"]["importlinter"]["contracts"]
        if c["id"] == "adapters-below-graph"
    ]
    assert set(contract["source_modules"]) == ADAPTERS
    assert top_level_packages() >= ADAPTERS
