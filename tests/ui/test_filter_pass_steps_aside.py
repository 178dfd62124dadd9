"""A filter pass over a big queue makes no step while a key just read is on its way (issue 16).

A letter crosses a few turns of the event loop before its handler runs; a 2 ms slice of the pass in each
turn made every letter typed in the prompt wait 6 ms before the app saw it (15 ms to its echo at 100k).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from app_harness import T0, make_app, seed, wait_for
from standardiste.console.ui import filtering
from standardiste.console.ui.terminal_keys import KEYS_READ, EscPrefixParser


async def test_a_pass_waits_while_keys_are_being_read_and_then_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        passes = app.workspace.filtering
        monkeypatch.setattr(KEYS_READ, "at", time.monotonic() + 3600)  # keys "just read" all along
        passes._start("lang:es")
        await pilot.pause(0.2)
        running = passes._pass
        assert running is not None and not running.done  # not one step while keys arrive
        monkeypatch.setattr(KEYS_READ, "at", 0.0)
        await wait_for(lambda: passes._pass is None, pilot=pilot)
        assert len(app.workspace.views["all"]) == 1  # María García, the one Spanish speaker
        assert filtering._KEY_GRACE <= 0.05  # a pass stands aside for a key, not for a pause in typing


def test_the_parser_notes_when_the_terminal_sent_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(KEYS_READ, "at", 0.0)
    parser = EscPrefixParser()
    assert not KEYS_READ.within(1.0)
    list(parser.feed("j"))
    assert KEYS_READ.within(1.0)
