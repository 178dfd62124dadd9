"""The wallboard screen (Pilot and snapshots at 80×24 and 200×60), acting, the standalone app over a real
workspace file, and the `supervise --json` printer."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from app_harness import stays, wait_for
from standardiste.backends.base import (
    Assign,
    Command,
    CommandKind,
    SetPresence,
    SetSkills,
    Snapshot,
    Transfer,
)
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.console.core.config import Config
from standardiste.console.core.model import (
    Agent,
    Channel,
    Conversation,
    CsatRecord,
    Customer,
    Presence,
    Priority,
    Skills,
    State,
    WrapUpRecord,
)
from standardiste.console.core.skills_text import format_skills, parse_skills
from standardiste.console.core.store import Store
from standardiste.console.core.wallboard_json import print_json
from standardiste.console.ui.plain_ui import PlainNotify
from standardiste.console.ui.wallboard.app import WallboardApp
from standardiste.console.ui.wallboard.screen import WallboardScreen
from standardiste.widgets.wallboard_tiles import AgentTable, ChannelTile, CommentList, WaitingTable
from textual.widgets import Input, OptionList

POLL_INTERVAL = 0.05
# A record delivered twice (by the load and by an event) would be in the store within a few polls.
A_DUPLICATE_WOULD_SHOW = 6 * POLL_INTERVAL


def supervisor_backend(path: Path) -> LocalBackend:
    """What `standardiste supervise` builds: the workspace seen without joining the routing pool."""
    return LocalBackend(path, register=False, agent_id="sup", poll_interval=POLL_INTERVAL)


NOW = datetime(2026, 3, 4, 14, 0, tzinfo=UTC).timestamp()  # a Wednesday afternoon; the day began at 00:00 UTC
P, C, E = Channel.PHONE, Channel.CHAT, Channel.EMAIL


def contact(
    n: int,
    channel: Channel,
    state: State,
    age: float,
    *,
    answer_after: float | None = None,
    closed_after: float | None = None,
    assignee: str | None = None,
    queue: str = "general",
    language: str = "fr",
    name: str = "",
    subject: str = "",
) -> Conversation:
    created = NOW - age
    answered = created + answer_after if answer_after is not None else None
    live = channel in (P, C)
    return Conversation(
        id=f"local:{n}",
        channel=channel,
        state=state,
        subject=subject or f"Commande {1000 + n}",
        customer_id=f"cust-{n}",
        customer_name=name or f"Client {n}",
        language=language,
        created_at=created,
        updated_at=answered or created,
        queue=queue,
        assignee=assignee,
        answered_at=answered if live else None,
        first_response_at=None if live else answered,
        closed_at=created + closed_after if closed_after is not None else None,
        last_customer_at=created,
    )


def afternoon() -> tuple[list[Conversation], list[Agent], list[WrapUpRecord], list[CsatRecord]]:
    """A fixed busy afternoon: calls waiting too long (alerts), chats, an email backlog, CSAT with comments."""
    conversations: list[Conversation] = []
    # Through the day: calls every 20 minutes from 01:00, answered after 5..65 s, 5 minutes each.
    for k in range(39):
        age = 13 * 3600 - k * 1200
        conversations.append(
            contact(
                100 + k, P, State.ENDED, age, answer_after=5 + (k * 7) % 61, closed_after=300, language="fr"
            )
        )
    conversations += [
        contact(1, P, State.QUEUED, 95, name="Anna Müller", subject="Paket nicht angekommen", language="de"),
        contact(2, P, State.RINGING, 12, name="Jean Dupont", subject="Où est mon colis ?"),
        contact(3, P, State.CONNECTED, 400, answer_after=30, assignee="ana", subject="Remboursement"),
        contact(4, P, State.ABANDONED, 600, closed_after=70),
        contact(5, P, State.ABANDONED, 500, closed_after=90),
        contact(6, C, State.WAITING, 40, name="Emma de Vries", subject="Bestelling wijzigen", language="nl"),
        contact(7, C, State.ACTIVE, 900, answer_after=8, assignee="bea", subject="Taille du pull"),
        contact(8, C, State.ACTIVE, 300, answer_after=12, assignee="bea", subject="Code promo"),
        contact(9, C, State.ENDED, 3000, answer_after=20, closed_after=600),
        contact(10, E, State.NEW, 1800, queue="returns", subject="Retour article abîmé"),
        contact(11, E, State.NEW, 3 * 3600, queue="returns", language="en", name="John Smith"),
        contact(12, E, State.OPEN, 30 * 3600, queue="returns", assignee="ana", subject="Facture"),
        contact(13, E, State.SOLVED, 5 * 3600, answer_after=3600, closed_after=4000, queue="billing"),
        contact(14, Channel.CALLBACK, State.REQUESTED, 600, subject="Rappel: livraison"),
    ]
    skills = Skills(channels={P: 2, C: 2, E: 1}, languages=("fr", "en", "de"))
    agents = [
        Agent("ana", "Ana Lopez", skills, Presence.AVAILABLE, presence_since=NOW - 3 * 3600),
        Agent("bea", "Béatrice Roy", skills, Presence.AVAILABLE, presence_since=NOW - 2 * 3600),
        Agent("cyril", "Cyril Petit", skills, Presence.AVAILABLE, presence_since=NOW - 600),
        Agent("dina", "Dina Haddad", skills, Presence.AWAY, "lunch", NOW - 1500),
        Agent("eli", "Eli Martin", Skills(channels={E: 1}), Presence.WRAP_UP, presence_since=NOW - 45),
        Agent("fanny", "Fanny Morel", skills, Presence.OFFLINE, presence_since=NOW - 8 * 3600),
    ]
    wrapups = [
        WrapUpRecord(
            f"local:{100 + k}",
            "ana" if k % 2 else "bea",
            "resolved",
            "",
            NOW - 13 * 3600 + k * 1200 + 300,
            240.0 + k,
        )
        for k in range(40)
    ]
    csat = [
        CsatRecord("local:101", P, 5, "Très rapide, merci", NOW - 6 * 3600, "ana"),
        CsatRecord(
            "local:102", P, 2, "Attente \x1b[2J\x1b]0;owned\x07trop longue \u202eevil", NOW - 3 * 3600, "bea"
        ),
        CsatRecord("local:9", C, 4, "", NOW - 2 * 3600, "bea"),
        CsatRecord("local:13", E, 3, "Réponse correcte mais lente", NOW - 2 * 86400, "ana"),
    ]
    return conversations, agents, wrapups, csat


def filled_store() -> Store:
    conversations, agents, wrapups, csat = afternoon()
    store = Store()
    store.load(Snapshot(conversations=conversations, agents=agents))
    store.load_records(csat, wrapups)
    return store


class Host(PlainNotify):
    """The lead's app in miniature: a store, and the wallboard pushed over it."""

    def __init__(self, store: Store, **options: Any) -> None:
        super().__init__()
        self.store = store
        self.options = options
        self.sent: list[Command] = []
        self.requested: list[Command] = []
        self.bells = 0

    def on_mount(self) -> None:
        self.push_screen(WallboardScreen(self.store, **{"now": lambda: NOW, "tz": UTC, **self.options}))

    def bell(self) -> None:
        self.bells += 1

    def on_wallboard_screen_command_requested(self, message: WallboardScreen.CommandRequested) -> None:
        self.requested.append(message.command)


