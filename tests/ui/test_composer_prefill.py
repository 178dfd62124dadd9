"""What the email composer starts with: a reply is addressed to the customer, a reply to all to the others
too, a forward to nobody yet; and a draft comes back as it was left: its kind, To, Cc, Bcc and subject."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app_harness import Contact, make_app, seed, wait_for
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Channel, Direction, EmailHeaders
from standardiste.widgets.composer import Composer
from textual.widgets import Input

SIZE = (160, 50)


def _mail(tmp_path: Path) -> str:
    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Refund for order 1042", age=600)])
    ws = Workspace(db)
    ws.add_message(
        mail,
        direction=Direction.INBOUND,
        body="Any news?",
        author="John Smith",
        email=EmailHeaders(
            message_id="<m2@example.com>",
            from_addr="john@example.com",
            to=("support@shop.example", "bob@example.com"),
            cc=("anna@example.com", "john@example.com"),
            subject="Re: Refund for order 1042",
        ),
    )
    ws.close()
    return mail


async def _open(pilot, app, cid: str) -> Composer:  # type: ignore[no-untyped-def]
    await wait_for(lambda: cid in app.store.conversations, pilot=pilot)
    await pilot.pause()
    screen = app.workspace
    screen.action_view("everyone")
    assert screen.queue.select_id(cid)
    await pilot.press("enter")
    await wait_for(lambda: screen.open_id == cid, pilot=pilot)
    await app.workers.wait_for_complete()  # the history (the customer's mail) and the customer are loaded
    return screen.query_one(Composer)


def _field(composer: Composer, name: str) -> str:
    return composer.query_one(f"#composer-{name}", Input).value


async def test_a_reply_is_addressed_to_the_customer_and_reply_all_to_the_others_too(tmp_path: Path) -> None:
    mail = _mail(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        composer = await _open(pilot, app, mail)
        await pilot.press("r")
        assert composer.is_open and composer.kind == "reply"
        assert composer.outgoing().to == ("john@example.com",)  # the sender of the mail answered
        assert composer.outgoing().cc == ()
        await pilot.press("escape")
        await pilot.press("R")
        assert composer.kind == "reply_all"
        assert composer.outgoing().to == ("john@example.com",)
        # Everyone else the mail went to; not our own address (the one the customer wrote to), not John twice.
        assert composer.outgoing().cc == ("bob@example.com", "anna@example.com")
        await pilot.press("escape")
        await pilot.press("f")
        assert composer.kind == "forward" and composer.outgoing().to == () and composer.outgoing().cc == ()
        await pilot.press(*"see below", "ctrl+s")
        assert composer.is_open  # refused: a forward needs a recipient


async def test_without_an_email_the_reply_goes_to_the_address_on_file(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Refund", age=600)])  # no headers
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        composer = await _open(pilot, app, mail)
        await pilot.press("r")
        assert composer.outgoing().to == ("customer0@example.com",)


async def test_opening_and_leaving_a_prefilled_reply_leaves_no_draft(tmp_path: Path) -> None:
    mail = _mail(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        composer = await _open(pilot, app, mail)
        await pilot.press("R", "x")
        await wait_for(lambda: app.load_draft(mail) is not None, pilot=pilot)
        await pilot.press("backspace")  # back to what it opened with: nothing of the agent's is left
        await wait_for(lambda: app.load_draft(mail) is None, pilot=pilot)
        assert composer.is_open


async def test_a_reply_all_draft_comes_back_whole_after_a_restart(tmp_path: Path) -> None:
    mail = _mail(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        composer = await _open(pilot, app, mail)
        await pilot.press("R", *"Your refund left today.")
        await pilot.press("shift+tab", *"Refund sent", "shift+tab", *"boss@shop.example")
        assert (
            composer.outgoing().bcc == ("boss@shop.example",) and composer.outgoing().subject == "Refund sent"
        )
        await wait_for(
            lambda: (d := app.load_draft(mail)) is not None and d.bcc == ("boss@shop.example",), pilot=pilot
        )
        await pilot.press("escape")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        composer = await _open(pilot, app, mail)
        await pilot.press("r")  # either key continues the reply being written, as it was written
        assert composer.kind == "reply_all"
        outgoing = composer.outgoing()
        assert outgoing.body == "Your refund left today."
        assert outgoing.to == ("john@example.com",)
        assert outgoing.cc == ("bob@example.com", "anna@example.com")
        assert outgoing.bcc == ("boss@shop.example",)
        assert outgoing.subject == "Refund sent" and _field(composer, "subject") == "Refund sent"


async def test_r_pressed_before_the_history_is_loaded_is_addressed_when_it_is(tmp_path: Path) -> None:
    mail = _mail(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: mail in app.store.conversations, pilot=pilot)
        await pilot.pause()
        screen = app.workspace
        screen.action_view("everyone")
        assert screen.queue.select_id(mail)
        history = app.hub.history
        slow = [True]

        async def slow_history(cid: str):  # type: ignore[no-untyped-def]
            if slow.pop() if slow else False:  # a slow backend: the first load takes its time
                await asyncio.sleep(0.5)
            return await history(cid)

        app.hub.history = slow_history  # type: ignore[method-assign]
        await pilot.press("enter", "R")  # at once: the customer's mail is not loaded yet
        composer = screen.query_one(Composer)
        await wait_for(lambda: composer.is_open and composer.outgoing().cc != (), pilot=pilot)
        assert composer.outgoing().to == ("john@example.com",)
        assert composer.outgoing().cc == ("bob@example.com", "anna@example.com")
