"""The wallboard opened with W inside a console of three workspaces (the local one, a Zendesk account and a
Chatwoot account, over the fake servers of tests/zendesk_fake/ and tests/chatwoot_fake.py) shows the CSAT of
all three, as `standardiste supervise` shows each: it reads the optional `Records` of every backend that
keeps them (Hub.records), again while it is open, counts the local answers the store already holds from
events and snapshots once, and names, sanitised, a backend whose records cannot be read."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from app_harness import Contact, seed, stays, wait_for
from chatwoot_harness import fake_chatwoot
from chatwoot_harness import make_backend as chatwoot_backend
from standardiste.backends.base import LinkState, Unavailable
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.console.core.config import load_config
from standardiste.console.core.hub import Hub
from standardiste.console.core.model import Channel, CsatRecord, WrapUpRecord
from standardiste.console.ui.app import StandardisteApp
from standardiste.console.ui.wallboard.records import BoardRecords, merged, problem_text
from standardiste.console.ui.wallboard.screen import WallboardScreen
from standardiste.widgets.wallboard_tiles import CommentList, CsatTable
from textual.widgets import Static
from zendesk_harness import fake_zendesk
from zendesk_harness import make_backend as zendesk_backend

SIZE = (160, 50)
# The board reads a minute apart; a test cannot wait minutes for a second read.
EVERY = 0.3
# Within this a count that took a record twice (the store's and the read one) would have shown it: several
# reads of every backend.
A_DUPLICATE_WOULD_SHOW = 6 * EVERY


def shown_week(screen: WallboardScreen, row: str = "all") -> str:
    """The wallboard's CSAT table as drawn: the "n 7d" cell of a row ("all", "ch:chat", ...)."""
    table = screen.query_one(CsatTable)
    if row not in {str(r.value) for r in table.rows}:
        return ""
    return str(table.get_cell(row, "n 7d"))


def records_line(screen: WallboardScreen) -> Static:
    return screen.query_one("#wb-records", Static)


