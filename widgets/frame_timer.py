"""A screen's frame timer that draws a frame as soon as one is asked for, at most one per frame period.

Textual paints a screen from an interval timer it pauses after each frame and resumes on the next refresh.
After a pause that timer skips the ticks it missed and waits for the next one but one: a frame asked for
just after another waited one to two periods (8 to 17 ms at 120 frames a second), not the rest of one. An
agent who types `j` and `enter` together saw the cursor move at once and the conversation open 8 to 17 ms
after its work was done (bench/keys.py: open p50 20 ms, of which 8 waiting). Here a frame comes one period
after the last one at most, and at once when the last one is older: the same ceiling on frames a second,
no wait that buys nothing.

It replaces the private `_run` of Textual's `Timer` and its private `_update_timer` property on Screen
(Textual 8); tests/ui/test_frame_timer.py fails if either contract changes.
"""

from __future__ import annotations

from typing import Any

from textual._time import get_time, sleep
from textual.screen import UPDATE_PERIOD
from textual.timer import EventTargetGone, Timer


class FrameTimer(Timer):
    """Ticks when resumed, no sooner than one interval after its last tick."""

    async def _run(self) -> None:
        last_tick = float("-inf")
        count = 0
        while True:
            await self._active.wait()
            wait = last_tick + self._interval - get_time()
            if wait > 0:
                await sleep(wait)
                await self._active.wait()
            last_tick = get_time()
            count += 1
            try:
                await self._tick(next_timer=last_tick, count=count)
            except EventTargetGone:
                break


class QuickFrames:
    """Mixed into a Screen: its frames come from a FrameTimer."""

    _quick_frame_timer: FrameTimer | None = None

    @property
    def _update_timer(self) -> Timer:
        timer = self._quick_frame_timer
        if timer is None:
            screen: Any = self
            timer = FrameTimer(
                screen, UPDATE_PERIOD, name="screen_update", callback=screen._on_timer_update, pause=True
            )
            timer._start()
            screen._timers.add(timer)  # stopped with the screen's other timers
            self._quick_frame_timer = timer
        return timer
