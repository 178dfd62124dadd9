"""Agent work driven from the keyboard end to end, checked in the workspace file (not only on screen)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from email.message import EmailMessage
from pathlib import Path

from app_harness import Contact, make_app, seed, stays, wait_for, wait_for_screen
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Attachment, Channel, CsatRecord, Direction, EmailHeaders
from standardiste.console.ui.workspace_screen import WorkspaceScreen
from standardiste.widgets.composer import Composer
from standardiste.widgets.customer_card import CustomerCard
from standardiste.widgets.offer_banner import OfferBanner

SIZE = (160, 50)
UNDO_SECONDS = 1.5
# How long an undone reply is watched for: its window, plus a second for a delivery that would be late.
PAST_THE_UNDO_WINDOW = UNDO_SECONDS + 1.0


def _plain(widget: object) -> str:
    return str(widget.render().plain)  # type: ignore[attr-defined]


def _said(app: object, words: str) -> bool:
    return any(words in n.message for n in app.said)  # type: ignore[attr-defined]


def _row(db: Path, cid: str, columns: str) -> tuple[object, ...]:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            f"SELECT {columns} FROM conversations WHERE id = ?", (int(cid.split(":")[1]),)
        ).fetchone()


def _messages(db: Path, cid: str, direction: str) -> list[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT body FROM messages WHERE conversation_id = ? AND direction = ? ORDER BY id",
            (int(cid.split(":")[1]), direction),
        ).fetchall()
    return [r[0] for r in rows]


async def _open(pilot, app, cid: str) -> None:  # type: ignore[no-untyped-def]
    await wait_for(lambda: cid in app.store.conversations, pilot=pilot)
    await pilot.pause()
    screen = app.workspace
    screen.action_view("everyone")
    assert screen.queue.select_id(cid)
    await pilot.press("enter")
    await wait_for(lambda: screen.open_id == cid, pilot=pilot)


async def test_a_call_answered_held_resumed_muted_and_wrapped_up(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [call] = seed(db, [Contact(Channel.PHONE, "Anna Müller", "de", "Paket", age=5)])
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, call)
        await pilot.press("a")
        await wait_for(lambda: _row(db, call, "state, assignee") == ("connected", "alice"), pilot=pilot)
        await pilot.press("h")
        await wait_for(lambda: _row(db, call, "state")[0] == "on_hold", pilot=pilot)
        await wait_for(lambda: app.store.conversations[call].state.value == "on_hold", pilot=pilot)
        await pilot.press("h")
        await wait_for(lambda: _row(db, call, "state")[0] == "connected", pilot=pilot)
        await wait_for(lambda: app.store.conversations[call].state.value == "connected", pilot=pilot)
        await pilot.press("m")
        await wait_for(lambda: _row(db, call, "muted")[0] == 1, pilot=pilot)
        await pilot.press("x")  # hangs up and asks for the disposition
        await wait_for_screen(app, "PickDialog", pilot)
        await pilot.press("2")  # order-info
        await pilot.press(*"tracking number given", "enter")
        await wait_for(lambda: _row(db, call, "state")[0] == "ended", pilot=pilot)
    ws = Workspace(db)
    [wrap] = ws.wrapups()
    assert (wrap.disposition, wrap.note, wrap.agent_id) == ("order-info", "tracking number given", "alice")
    assert "tracking number given" in _messages(db, call, "note")
    assert ws.pending_csat_requests()  # the survey follows the contact


async def test_a_callback_scheduled_dialled_and_retried(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [request] = seed(db, [Contact(Channel.CALLBACK, "Luca Rossi", "it", "Richiamata", age=60)])
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, request)
        await pilot.press("s")
        await wait_for_screen(app, "TextDialog", pilot)
        await pilot.press(*"+30m", "enter")
        await wait_for(lambda: _row(db, request, "state")[0] == "scheduled", pilot=pilot)
        (callback_at,) = _row(db, request, "callback_at")
        assert abs(callback_at - (app.clock() + 1800)) < 60  # type: ignore[operator]
        await wait_for(lambda: app.store.conversations[request].state.value == "scheduled", pilot=pilot)
        await pilot.press("d")
        await wait_for(lambda: _row(db, request, "state")[0] == "dialling", pilot=pilot)
        linked = _row(db, request, "linked_id")[0]
        with sqlite3.connect(db) as connection:
            call = connection.execute(
                "SELECT channel, state, assignee FROM conversations WHERE id = ?", (linked,)
            ).fetchone()
        assert call == ("phone", "connected", "alice")
        await wait_for(lambda: app.store.conversations[request].state.value == "dialling", pilot=pilot)
        await pilot.press("x")
        await wait_for_screen(app, "PickDialog", pilot)
        await pilot.press("2")  # no answer: retry later
        await wait_for(lambda: _row(db, request, "state")[0] == "scheduled", pilot=pilot)
    assert _row(db, request, "callback_attempts, assignee") == (1, None)


async def test_an_email_reply_all_with_cc_a_note_tags_and_solve(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Refund for order 1042", age=600)])
    ws = Workspace(db)
    ws.add_message(
        mail,
        direction=Direction.INBOUND,
        body="Any news?\n\nOn Monday John wrote:\n> Where is my refund?",
        author="John Smith",
        email=EmailHeaders(
            message_id="<m2@example.com>",
            references=("<m1@example.com>",),
            from_addr="john@example.com",
            to=("support@shop.example",),
            cc=("anna@example.com",),
            subject="Re: Refund for order 1042",
        ),
    )
    ws.close()
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, mail)
        # Reply-all takes its CC from the customer's mail: wait for the history to be in the transcript.
        await wait_for(lambda: bool(app.workspace.query_one("#transcript").messages), pilot=pilot)
        await pilot.press("R")  # reply all: the CC of the customer's mail is kept
        composer = app.workspace.query_one(Composer)
        assert composer.is_open and composer.outgoing().cc == ("anna@example.com",)
        await pilot.press(*"Your refund left today.", "enter", *"Kind regards", "ctrl+s")
        await wait_for(
            lambda: _messages(db, mail, "outbound") == ["Your refund left today.\nKind regards"], pilot=pilot
        )
        await pilot.press("N", *"customer called twice", "ctrl+s")
        await wait_for(lambda: _messages(db, mail, "note") == ["customer called twice"], pilot=pilot)
        await pilot.press("plus")
        await wait_for_screen(app, "TextDialog", pilot)
        await pilot.press(*"vip -refund", "enter")
        await wait_for(lambda: _row(db, mail, "tags")[0] == "vip", pilot=pilot)
        await wait_for(lambda: app.store.conversations[mail].tags == ("vip",), pilot=pilot)
        await pilot.press("x")
        await wait_for(lambda: _row(db, mail, "state")[0] == "solved", pilot=pilot)
        # The customer answers the survey; it comes back onto the conversation and the customer's card.
        Workspace(db).record_csat(
            CsatRecord(mail, Channel.EMAIL, 4, "quick, thanks", app.clock(), "alice", "cust-0")
        )
        await wait_for(lambda: mail in app.store.csat_by_conversation, pilot=pilot)
        card = app.workspace.query_one(CustomerCard)
        await wait_for(lambda: "This contact's survey: 4/5 quick, thanks" in _plain(card), pilot=pilot)
    with sqlite3.connect(db) as connection:
        email = connection.execute(
            "SELECT email FROM messages WHERE conversation_id = ? AND direction = 'outbound'",
            (int(mail.split(":")[1]),),
        ).fetchone()[0]
    assert '"in_reply_to": "<m2@example.com>"' in email and "anna@example.com" in email
    assert '"references": ["<m1@example.com>", "<m2@example.com>"]' in email


async def test_a_reply_can_be_undone_during_its_window(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600)])
    config = f'agent = "alice"\nundo_seconds = {UNDO_SECONDS}\nbell = false\n'
    app = make_app(tmp_path, config_text=config)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, mail)
        await pilot.press("r", *"Oops, wrong customer", "ctrl+s")
        await wait_for(lambda: _said(app, "ctrl+z to undo"), pilot=pilot)
        await pilot.press("ctrl+z")
        await wait_for(lambda: _said(app, "Undone: "), pilot=pilot)
        # Had the undo not withdrawn it, the reply would go out when its window ends: watch past that.
        await stays(lambda: _messages(db, mail, "outbound") == [], PAST_THE_UNDO_WINDOW, pilot)
        await pilot.press("r", *"The right answer", "ctrl+s")
        await wait_for(
            lambda: _messages(db, mail, "outbound") == ["The right answer"], timeout=6, pilot=pilot
        )


async def test_attachments_with_hostile_names_are_saved_inside_the_chosen_folder(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "Eve", "en", "See attached", age=60)])
    mime = EmailMessage()
    mime["From"] = "eve@example.com"
    mime["Subject"] = "See attached"
    mime.set_content("Here.")
    mime.add_attachment(b"not your passwd", maintype="text", subtype="plain", filename="../../etc/passwd")
    mime.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename="ph\x1b]0;x\x07oto.png")
    ws = Workspace(db)
    message = ws.add_message(
        mail, direction=Direction.INBOUND, body="Here.", author="Eve", raw=mime.as_bytes()
    )
    row = int(message.id.split(":")[1])
    attachments = [
        Attachment("../../etc/passwd", "text/plain", 15, f"{row}/1"),
        Attachment("ph\x1b]0;x\x07oto.png", "image/png", 4, f"{row}/2"),
    ]
    listed = [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size, "ref": a.ref}
        for a in attachments
    ]
    ws.db.execute("UPDATE messages SET attachments = ? WHERE id = ?", (json.dumps(listed), row))
    ws.close()
    folder = tmp_path / "saved"
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, mail)
        await wait_for(
            lambda: any(m.attachments for m in app.workspace.query_one("#transcript").messages), pilot=pilot
        )
        await pilot.press("S")
        await wait_for_screen(app, "TextDialog", pilot)
        await pilot.press("ctrl+u", *str(folder), "enter")
        await wait_for(lambda: folder.exists() and len(list(folder.iterdir())) == 2, pilot=pilot)
        await asyncio.sleep(0)
    assert sorted(p.name for p in folder.iterdir()) == ["passwd", "photo.png"]
    assert (folder / "passwd").read_bytes() == b"not your passwd"
    assert (folder / "photo.png").read_bytes() == b"\x89PNG"
    assert all(p.parent == folder for p in folder.iterdir())
    assert not (tmp_path / "etc").exists()


async def test_a_macro_in_the_customers_language_fills_the_reply_and_tags_on_send(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    [chat] = seed(
        db, [Contact(Channel.CHAT, "Jean Dupont", "fr", "Commande 48213 : où est mon colis ?", age=20)]
    )
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, chat)
        await pilot.press("a")  # answers, and opens the chat's composer
        await wait_for(lambda: app.store.conversations[chat].assignee == "alice", pilot=pilot)
        assert app.workspace.query_one(Composer).is_open
        await pilot.press("escape", "M")  # leave the composer for the macros
        await wait_for_screen(app, "MacroPicker", pilot)
        await pilot.press(*"parcel", "enter")  # the French chat macro, found by its shortcut
        await wait_for(lambda: bool(app.screen.query("#var-0")), pilot=pilot)  # its form is shown
        # The order number came from the subject; carrier and tracking number are asked for.
        await pilot.press(*"Colissimo", "tab", *"6A12345678901", "enter")
        await wait_for_screen(app, WorkspaceScreen, pilot)
        composer = app.workspace.query_one(Composer)
        await wait_for(lambda: "Colissimo" in composer.text_area.text, pilot=pilot)
        assert composer.is_open
        text = composer.text_area.text
        assert "48213" in text and "Colissimo" in text and "6A12345678901" in text
        assert _row(db, chat, "tags")[0] == ""  # nothing happens before the agent sends
        await pilot.press("enter")  # chat: enter sends
        await wait_for(lambda: _messages(db, chat, "outbound") == [text], pilot=pilot)
        await wait_for(lambda: _row(db, chat, "tags")[0] == "delivery", pilot=pilot)


async def test_push_mode_offers_the_next_item_to_accept_or_decline(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    chat, mail = seed(
        db,
        [
            Contact(Channel.CHAT, "Jean Dupont", "fr", "Colis", age=10),
            Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600),
        ],
    )
    config = 'agent = "alice"\nundo_seconds = 0\nbell = false\n[routing]\npush = true\n'
    app = make_app(tmp_path, config_text=config)
    async with app.run_test(size=SIZE) as pilot:
        banner = app.workspace.query_one(OfferBanner)  # shown without taking the focus
        await wait_for(lambda: banner.conversation is not None, timeout=8, pilot=pilot)
        assert banner.conversation is not None and banner.conversation.id == chat  # the chat before the email
        assert app.focused is app.workspace.queue
        await pilot.press("ctrl+n")  # declined: the next offer is the email, the chat waits for someone else
        await wait_for(
            lambda: banner.conversation is not None and banner.conversation.id == mail, timeout=8, pilot=pilot
        )
        await pilot.press("ctrl+o")
        await wait_for(lambda: _row(db, mail, "assignee")[0] == "alice", pilot=pilot)
        await wait_for(lambda: app.workspace.open_id == mail, pilot=pilot)
    assert _row(db, chat, "assignee")[0] is None
    with sqlite3.connect(db) as connection:
        refused = connection.execute("SELECT conversation_id, agent_id FROM routing_refusals").fetchall()
    assert refused == [(int(chat.split(":")[1]), "alice")]


async def test_marked_rows_are_solved_and_tagged_together(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    first, second, third = seed(
        db,
        [
            Contact(Channel.EMAIL, "A One", "en", "Spam 1", age=900),
            Contact(Channel.EMAIL, "B Two", "en", "Spam 2", age=800),
            Contact(Channel.EMAIL, "C Three", "en", "Real question", age=700),
        ],
    )
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 3, pilot=pilot)
        app.workspace.action_view("email")
        queue = app.workspace.query_one("QueueList")
        assert queue.select_id(first)
        await pilot.press("space", "space")  # marks the first two (the cursor moves on)
        assert app.workspace.marked == {first, second}
        await pilot.press("plus")
        await wait_for_screen(app, "TextDialog", pilot)
        await pilot.press(*"spam", "enter")
        await wait_for(
            lambda: _row(db, first, "tags")[0] == "spam" and _row(db, second, "tags")[0] == "spam",
            pilot=pilot,
        )
        assert _row(db, third, "tags")[0] == ""
        assert app.workspace.marked == set()  # spent by the action
        assert queue.select_id(first)
        await pilot.press("space", "space", "x")
        await wait_for(
            lambda: _row(db, first, "state")[0] == "solved" and _row(db, second, "state")[0] == "solved",
            pilot=pilot,
        )
        assert _row(db, third, "state")[0] == "new"
