"""The walls of the layout (pyproject's import-linter contracts, run by `make lint`) hold, and they bite.

`lint-imports` runs over the package as it is, then over copies of it with one deliberate violation each: core
importing Textual, a widget calling an adapter, a backend importing a screen, a cycle inside core. Each copy must
fail on the contract that names that wall. A last check walks the whole import graph (type-checking imports
included) for cycles between modules, inside a package or across packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")
SKIPPED = {"tests", "bench", ".venv", "build", "__pycache__", ".git"}


def _copy_package(to: Path) -> Path:
    """The package's Python files (not tests, not benchmarks) under `to/standardiste`, and its pyproject."""
    package = to / "standardiste"
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if SKIPPED & set(relative.parts):
            continue
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, package / relative)
    shutil.copyfile(ROOT / "pyproject.toml", to / "pyproject.toml")
    return package


def _lint(where: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first: the copy, not the installed (editable) package, is what grimp reads.
    env = {**os.environ, "PYTHONPATH": str(where)}
    return subprocess.run(
        [str(LINT), "--config", str(where / "pyproject.toml"), "--no-cache"],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_package_keeps_every_wall(tmp_path: Path) -> None:
    _copy_package(tmp_path)
    done = _lint(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


VIOLATIONS = {
    "core imports textual": (
        "console/core/model.py",
        "import textual.app  # noqa\n",
        "core decides without Textual, screens, widgets or a concrete adapter",
    ),
    "core imports the local adapter": (
        "console/core/sla.py",
        "from ...backends.local import rows  # noqa\n",
        "core decides without Textual, screens, widgets or a concrete adapter",
    ),
    "a widget calls an adapter": (
        "widgets/queue_list.py",
        "from ..backends.imap import settings  # noqa\n",
        "widgets draw core types and never call an adapter or a screen",
    ),
    "a backend imports a screen": (
        "backends/local/commands.py",
        "from ...console.ui import dialogs  # noqa\n",
        "backends know no screen and no widget",
    ),
    "a cycle inside core": (
        "console/core/erlang.py",
        "from . import metrics  # noqa\n",
        "no import cycles inside a package",
    ),
}


@pytest.mark.parametrize("violation", list(VIOLATIONS), ids=list(VIOLATIONS))
def test_a_deliberate_violation_breaks_its_wall(tmp_path: Path, violation: str) -> None:
    relative, line, contract = VIOLATIONS[violation]
    target = _copy_package(tmp_path) / relative
    target.write_text(target.read_text(encoding="utf-8") + "\n" + line, encoding="utf-8")
    done = _lint(tmp_path)
    assert done.returncode != 0, done.stdout
    assert f"{contract} BROKEN" in done.stdout, done.stdout


def test_no_module_imports_itself_back() -> None:
    """No cycle between any two modules, counting imports made only for type checking."""
    graph = grimp.build_graph("standardiste", exclude_type_checking_imports=False)
    cycles = []
    for module in sorted(graph.modules):
        if not module.startswith("standardiste") or ".tests" in module:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("standardiste") and graph.chain_exists(importer=imported, imported=module):
                chain = graph.find_shortest_chain(importer=imported, imported=module)
                cycles.append(f"{module} -> {' -> '.join(chain or ())}")
    assert cycles == []
