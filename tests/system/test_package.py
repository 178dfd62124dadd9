"""The installed package: both ways of starting it, and adapter discovery that imports no adapter.

Everything runs in a child process from a directory outside the repository, with its own config and data
directories, as a user would run it after `pip install`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SUBCOMMANDS = ("simulate", "supervise", "backends", "login")
CONSOLE_SCRIPT = Path(sys.executable).parent / "standardiste"


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # Nothing of the developer's own config or data may change what the command prints.
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        NO_COLOR="1",
    )
    return subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


def assert_usage(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout.lower()
    for name in SUBCOMMANDS:
        assert name in result.stdout, f"{name!r} missing from the usage:\n{result.stdout}"


def test_python_dash_m_prints_usage_with_the_subcommands(tmp_path: Path) -> None:
    assert_usage(run([sys.executable, "-m", "standardiste", "--help"], tmp_path))


def test_the_console_script_prints_usage_with_the_subcommands(tmp_path: Path) -> None:
    assert CONSOLE_SCRIPT.is_file(), f"no console script at {CONSOLE_SCRIPT}"
    assert_usage(run([str(CONSOLE_SCRIPT), "--help"], tmp_path))


@pytest.mark.parametrize("subcommand", SUBCOMMANDS)
def test_each_subcommand_has_its_help(subcommand: str, tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "standardiste", subcommand, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout.lower() and subcommand in result.stdout


def test_the_backends_subcommand_lists_the_local_workspace(tmp_path: Path) -> None:
    result = run([sys.executable, "-m", "standardiste", "backends"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "local" in result.stdout


LISTING = """
import json, sys
from standardiste.backends.base import available_backends, load_backend_class
from standardiste.backends.base import Invalid
found = available_backends()
report = {
    "names": sorted(found),
    "value": found["local"].value if "local" in found else None,
    "imported_after_listing": sorted(m for m in sys.modules if m.startswith("standardiste.backends.local")),
}
cls = load_backend_class("local")
report["loaded"] = f"{cls.__module__}.{cls.__qualname__}"
report["imported_after_loading"] = "standardiste.backends.local" in sys.modules
try:
    load_backend_class("no-such-backend")
except Invalid as error:
    report["unknown"] = str(error)
print(json.dumps(report))
"""


def test_listing_backends_imports_none_of_them(tmp_path: Path) -> None:
    result = run([sys.executable, "-c", LISTING], tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "local" in report["names"]
    assert report["value"] == "standardiste.backends.local:LocalBackend"
    assert report["imported_after_listing"] == []
    # Loading one by name is what imports it, and it is the adapter class.
    assert report["loaded"] == "standardiste.backends.local.backend.LocalBackend"
    assert report["imported_after_loading"] is True
    assert "no-such-backend" in report["unknown"] and "local" in report["unknown"]
