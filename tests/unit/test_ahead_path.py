"""Which workspace file the console reads ahead in a second process at its start (`__main__.ahead_path`): the
one it will open, whether named by `--db` or the default one, and none when the config decides otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from standardiste.__main__ import _db, ahead_path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STANDARDISTE_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("STANDARDISTE_DATA", str(tmp_path / "data"))
    return tmp_path


def test_the_default_workspace_is_read_ahead_when_the_config_names_none(home: Path) -> None:
    assert ahead_path([]) == home / "data" / "workspace.db"
    (home / "config.toml").write_text('agent = "alice"\ntheme = "standardiste-light"\n', encoding="utf-8")
    assert ahead_path(["--agent", "alice"]) == home / "data" / "workspace.db"
    # The very file the console opens (the prefetch is claimed by the resolved path).
    assert ahead_path([]).resolve() == Path(_db(None)).resolve()  # type: ignore[union-attr]


def test_a_config_with_workspaces_or_unreadable_is_left_to_the_console(home: Path) -> None:
    (home / "config.toml").write_text('[workspaces.mail]\nkind = "imap"\n', encoding="utf-8")
    assert ahead_path([]) is None
    (home / "config.toml").write_text("agent = \n", encoding="utf-8")  # not TOML: the console says why
    assert ahead_path([]) is None
    other = home / "other.toml"
    other.write_text('agent = "bob"\n', encoding="utf-8")
    assert ahead_path(["--config", str(other)]) == home / "data" / "workspace.db"
    assert ahead_path([f"--config={home / 'config.toml'}"]) is None


def test_a_named_file_is_read_ahead_whatever_the_config(home: Path) -> None:
    (home / "config.toml").write_text('[workspaces.mail]\nkind = "imap"\n', encoding="utf-8")
    assert ahead_path(["--db", "~/team.db"]) == Path("~/team.db").expanduser()
    assert ahead_path(["--db=/srv/w.db", "--agent", "a"]) == Path("/srv/w.db")


@pytest.mark.parametrize(
    "argv",
    [
        ["--db", "postgresql://team@db.example/ws"],
        ["--demo"],
        ["search", "refund"],
        ["simulate", "--db", "x.db"],
        ["--help"],
    ],
)
def test_nothing_is_read_ahead_for_a_server_the_demo_or_a_subcommand(home: Path, argv: list[str]) -> None:
    assert ahead_path(argv) is None
