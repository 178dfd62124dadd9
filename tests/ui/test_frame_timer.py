"""The workspace screen's frames (widgets/frame_timer.py): a frame asked for after a quiet moment is drawn at
once, one asked for just after another waits for the rest of one frame period only, never longer.

Textual's own timer, resumed after a pause, waited for the next tick but one: a frame asked 1 ms after the
last one came two periods later. The clock and the sleeps here are the test's: no timing of the machine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from app_harness import T0, make_app, seed, wait_for
from standardiste.widgets import frame_timer
from standardiste.widgets.frame_timer import FrameTimer
from textual.screen import UPDATE_PERIOD, Screen

PERIOD = 0.01


class _Target:
    """What a timer holds a weak reference to."""


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class _RecordingTimer(FrameTimer):
    """Ticks are recorded, and pause the timer as a screen's frame does (Screen._on_timer_update)."""

    ticks: list[float]

    async def _tick(self, *, next_timer: float, count: int) -> None:
        self.ticks.append(next_timer)
        self.pause()


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_frame_comes_at_once_after_a_quiet_moment_and_one_period_after_the_last_at_most(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = _Clock()
    monkeypatch.setattr(frame_timer, "get_time", clock.time)
    monkeypatch.setattr(frame_timer, "sleep", clock.sleep)
    target = _Target()
    timer = _RecordingTimer(target, PERIOD, pause=True)  # type: ignore[arg-type]
    timer.ticks = []
    timer._start()
    try:
        timer.resume()  # the first frame: nothing drawn before it
        await _settle()
        assert timer.ticks == [100.0] and clock.slept == []

        clock.now += 0.001  # asked 1 ms after the last frame: the rest of the period, 9 ms
        timer.resume()
        await _settle()
        assert clock.slept == [pytest.approx(PERIOD - 0.001)]
        assert timer.ticks[-1] == pytest.approx(100.0 + PERIOD)  # Textual's timer: 100.0 + 2 periods

        clock.now += 5.0  # after a quiet moment: at once
        timer.resume()
        await _settle()
        assert len(clock.slept) == 1
        assert timer.ticks[-1] == pytest.approx(105.0 + PERIOD)

        await _settle()  # paused: no frame nobody asked for
        assert len(timer.ticks) == 3
    finally:
        timer.stop()


async def test_the_workspace_screen_draws_its_frames_from_a_frame_timer(tmp_path: Path) -> None:
    """The contract the mixin relies on: Screen reads its timer through `_update_timer` and pauses it in
    `_on_timer_update`; frames still come (the queue shows its rows) through the replaced timer."""
    assert isinstance(Screen.__dict__["_update_timer"], property)
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        timer = app.workspace._update_timer
        assert isinstance(timer, FrameTimer)
        assert timer._interval == UPDATE_PERIOD
        assert timer in app.workspace._timers
        await pilot.press("j")
        await wait_for(lambda: app.workspace.queue.cursor == 1, pilot=pilot)
        await pilot.pause(0.1)
        assert not timer._active.is_set()  # paused again once its frame is drawn