def acting_host(store: Store | None = None, **options: Any) -> Host:
    host = Host(store or filled_store(), read_only=False, **options)
    host.options.setdefault("on_command", host.sent.append)
    return host


# ---------------------------------------------------------------------------------------------- snapshots


async def _settled(pilot: Any) -> None:
    # The board computes its first figures as it mounts; later ticks, at a fixed "now", draw the same.
    await wait_for(
        lambda: isinstance(pilot.app.screen, WallboardScreen) and pilot.app.screen.figures is not None,
        pilot=pilot,
    )


@pytest.mark.parametrize("size", [(80, 24), (200, 60)], ids=["80x24", "200x60"])
def test_wallboard_snapshot(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    assert snap_compare(Host(filled_store()), terminal_size=size, run_before=_settled)


# ---------------------------------------------------------------------------------------------- screen


async def test_tiles_show_the_figures_and_alerts_ring_once() -> None:
    app = Host(filled_store())
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WallboardScreen)
        figures = screen.figures
        assert figures is not None
        phone = figures.channels[P]
        assert (phone.waiting, phone.longest_wait) == (2, 95)
        keys = {a.key for a in screen.alerts}
        assert "phone.longest_wait" in keys  # 95 s > 60 s
        assert app.screen.query_one("#tile-phone", ChannelTile).has_class("-alert")
        assert not app.screen.query_one("#tile-chat", ChannelTile).has_class("-alert")
        assert app.bells == 1
        for _ in range(2):  # two ticks later (each shows new figures) the same alerts have not rung again
            shown = screen.figures
            await wait_for(lambda shown=shown: screen.figures is not shown, pilot=pilot)
        assert app.bells == 1
        # Idle channels fold away; the three main ones always show.
        assert app.screen.query_one("#tile-form", ChannelTile).has_class("-idle")
        assert not app.screen.query_one("#tile-callback", ChannelTile).has_class("-idle")


