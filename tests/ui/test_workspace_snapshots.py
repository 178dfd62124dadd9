"""Screens of the workspace at 80×24 and 160×50, with a fixed clock and fixed data."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from app_harness import T0, make_app, seed, wait_for

# Times on screen are local times: pin the zone so the snapshots match on every machine.
os.environ["TZ"] = "UTC"
time.tzset()


def _app(tmp_path: Path):  # type: ignore[no-untyped-def]
    seed(tmp_path / "workspace.db")
    return make_app(tmp_path, clock=lambda: T0)


async def _loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_for(lambda: len(pilot.app.store.conversations) == 8, pilot=pilot)
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
def test_queue(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=_loaded)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
def test_open_email(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def open_email(pilot) -> None:  # type: ignore[no-untyped-def]
        await _loaded(pilot)
        await pilot.press("4", "enter")
        await pilot.pause(0.5)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_email)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
def test_ringing_call(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def open_call(pilot) -> None:  # type: ignore[no-untyped-def]
        await _loaded(pilot)
        await pilot.press("2", "enter")
        await pilot.pause(0.5)

    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=open_call)


def test_help_80x24(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def help_screen(pilot) -> None:  # type: ignore[no-untyped-def]
        await _loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.3)

    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=help_screen)
