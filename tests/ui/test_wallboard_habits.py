"""The supervisor's first hour: the "For" column agrees with --json, esc does not end `supervise`, and the move
dialog names the customer, not an internal id."""

from __future__ import annotations

import time
from datetime import UTC
from pathlib import Path

from app_harness import wait_for
from standardiste.console.core.metrics import Activity, AgentStatus
from standardiste.console.core.model import Channel, Presence, State
from standardiste.console.ui.wallboard.app import WallboardApp
from standardiste.console.ui.wallboard.screen import WallboardScreen
from standardiste.widgets.wallboard_tiles import AgentTable
from test_wallboard import _seed_live, acting_host, supervisor_backend
from textual.widgets import Label, OptionList


def _agent(presence: Presence, *activities: Activity, since: float | None = 37.0) -> AgentStatus:
    return AgentStatus(
        id="ana",
        name="Ana",
        presence=presence,
        declared=Presence.AVAILABLE,
        reason="",
        since=since,
        activities=activities,
        load={},
        handled_today=0,
        aht_today=None,
        supervisor=False,
    )


def test_for_is_the_time_in_the_state_shown() -> None:
    old_mail = Activity("local:1", Channel.EMAIL, State.OPEN, "Refund", 7 * 3600 + 34 * 60)
    call = Activity("local:2", Channel.PHONE, State.CONNECTED, "Paket", 125.0)
    assert _agent(Presence.AVAILABLE, old_mail).for_seconds == 37.0  # not "7h34"
    assert _agent(Presence.BUSY, call, old_mail).for_seconds == 125.0  # on the call
    # The cells of one agent's row without a board around it: the table has no public per-row builder.
    cells = AgentTable._cells(_agent(Presence.AVAILABLE, old_mail), None)
    assert str(cells[2]) == "37s"
    # Never signed in on this workspace (a colleague of the history): not "offline for 0s", but unknown.
    never = _agent(Presence.OFFLINE, since=None)
    assert never.for_seconds is None
    assert str(AgentTable._cells(never, None)[2]) == "–"


async def test_esc_does_not_end_supervise_and_q_does(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    _seed_live(path, time.time())
    app = WallboardApp(supervisor_backend(path), tz=UTC, bell=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 4, pilot=pilot)
        await pilot.press("escape")
        await wait_for(lambda: any("q quits" in n.message for n in app.said), pilot=pilot)
        assert app.is_running and isinstance(app.screen, WallboardScreen)
        await pilot.press("q")
        await wait_for(lambda: not app.is_running, pilot=pilot)


async def test_the_move_dialog_names_the_customer_and_subject() -> None:
    from standardiste.widgets.wallboard_tiles import WaitingTable

    app = acting_host()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        waiting = app.screen.query_one(WaitingTable)
        order = [str(r.value) for r in waiting.rows]
        await pilot.press("w")
        waiting.move_cursor(row=order.index("local:1"))
        await pilot.press("m")
        await pilot.pause()
        assert app.screen.query(OptionList)
        title = str(app.screen.query(Label).first().render())
        assert "local:1" not in title and "Anna Müller" in title