async def test_the_board_follows_the_store_every_second() -> None:
    store = filled_store()
    clock = [NOW]
    app = Host(store)
    app.options["now"] = lambda: clock[0]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WallboardScreen)
        assert screen.figures is not None and screen.figures.channels[C].waiting == 1
        store.conversations["local:6"] = replace(
            store.conversations["local:6"], state=State.ACTIVE, answered_at=NOW + 1, assignee="cyril"
        )
        clock[0] = NOW + 2
        await wait_for(lambda: screen.figures.now == NOW + 2, pilot=pilot)  # type: ignore[union-attr]
        chat = screen.figures.channels[C]  # type: ignore[union-attr]
        assert chat.waiting == 0
        agents = app.screen.query_one(AgentTable)
        assert "cyril" in [str(r.value) for r in agents.rows]


async def test_customer_text_is_sanitised_on_screen() -> None:
    app = Host(filled_store())
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        rendered = str(app.screen.query_one(CommentList).render())
        assert "Attente" in rendered
        assert "\x1b" not in rendered and "\x07" not in rendered and "\u202e" not in rendered


async def test_read_only_keys_say_so_and_send_nothing() -> None:
    app = Host(filled_store(), read_only=True, on_command=lambda c: pytest.fail(f"sent {c}"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for key in ("p", "s", "m"):
            await pilot.press(key)
            await pilot.pause()
        messages = [n.message for n in app.said]
        assert len(messages) == 3
        assert all(m.startswith("read-only") for m in messages)
        assert isinstance(app.screen, WallboardScreen)  # no dialog opened
        await pilot.press("escape")  # inside another app, closing goes back to what was there
        assert not isinstance(app.screen, WallboardScreen)


async def test_set_presence_of_the_selected_agent() -> None:
    app = acting_host()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        # agents are listed busy first: ana (on a call), bea (chats), eli (wrap-up), cyril, dina, fanny
        rows = [str(r.value) for r in app.screen.query_one(AgentTable).rows]
        await pilot.press("a", *(["down"] * rows.index("cyril")))
        await pilot.press("p")
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        lunch = next(i for i, label in enumerate(labels) if "lunch" in label)
        await pilot.press(str(lunch + 1))
        await pilot.pause()
        assert app.sent == [SetPresence(agent_id="cyril", presence=Presence.AWAY, reason="lunch")]


async def test_change_skills_of_the_selected_agent() -> None:
    app = acting_host()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("s")  # the first row: ana
        await pilot.pause()
        field = app.screen.query_one(Input)
        field.value = "phone=0 chat=3 languages=fr,es capacity.chat=4"
        await pilot.press("enter")
        await pilot.pause()
        [command] = app.sent
        assert isinstance(command, SetSkills)
        assert command.agent_id == "ana"
        assert command.skills.channels == {C: 3, E: 1}
        assert command.skills.languages == ("fr", "es")
        assert command.capacity[C] == 4


async def test_move_a_waiting_call_to_an_agent_and_an_email_to_a_queue() -> None:
    app = acting_host()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        waiting = app.screen.query_one(WaitingTable)
        order = [str(r.value) for r in waiting.rows]
        await pilot.press("w")
        waiting.move_cursor(row=order.index("local:1"))  # Anna Müller's queued call
        await pilot.press("m")
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = ids.index("agent:cyril")
        await pilot.press("enter")
        await pilot.pause()
        # the unowned email goes straight to a queue
        waiting.move_cursor(row=order.index("local:10"))
        await pilot.press("m")
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert "queue:returns" not in ids  # it is already there
        options.highlighted = ids.index("queue:billing")
        await pilot.press("enter")
        await pilot.pause()
        # and an unowned email given to an agent is assigned, not transferred
        waiting.move_cursor(row=order.index("local:11"))
        await pilot.press("m")
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = ids.index("agent:ana")
        await pilot.press("enter")
        await pilot.pause()
    assert app.sent == [
        Transfer(conversation_id="local:1", to_agent="cyril"),
        Transfer(conversation_id="local:10", to_queue="billing"),
        Assign(conversation_id="local:11", assignee="ana"),
    ]


async def test_unsupported_command_is_refused_by_name() -> None:
    def supports(kind: CommandKind, conversation: Conversation | None) -> bool:
        return kind is not CommandKind.PRESENCE

    app = acting_host(supports=supports)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, WallboardScreen)
        assert [n.message for n in app.said] == ["this workspace cannot presence"]
        assert app.sent == []


async def test_without_a_callback_the_screen_posts_a_message() -> None:
    app = Host(filled_store(), read_only=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("1")  # available
        await pilot.pause()
    assert app.requested == [SetPresence(agent_id="ana", presence=Presence.AVAILABLE, reason="")]


def test_skills_text_round_trip_and_errors() -> None:
    agent = Agent("ana", "Ana", Skills(channels={P: 2, E: 1}, languages=("fr", "en")), capacity={P: 1, C: 3})
    assert format_skills(agent) == "phone=2 email=1 languages=fr,en capacity.phone=1 capacity.chat=3"
    skills, capacity = parse_skills(format_skills(agent), agent)
    assert (skills, capacity) == (agent.skills, agent.capacity)
    skills, capacity = parse_skills("email=0 social=1", agent)
    assert skills.channels == {P: 2, Channel.SOCIAL: 1}
    for bad in ("phone=7", "fax=1", "languages=", "capacity.chat=-1", "phone"):
        with pytest.raises(ValueError, match="cannot read"):
            parse_skills(bad, agent)


# ---------------------------------------------------------------------------------------------- standalone


def _waiting(screen: WallboardScreen, channel: Channel) -> int | None:
    figures = screen.figures
    found = figures.channels.get(channel) if figures else None
    return found.waiting if found else None


def _seed_live(path: Path, now: float) -> None:
    """Contacts relative to the real clock (the app reads the file as it is now)."""
    ws = Workspace(path, clock=lambda: now)
    ws.upsert_agent(Agent("ana", "Ana", Skills(channels={P: 1}), Presence.AVAILABLE, presence_since=now - 60))
    for n in range(3):
        customer = Customer(f"c{n}", f"Client {n}", "fr")
        ws.create_conversation(channel=P, customer=customer, subject=f"Appel {n}", created_at=now - 30 - n)
    # Finished today, even just after midnight (UTC, the zone the tests give the board): else "today" is empty.
    start = max(now - 900, now - (now % 86400) + 1)
    done = ws.create_conversation(
        channel=C, customer=Customer("c9", "Zoé", "fr"), subject="Fini", created_at=start
    )
    closed = min(start + 300, now - 2)
    ws.update_conversation(
        done, state=State.ENDED, answered_at=start + min(10, closed - start), closed_at=closed
    )
    ws.record_wrapup(WrapUpRecord(f"local:{done}", "ana", "resolved", "", closed, 290.0))
    ws.record_csat(CsatRecord(f"local:{done}", C, 4, "bien", min(closed + 100, now - 1), "ana"))
    ws.close()


async def test_standalone_app_over_a_workspace_file(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    _seed_live(path, time.time())
    app = WallboardApp(supervisor_backend(path), read_only=False, tz=UTC, bell=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 4 and len(app.store.csat) == 1, pilot=pilot)
        screen = app.screen
        assert isinstance(screen, WallboardScreen)
        # figures follow the store at the next tick after the snapshot and the records have loaded
        await wait_for(
            lambda: _waiting(screen, P) == 3 and screen.figures.csat.week.count == 1,  # type: ignore[union-attr]
            pilot=pilot,
        )
        assert screen.figures.channels[C].today.aht == 290.0  # type: ignore[union-attr]
        # a CSAT answer recorded by someone else arrives once, whatever the load/event overlap
        other = Workspace(path)
        other.record_csat(CsatRecord("local:1", P, 2, "long", time.time(), "ana"))
        other.close()
        await wait_for(lambda: len(app.store.csat) == 2, pilot=pilot)
        await stays(lambda: len(app.store.csat) == 2, A_DUPLICATE_WOULD_SHOW, pilot)
        # acting goes to the file
        await pilot.press("p")  # ana, the only agent
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = ids.index("offline:")
        await pilot.press("enter")
        check = Workspace(path)
        await wait_for(lambda: check.agent("ana").presence is Presence.OFFLINE, pilot=pilot)  # type: ignore[union-attr]
        # the supervisor watched and acted without joining the agents
        assert [a.id for a in check.agents()] == ["ana"]
        check.close()
        await pilot.press("q")  # the board is the app: closing it quits
        await pilot.pause()
    assert app.return_code == 0


# ---------------------------------------------------------------------------------------------- JSON


def _json_config(tmp_path: Path, alerts: dict[str, Any] | None = None) -> Config:
    return Config(
        path=tmp_path / "config.toml", agent_id="sup", agent_name="sup", raw={"alerts": alerts or {}}
    )


def test_json_lines_from_a_workspace_file(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    ws = Workspace(path, clock=lambda: NOW)
    fr = Customer("c1", "Client", "fr")
    # one call answered in 10 s (met), one in 40 s (missed), one abandoned after 50 s (missed),
    # one ringing for 70 s (waiting, missed, longest wait)
    for created, answered, abandoned in (
        (NOW - 600, NOW - 590, None),
        (NOW - 500, NOW - 460, None),
        (NOW - 400, None, NOW - 350),
    ):
        cid = ws.create_conversation(channel=P, customer=fr, subject="x", created_at=created)
        if answered:
            ws.update_conversation(cid, state=State.ENDED, answered_at=answered, closed_at=answered + 200)
            ws.record_wrapup(
                WrapUpRecord(
                    f"local:{cid}", "ana", "resolved", "", answered + 200, 200.0 + (answered - created)
                )
            )
        else:
            ws.update_conversation(cid, state=State.ABANDONED, closed_at=abandoned)
    ws.create_conversation(
        channel=P, customer=fr, subject="ringing", created_at=NOW - 70, priority=Priority.NORMAL
    )
    ws.record_csat(CsatRecord("local:1", P, 5, "merci \x1b]52;c;AAAA\x07", NOW - 100, "ana"))
    ws.upsert_agent(
        Agent("ana", "Ana", Skills(channels={P: 1}), Presence.AVAILABLE, presence_since=NOW - 3600)
    )
    ws.close()

    out = io.StringIO()
    config = _json_config(tmp_path, {"service_level": "80%", "min_sample": 3})
    code = print_json(
        lambda: Workspace(path), interval=0.5, count=2, out=out, config=config, clock=lambda: NOW, tz=UTC
    )
    assert code == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    data = json.loads(lines[0])
    phone = data["channels"]["phone"]
    assert phone["waiting"] == 1
    assert phone["longest_wait_seconds"] == 70
    assert phone["last_15m"]["answered"] == 2
    assert phone["last_15m"]["asa_seconds"] == 25  # (10 + 40) / 2
    assert phone["last_15m"]["abandonment_rate"] == pytest.approx(1 / 3)
    assert phone["last_15m"]["service_level"] == pytest.approx(1 / 4)  # 1 met of 4 sealed
    assert phone["today"]["aht_seconds"] == 225  # (210 + 240) / 2
    assert phone["sla_breaches"] == 1
    assert data["agents"][0]["id"] == "ana"
    assert data["csat"]["all"]["today"] == {"count": 1, "mean": 5.0, "satisfied": 1.0}
    assert "\x1b" not in data["csat"]["comments"][0]["comment"]
    assert {a["metric"] for a in data["alerts"]} == {"longest_wait", "service_level", "abandonment"}
    assert data["staffing"]["phone"]["servers"] == 1
    assert json.loads(lines[1])["now"] == NOW
    bad = _json_config(tmp_path, {"longest_wiat": 60})
    assert print_json(lambda: Workspace(path), count=1, out=out, config=bad) == 2


def test_supervise_json_command_line(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    _seed_live(path, time.time())
    env = {
        **os.environ,
        "STANDARDISTE_CONFIG": str(tmp_path / "none.toml"),
        "STANDARDISTE_DATA": str(tmp_path),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "standardiste",
            "supervise",
            "--db",
            str(path),
            "--json",
            "--count",
            "2",
            "--interval",
            "0.2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 2
    assert objects[0]["channels"]["phone"]["waiting"] == 3
    assert objects[0]["csat"]["all"]["7d"]["count"] == 1
    assert objects[1]["now"] > objects[0]["now"]


@pytest.mark.parametrize("json_mode", [True, False], ids=["json", "screen"])
def test_supervise_refuses_a_workspace_file_that_does_not_exist(
    tmp_path: Path, json_mode: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped file in an existing directory: said in one line, exit 2, and no empty workspace made."""
    from standardiste.__main__ import main

    missing = tmp_path / "missing.db"
    monkeypatch.setenv("STANDARDISTE_CONFIG", str(tmp_path / "none.toml"))
    code = main(["supervise", "--db", str(missing), *(["--json", "--count", "1"] if json_mode else [])])
    assert code == 2
    assert capsys.readouterr().err == f"standardiste supervise: no workspace at {missing}\n"
    assert not missing.exists()
