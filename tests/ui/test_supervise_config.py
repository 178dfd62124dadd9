"""`standardiste supervise` reads the same config file as the console and says what in it nothing uses (a
mistyped key, a theme that does not exist, a [keys] entry naming no binding): a plain toast naming the file,
and a line in the log, as the console does at start. Pilot over a real workspace file."""

from __future__ import annotations

import logging
import time
from datetime import UTC
from pathlib import Path

import pytest
from app_harness import wait_for
from standardiste.console.core.config import load_config
from standardiste.console.ui.wallboard.app import WallboardApp
from test_wallboard import _seed_live, supervisor_backend

CONFIG = """agent = "sup"
supervisor = true
theme = "neon"
undo_second = 3
"[bold]loud[/bold]" = 1

[keys]
"work.nonesuch" = "f9"
"""


async def test_supervise_warns_about_the_config_in_a_toast_and_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "workspace.db"
    _seed_live(path, time.time())
    config_path = tmp_path / "config.toml"
    config_path.write_text(CONFIG, encoding="utf-8")
    app = WallboardApp(supervisor_backend(path), tz=UTC, bell=False, config=load_config(config_path))
    caplog.set_level(logging.WARNING)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 4, pilot=pilot)
        said = [n for n in app.said if n.title == "Config"]
        messages = [n.message for n in said]
        for name in ("'undo_second'", "'neon'", "'work.nonesuch'", "'[bold]loud[/bold]'"):
            assert any(name in m and str(config_path) in m for m in messages), (name, messages)
            assert any(name in r.getMessage() and str(config_path) in r.getMessage() for r in caplog.records)
        assert all(n.severity == "warning" for n in said)  # and plain: the key's [bold] is shown as typed
        assert app.is_running
