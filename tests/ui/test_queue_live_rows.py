"""The queue's once-a-second tick repaints the rows whose texts moved, not every row (issue 16).

A repaint of all 45 rows each second cost 7 ms at 160×45, and a key typed in that moment waited behind it.
A wait under an hour shows its seconds and changes every second; an older one changes once a minute; a
collision (another agent opening a conversation) changes the owner column without the conversation changing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from app_harness import T0, Contact, make_app, seed, wait_for
from standardiste.backends.local import Workspace, default_agent
from standardiste.console.core.model import Channel
from standardiste.widgets.queue_list import QueueList


@pytest.fixture
def painted(monkeypatch: pytest.MonkeyPatch) -> dict[int, list[str]]:
    """Screen row → the texts drawn there, in order."""
    drawn: dict[int, list[str]] = {}
    render_line = QueueList.render_line

    def recording(self: QueueList, y: int) -> Any:
        strip = render_line(self, y)
        drawn.setdefault(y, []).append(strip.text)
        return strip

    monkeypatch.setattr(QueueList, "render_line", recording)
    return drawn


async def test_the_tick_repaints_only_the_rows_whose_clocks_moved(
    tmp_path: Path, painted: dict[int, list[str]]
) -> None:
    db = tmp_path / "workspace.db"
    young, old = seed(
        db,
        [
            Contact(Channel.EMAIL, "Young Waiter", "en", "Just arrived", age=30),
            Contact(Channel.EMAIL, "Old Waiter", "en", "Since this morning", age=7_230),
        ],
    )
    now = [T0]
    app = make_app(tmp_path, clock=lambda: now[0])
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(lambda: len(app.workspace.views["all"]) == 2, pilot=pilot)
        await pilot.pause()
        queue = app.workspace.queue
        row = {cid: queue.view.index_of(cid) for cid in (young, old)}
        assert "30s" in painted[row[young]][-1] and "2h00" in painted[row[old]][-1]

        painted.clear()
        app.workspace.tick()  # the clock did not move: nothing to repaint
        await pilot.pause()
        assert painted == {}

        now[0] += 1
        app.workspace.tick()
        await pilot.pause()
        assert set(painted) == {row[young]}, painted  # 31s; the old one still reads 2h00
        assert "31s" in painted[row[young]][-1]

        now[0] += 60
        painted.clear()
        app.workspace.tick()
        await pilot.pause()
        assert set(painted) == {row[young], row[old]}
        assert "1m31" in painted[row[young]][-1] and "2h01" in painted[row[old]][-1]

        painted.clear()
        bob = Workspace(db)  # another agent's console on the same file opens the old one
        bob.upsert_agent(default_agent("bob", "Bob"))
        bob.set_agent_activity("bob", viewing=old)
        await wait_for(lambda: "@bob" in (painted.get(row[old]) or [""])[-1], pilot=pilot)
        assert row[young] not in painted