async def test_the_console_wallboard_counts_every_workspace_csat_once_and_names_one_it_cannot_read(
    tmp_path: Path,
) -> None:
    now = time.time()
    [chat] = seed(tmp_path / "workspace.db", [Contact(Channel.CHAT, "Jean Dupont", "fr", "Colis", age=30)], now=now)
    ws = Workspace(tmp_path / "workspace.db")
    # The local answer is in the store from the snapshot, and read again from the backend: counted once.
    ws.record_csat(CsatRecord(chat, Channel.CHAT, 3, "moyen", now - 600, "alice"))
    config_path = tmp_path / "config.toml"
    config_path.write_text('agent = "alice"\nname = "Alice"\nsupervisor = true\nbell = false\n', encoding="utf-8")
    config = load_config(config_path)
    async with fake_zendesk() as zd, fake_chatwoot() as cw:
        ticket = zd.add_ticket("email", "Rated", "hello")
        zd.customer_rates(ticket, "good", "merci", at=now - 120)
        zd.customer_rates(ticket, "bad", "trop lent", at=now - 60)
        display = cw.add_conversation("chat", "Rated", "hi", broadcast=False)
        cw.customer_rates(display, 4, "bien", at=now - 300)
        backends = [
            LocalBackend(tmp_path / "workspace.db", agent_id="alice"),
            # Signed in as the account's admin: Zendesk lets admins only list satisfaction ratings.
            zendesk_backend(zd, tmp_path / "zd", name="desk", email="sam@example.test"),
            chatwoot_backend(cw, tmp_path / "cw", name="chat"),
        ]
        app = StandardisteApp(config, backends, drafts_path=tmp_path / "drafts.db", outbox_path=tmp_path / "o.db")
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(
                lambda: all(
                    name in app.store.links and app.store.links[name].state is LinkState.CONNECTED
                    for name in ("local", "desk", "chat")
                ),
                timeout=15,
                pilot=pilot,
            )
            assert len(app.store.csat) == 1  # the console's store: the local answer only
            await pilot.press("W")
            await wait_for(lambda: isinstance(app.screen, WallboardScreen), pilot=pilot)
            screen = app.screen
            assert isinstance(screen, WallboardScreen) and screen.records is not None
            screen.records.every = EVERY
            await wait_for(lambda: shown_week(screen) == "4", timeout=10, pilot=pilot)
            assert screen.figures is not None and screen.figures.csat.week.count == 4
            assert shown_week(screen, "ch:chat") == "2" and shown_week(screen, "ch:email") == "2"
            comments = str(screen.query_one(CommentList).render())
            assert all(words in comments for words in ("moyen", "merci", "trop lent", "bien"))
            assert records_line(screen).has_class("-empty")
            assert len(app.store.csat) == 1, "the board's reads stay out of the console's store"

            # Read again and again: the local answer (store and read) and each help desk's stay counted once.
            reads = dict(screen.records.read_at)
            await wait_for(lambda: all(screen.records.read_at[n] > reads[n] for n in reads), pilot=pilot)
            await stays(lambda: shown_week(screen) == "4", A_DUPLICATE_WOULD_SHOW, pilot)

            # New answers: a help desk's is found by the next read, a local one arrives as an event and is
            # read too, and is counted once.
            cw.customer_rates(display, 5, "super", at=time.time())
            ws.record_csat(CsatRecord(chat, Channel.CHAT, 1, "nul", time.time(), "alice"))
            await wait_for(lambda: shown_week(screen) == "6", timeout=10, pilot=pilot)
            await wait_for(lambda: len(app.store.csat) == 2, pilot=pilot)  # the local one, by its event
            await stays(lambda: shown_week(screen) == "6", A_DUPLICATE_WOULD_SHOW, pilot)
            assert shown_week(screen, "ch:chat") == "4"

            # Chatwoot answers its survey list with an error: the board says so by name, its text stripped of
            # control sequences, counts what it read there last, and the line goes once it reads again.
            cw.fail("GET", r"/csat_survey_responses", 500, body={"error": "boom \x1b]0;owned\x07 here"}, times=1000)
            await wait_for(lambda: not records_line(screen).has_class("-empty"), timeout=10, pilot=pilot)
            said = str(records_line(screen).render())
            assert "chat: CSAT and wrap-ups cannot be read" in said and "desk" not in said
            assert "\x1b" not in said and "\x07" not in said and cw.token not in said
            assert records_line(screen).display
            await stays(lambda: shown_week(screen) == "6", A_DUPLICATE_WOULD_SHOW, pilot)
            cw.faults.clear()
            await wait_for(lambda: records_line(screen).has_class("-empty"), timeout=10, pilot=pilot)
            assert shown_week(screen) == "6"

            await pilot.press("escape")  # back to the workspace; open again: read at once, the same figures
            await wait_for(lambda: not isinstance(app.screen, WallboardScreen), pilot=pilot)
            await pilot.press("W")
            await wait_for(lambda: isinstance(app.screen, WallboardScreen) and app.screen is not screen, pilot=pilot)
            again = app.screen
            assert isinstance(again, WallboardScreen)
            await wait_for(lambda: shown_week(again) == "6", timeout=10, pilot=pilot)
    ws.close()


