"""Screens of the workspace at 80×24 and 160×50, with a fixed clock and fixed data."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from app_harness import T0, make_app, seed, wait_for, wait_for_screen
from standardiste.console.ui.help_screen import HelpScreen
from standardiste.console.ui.workspace_screen import NARROW
from standardiste.widgets.transcript import Transcript

# Times on screen are local times: pin the zone so the snapshots match on every machine.
os.environ["TZ"] = "UTC"
time.tzset()


def _app(tmp_path: Path):  # type: ignore[no-untyped-def]
    seed(tmp_path / "workspace.db")
    return make_app(tmp_path, clock=lambda: T0)


async def _loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    # The eight rows in the list, and the agent (the status line's presence) known: what the queue shows.
    await wait_for(
        lambda: app.hub_ready and len(app.workspace.views["all"]) == 8 and app.me in app.store.agents,
        pilot=pilot,
    )


async def _opened(pilot) -> None:  # type: ignore[no-untyped-def]
    """The conversation under the cursor open, its history in the transcript."""
    workspace = pilot.app.workspace
    await wait_for(
        lambda: workspace.open_id is not None and workspace.open_id == workspace.queue.cursor_id, pilot=pilot
    )
    await pilot.app.workers.wait_for_complete()  # the history and the customer card are fetched in workers
    assert workspace.query_one(Transcript).messages


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
def test_queue(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def queue_shown(pilot) -> None:  # type: ignore[no-untyped-def]
        await _loaded(pilot)
        if size[0] >= NARROW:  # wide: the detail follows the cursor a moment later (`on_queue_list_highlighted`)
            await _opened(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=queue_shown)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
def test_open_email(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def open_email(pilot) -> None:  # type: ignore[no-untyped-def]
        await _loaded(pilot)
        await pilot.press("4", "enter")
        await _opened(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_email)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
def test_ringing_call(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def open_call(pilot) -> None:  # type: ignore[no-untyped-def]
        await _loaded(pilot)
        await pilot.press("2", "enter")
        await _opened(pilot)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_call)


def test_help_80x24(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def help_screen(pilot) -> None:  # type: ignore[no-untyped-def]
        await _loaded(pilot)
        await pilot.press("question_mark")
        await wait_for_screen(pilot.app, HelpScreen, pilot)

    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=help_screen)
