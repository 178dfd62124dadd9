"""The wallboard's telephony line: the phone queue as a backend's telephony counts it itself (the optional
`QueueFigures` capability, Zendesk Talk's current queue activity), read by `Hub.queue_figures` every few
seconds, shown sanitised, hidden when no backend counts it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app_harness import wait_for
from standardiste.backends.optional import QueueActivity
from standardiste.console.core.store import Store
from standardiste.console.ui.plain_ui import PlainNotify
from standardiste.console.ui.wallboard.screen import WallboardScreen
from textual.widgets import Static


class Host(PlainNotify):
    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options

    def on_mount(self) -> None:
        self.push_screen(WallboardScreen(Store(), now=lambda: 1_800_000_000.0, **self.options))


def line(app: Host) -> Static:
    return app.screen.query_one("#wb-telephony", Static)


async def test_talk_figures_are_shown_on_their_line_and_read_again() -> None:
    reads: list[int] = []
    waiting = [5]

    async def figures() -> Sequence[QueueActivity]:
        reads.append(1)
        return [QueueActivity("desk\x1b[31m", waiting[0], 3, 125.0, 45.0, 3)]

    app = Host(queue_figures=figures, queue_every=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            lambda: isinstance(app.screen, WallboardScreen) and "calls waiting" in str(line(app).render()),
            pilot=pilot,
        )
        shown = str(line(app).render())
        assert not line(app).has_class("-empty")
        assert "desk" in shown and "\x1b" not in shown
        assert "5 calls waiting · 3 callbacks · longest 2m05 · average 45s · 3 agents online" in shown
        waiting[0] = 7  # the queue grows: the next read shows it
        await wait_for(lambda: "7 calls waiting" in str(line(app).render()), pilot=pilot)
        assert len(reads) >= 2


async def test_no_telephony_figures_leave_the_line_hidden_and_a_failure_is_said() -> None:
    async def none() -> Sequence[QueueActivity]:
        return []

    app = Host(queue_figures=none)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: isinstance(app.screen, WallboardScreen), pilot=pilot)
        await pilot.pause(0.1)
        assert line(app).has_class("-empty") and not line(app).display

    async def broken() -> Sequence[QueueActivity]:
        raise RuntimeError("talk stats \x07 broke")

    app = Host(queue_figures=broken)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            lambda: isinstance(app.screen, WallboardScreen) and "broke" in str(line(app).render()),
            pilot=pilot,
        )
        assert "telephony figures: talk stats" in str(line(app).render()) and "\x07" not in str(
            line(app).render()
        )