async def test_supervise_reads_a_help_desk_again_while_it_runs_and_keeps_each_answer_once(tmp_path: Path) -> None:
    """`standardiste supervise` over Zendesk: a rating given after the board opened is counted at its next
    read, in the board and in the app's store, and the ratings read before are not counted again."""
    from datetime import UTC

    from standardiste.console.ui.wallboard.app import WallboardApp

    now = time.time()
    async with fake_zendesk() as zd:
        ticket = zd.add_ticket("email", "Rated", "hello")
        zd.customer_rates(ticket, "good", "merci", at=now - 120)
        app = WallboardApp(zendesk_backend(zd, tmp_path / "zd", email="sam@example.test"), tz=UTC, bell=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            assert isinstance(screen, WallboardScreen) and screen.records is not None
            screen.records.every = EVERY
            await wait_for(lambda: shown_week(screen) == "1", timeout=10, pilot=pilot)
            zd.customer_rates(ticket, "bad", "trop lent", at=time.time())
            await wait_for(lambda: shown_week(screen) == "2", timeout=10, pilot=pilot)
            await stays(lambda: shown_week(screen) == "2" and len(app.store.csat) == 2, A_DUPLICATE_WOULD_SHOW, pilot)
            assert sorted(r.score for r in app.store.csat) == [1, 5]


# ------------------------------------------------------------------------------- the parts, without a screen


class Keeping:
    """A backend with the optional `Records`: what `answer` says, or `error` raised."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.answer: tuple[list[CsatRecord], list[WrapUpRecord]] = ([], [])
        self.error: BaseException | None = None
        self.asked: list[tuple[float, float]] = []

    async def records(self, csat_since: float, wrapups_since: float) -> tuple[list[CsatRecord], list[WrapUpRecord]]:
        self.asked.append((csat_since, wrapups_since))
        if self.error is not None:
            raise self.error
        return self.answer


def hub_over(*keeping: Keeping) -> Hub:
    return Hub(list(keeping))  # type: ignore[arg-type]  # only `records` is asked: the hub is not started


async def test_hub_records_reads_the_named_backends_that_keep_records_cleans_them_and_names_failures() -> None:
    good, down, buggy, other = Keeping("good"), Keeping("down"), Keeping("buggy"), Keeping("other")
    good.answer = ([CsatRecord("good:1", Channel.CHAT, 2, "bad \x1b[2J words \u202e", 100.0)], [])
    down.error = Unavailable("cannot reach desk.example \x1b]0;x\x07")
    buggy.error = KeyError("oops")
    hub = hub_over(good, down, buggy, other)
    read = await hub.records(10.0, 20.0, ["good", "down", "buggy", "elsewhere"])
    assert good.asked == down.asked == [(10.0, 20.0)] and other.asked == []
    [record] = read.records["good"][0]
    assert "\x1b" not in record.comment and "\u202e" not in record.comment and "words" in record.comment
    assert set(read.problems) == {"down", "buggy"}
    assert "cannot reach desk.example" in read.problems["down"] and "\x1b" not in read.problems["down"]
    assert read.problems["buggy"].startswith("KeyError")
    assert set(read.records) == {"good"}
    assert set((await hub.records(10.0, 20.0)).records) == {"good", "other"}  # no names: every one


async def test_board_records_reads_what_is_due_keeps_a_failing_backends_last_read_and_merges_once() -> None:
    desk = Keeping("desk")
    first = CsatRecord("desk:1", Channel.EMAIL, 5, "", 1000.0)
    desk.answer = ([first], [])
    hub = hub_over(desk)
    board = BoardRecords(lambda c, w, names: hub.records(c, w, names), every=60.0)
    assert board.due(["desk"], 2000.0) == ["desk"]
    assert await board.refresh(["desk"], 2000.0)
    assert board.due(["desk"], 2030.0) == [] and board.due(["desk"], 2060.0) == ["desk"]
    assert board.due([], 2030.0) == [] and board.due(["desk"], 2031.0) == ["desk"]  # back from down: now
    desk.error = Unavailable("gone")
    await board.refresh(["desk"], 2100.0)
    assert board.extra() == ((first,), ()) and "gone" in board.problems["desk"]
    said = str(problem_text(board.problems, board.read_at, board.every))
    assert "desk: CSAT and wrap-ups cannot be read: gone" in said and "every 60 s" in said
    desk.error = None
    await board.refresh(["desk"], 2200.0)
    assert board.problems == {}
    # The store's copy (same conversation, same time) wins; what it lacks is added, once.
    in_store = CsatRecord("desk:1", Channel.EMAIL, 5, "", 1000.0, customer_id="from-an-event")
    later = CsatRecord("desk:2", Channel.EMAIL, 1, "", 1500.0)
    assert merged([in_store], [first, later, later]) == [in_store, later]
    assert merged([in_store], []) == [in_store]


class Slow(Keeping):
    """A help desk that takes its time over its week of answers (until `go` is set)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.go = asyncio.Event()

    async def records(self, csat_since: float, wrapups_since: float) -> tuple[list[CsatRecord], list[WrapUpRecord]]:
        await self.go.wait()
        return await super().records(csat_since, wrapups_since)


async def test_a_slow_backend_holds_up_no_other_backends_records_on_the_board() -> None:
    from standardiste.backends.base import BackendStatus
    from standardiste.console.core.store import Store
    from standardiste.console.ui.plain_ui import PlainNotify

    now = time.time()
    slow, fast = Slow("slow"), Keeping("fast")
    slow.answer = ([CsatRecord("slow:1", Channel.EMAIL, 5, "", now - 60)], [])
    fast.answer = ([CsatRecord("fast:1", Channel.CHAT, 4, "", now - 60)], [])
    hub = hub_over(slow, fast)
    store = Store()
    store.apply([BackendStatus("slow", LinkState.CONNECTED), BackendStatus("fast", LinkState.CONNECTED)])

    class Host(PlainNotify):
        def on_mount(self) -> None:
            self.push_screen(WallboardScreen(store, records=hub.records, bell=False))

    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, WallboardScreen), pilot=pilot)
        screen = app.screen
        assert isinstance(screen, WallboardScreen)
        await wait_for(lambda: shown_week(screen, "ch:chat") == "1", pilot=pilot)
        assert shown_week(screen) == "1" and slow.asked == []
        slow.go.set()
        await wait_for(lambda: shown_week(screen) == "2", pilot=pilot)
        assert shown_week(screen, "ch:email") == "1"
