"""Command-line habits a power user expects in the first hour (issue 18): --version, a --db typo refused,
a missing scenario file in one line, config mistakes named, TERM=dumb without colour."""

from __future__ import annotations

import tomllib
from importlib.metadata import version as distribution_version
from pathlib import Path

import pytest
import standardiste
from standardiste.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flag_prints_the_version(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([flag])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"standardiste {distribution_version('standardiste')}"


def test_fallback_version_is_pyprojects() -> None:
    """A source tree run without installing reports the package's __version__: it must not drift."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert standardiste.__version__ == project["version"]


def test_help_says_where_the_log_is(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = tmp_path / "here.log"
    monkeypatch.setenv("STANDARDISTE_LOG", str(log))
    with pytest.raises(SystemExit):
        main(["--help"])
    assert str(log) in capsys.readouterr().out
