"""The demo's colleagues take their share of the traffic through the routing rules, and leave work for the
person at the keyboard: a plausible contact centre, not 94% abandonment after a few minutes."""

from __future__ import annotations

from pathlib import Path

from standardiste.backends.local import Workspace
from standardiste.backends.local.simulator.colleagues import Colleagues
from standardiste.backends.local.simulator.engine import Simulator
from standardiste.console.core.model import Channel, Customer, Presence


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_colleagues_answer_the_simulated_customers_and_the_board_stays_plausible(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    clock = Clock(1_764_000_000.0)
    simulator = Simulator(db, rate=12.0, seed=7, clock=clock)  # the demo's default rate
    simulator.backfill(50, hours=2.0, now=clock.t)
    ws = Workspace(db, clock=clock)
    colleagues = Colleagues(db, seed=7)
    colleagues.come_in(ws)
    assert {a.id for a in ws.agents() if a.presence is Presence.AVAILABLE} >= {"sim-amelie", "sim-jonas"}
    start = clock.t
    for _ in range(20 * 60 * 2):  # twenty minutes, every half second
        clock.t += 0.5
        simulator.step(clock.t)
        colleagues.step(ws, clock.t)
    rows = ws.db.execute(
        "SELECT channel, state, assignee, created_at FROM conversations WHERE created_at > ?", (start,)
    ).fetchall()
    live = [r for r in rows if r[0] in ("phone", "chat")]
    abandoned = [r for r in live if r[1] == "abandoned"]
    handled_by_colleagues = [r for r in rows if (r[2] or "").startswith("sim-")]
    assert len(rows) > 150  # 12 a minute
    assert len(handled_by_colleagues) > len(rows) / 3
    assert colleagues.handled > 100
    # Most callers are answered: before, every live contact waited for the one agent trying the demo.
    print(f"\n{len(rows)} contacts, {len(handled_by_colleagues)} by colleagues, {len(abandoned)} of {len(live)} live abandoned")
    assert len(abandoned) < len(live) / 3, (len(abandoned), len(live))
    # And work still waits for the person at the keyboard.
    assert any(r[2] is None and r[1] in ("new", "ringing", "waiting", "requested") for r in rows)
    # What the backfill left in their hands (a call "connected" since the morning) is finished too.
    stale = ws.db.execute(
        "SELECT id, state FROM conversations WHERE created_at <= ? AND assignee LIKE 'sim-%' "
        "AND state IN ('connected', 'on_hold', 'active', 'wrap_up', 'open')",
        (start,),
    ).fetchall()
    assert stale == []
    colleagues.leave(ws)
    assert not [a for a in ws.agents() if a.id.startswith("sim-") and a.presence is not Presence.OFFLINE]
    ws.close()
    simulator.close()


def test_the_person_at_the_keyboard_has_the_first_pick(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    clock = Clock(1_764_000_000.0)
    simulator = Simulator(db, rate=0.0, seed=1, clock=clock)
    simulator.backfill(5, hours=1.0, now=clock.t)
    ws = Workspace(db, clock=clock)
    ws.db.execute("UPDATE conversations SET state = 'ended', closed_at = ? WHERE closed_at IS NULL", (clock.t,))
    ws.db.commit()
    colleagues = Colleagues(db, seed=1, first_pick=12.0)
    colleagues.come_in(ws)
    call = ws.create_conversation(
        channel=Channel.PHONE, customer=Customer("c1", "Claire", "fr"), subject="colis", created_at=clock.t
    )
    for _ in range(20):  # ten seconds: it rings for you
        clock.t += 0.5
        colleagues.step(ws, clock.t)
    assert ws.require(call).assignee is None
    for _ in range(60):  # then a colleague answers it
        clock.t += 0.5
        colleagues.step(ws, clock.t)
    assert (ws.require(call).assignee or "").startswith("sim-")
    ws.close()
    simulator.close()
