"""Search on an IMAP mailbox by the server's own SEARCH (UID SEARCH CHARSET UTF-8), against Dovecot: words as
typed and their accent-tolerant parts, checked on the fetched mail; dates; fields on the adapter's marks;
subject matches ranked first; a hostile subject shown sanitised; and the console's ctrl+f merging IMAP's hits
with the local workspace's.

Needs Debian's dovecot-imapd (the CI installs it); skipped with that reason where it is missing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from app_harness import make_app, wait_for, wait_for_screen
from mailservers import DovecotServer, dovecot_binary, mail, make_backend, running_dovecot
from standardiste.backends.base import Invalid, Note, SetStatus, Tags
from standardiste.backends.imap import ImapBackend
from standardiste.backends.imap.search import criteria_for, parts_of
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.backends.optional import Search
from standardiste.console.core.model import Channel, Customer, Direction, State
from standardiste.console.core.search_query import parse
from standardiste.console.ui.app import StandardisteApp
from standardiste.console.ui.search_screen import SearchScreen
from standardiste.console.ui.workspace_screen import WorkspaceScreen

pytestmark = pytest.mark.skipif(
    dovecot_binary() is None, reason="dovecot is not installed (Debian: apt-get install dovecot-imapd)"
)

HOSTILE_SUBJECT = "Colis \x1b]52;c;ZXZpbA==\x07\x1b[2J[bold red]perdu[/] \u202eevil"


@pytest.fixture(scope="module")
def dovecot_server() -> Iterator[DovecotServer]:
    with running_dovecot() as server:
        yield server


@pytest.fixture
def dovecot(dovecot_server: DovecotServer) -> DovecotServer:
    """One Dovecot for the module (stopping one takes a second), its mailbox emptied for each test."""
    with dovecot_server.session() as client:
        for folder in ("INBOX", "Sent"):
            client.select_folder(folder)
            uids = client.search(["ALL"])
            if uids:
                client.delete_messages(uids)
                client.expunge()
    return dovecot_server


@pytest.fixture
async def backend(dovecot: DovecotServer, tmp_path: Path) -> AsyncIterator[ImapBackend]:
    backend = make_backend(dovecot, None, tmp_path / "mail-data", agent="alice")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


def deliver_at(dovecot: DovecotServer, raw: bytes, when: datetime) -> None:
    """APPEND with an INTERNALDATE in the past, as a mailbox that has held the mail since then."""
    with dovecot.session() as client:
        client.append("INBOX", raw, msg_time=when.astimezone())


def utf8_mail(
    subject: str, body: str, message_id: str, sender: str = "Jean Dupont <jean@client.test>"
) -> bytes:
    from email.message import EmailMessage
    from email.policy import SMTP

    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = "support@shop.test"
    message["Subject"] = subject
    message["Message-ID"] = message_id
    message.set_content(body, cte="quoted-printable")
    return message.as_bytes()


async def subjects(backend: ImapBackend, query: str) -> list[str]:
    return [hit.conversation.subject for hit in await backend.search(query) if hit.conversation is not None]


def test_words_are_cut_where_no_accent_can_split_them() -> None:
    assert parts_of("theiere") == ["the", "re"]
    assert parts_of("munchen") == ["mu", "he"]
    assert parts_of("xyz") == ["xy"]
    assert parts_of("ab") == ["ab"]
    criteria = criteria_for(parse("after:2026-12-01 colis"), tolerant=False)
    assert criteria == [
        "SINCE",
        "30-Nov-2026",
        "OR",
        "SUBJECT",
        "colis",
        "OR",
        "FROM",
        "colis",
        "BODY",
        "colis",
    ]


async def test_accented_and_unaccented_words_find_each_other(
    dovecot: DovecotServer, backend: ImapBackend
) -> None:
    assert isinstance(backend, Search)
    dovecot.deliver(utf8_mail("Théière cassée", "Ma théière est arrivée cassée.", "<t1@client.test>"))
    dovecot.deliver(utf8_mail("Ärger", "Das Paket nach München ist nie angekommen.", "<m1@client.test>"))
    dovecot.deliver(utf8_mail("Refund", "Please rembourse me, I was never refunded.", "<r1@client.test>"))
    await backend.snapshot()

    assert await subjects(backend, "theiere") == ["Théière cassée"]  # the server alone would not find it
    assert await subjects(backend, "THÉIÈRE CASSEE") == ["Théière cassée"]
    assert await subjects(backend, "munchen") == ["Ärger"]
    assert await subjects(backend, "remboursé") == ["Refund"]
    assert await subjects(backend, "arger") == ["Ärger"]
    # Whole words, the last one a prefix as it is typed; a phrase in order.
    assert await subjects(backend, "refun") == ["Refund"]
    assert await subjects(backend, "refun ") == []
    assert await subjects(backend, '"nie angekommen"') == ["Ärger"]
    assert await subjects(backend, '"angekommen nie"') == []
    [hit] = await backend.search("munchen")
    assert hit.message_id is not None and hit.message_id.startswith("mail:inbox/")
    assert [hit.snippet[s:e] for s, e in hit.spans] == ["München"]


async def test_subject_matches_first_then_newest(dovecot: DovecotServer, backend: ImapBackend) -> None:
    now = datetime.now()
    deliver_at(
        dovecot, utf8_mail("Kettle", "My order of a kettle", "<o1@client.test>"), now - timedelta(days=3)
    )
    deliver_at(
        dovecot, utf8_mail("Order 1042 missing", "Where is it?", "<o2@client.test>"), now - timedelta(days=9)
    )
    deliver_at(
        dovecot, utf8_mail("Mixer", "The order was wrong", "<o3@client.test>"), now - timedelta(days=1)
    )
    await backend.snapshot()
    assert await subjects(backend, "order") == ["Order 1042 missing", "Mixer", "Kettle"]
    found = await backend.search("order")
    assert found[0].message_id is None and found[0].snippet.startswith("Order 1042 missing")
    assert [found[0].snippet[s:e] for s, e in found[0].spans] == ["Order"]


async def test_dates_are_the_day_a_conversation_opened(dovecot: DovecotServer, backend: ImapBackend) -> None:
    deliver_at(
        dovecot, utf8_mail("Blender broken", "blender", "<b1@client.test>"), datetime(2026, 11, 20, 12)
    )
    deliver_at(
        dovecot, utf8_mail("Blender late", "blender", "<b2@client.test>"), datetime(2026, 12, 1, 0, 30)
    )
    deliver_at(dovecot, utf8_mail("Blender noisy", "blender", "<b3@client.test>"), datetime(2026, 12, 5, 9))
    deliver_at(dovecot, utf8_mail("Toaster", "toaster", "<b4@client.test>"), datetime(2026, 12, 2, 9))
    # A late reply in an old thread: the conversation still opened on the 20th.
    deliver_at(
        dovecot,
        mail(
            "Re: Blender broken",
            "blender again",
            message_id="<b5@client.test>",
            in_reply_to="<b1@client.test>",
        ),
        datetime(2026, 12, 6, 9),
    )
    await backend.snapshot()
    assert sorted(await subjects(backend, "blender after:2026-12-01")) == ["Blender late", "Blender noisy"]
    assert await subjects(backend, "blender before:2026-12-01") == ["Blender broken"]
    assert await subjects(backend, "blender after:2026-12-01 before:2026-12-02") == ["Blender late"]
    assert sorted(await subjects(backend, "after:2026-12-02 before:2026-12-06")) == [
        "Blender noisy",
        "Toaster",
    ]
    with pytest.raises(Invalid, match="wants a date"):
        await backend.search("blender after:yesterday")


async def test_fields_narrow_on_the_marks_and_notes_are_searched(
    dovecot: DovecotServer, backend: ImapBackend
) -> None:
    dovecot.deliver(utf8_mail("Parcel lost", "The parcel never came", "<p1@client.test>"))
    dovecot.deliver(utf8_mail("Parcel damaged", "The parcel is damaged", "<p2@client.test>"))
    snapshot = await backend.snapshot()
    ids = {c.subject: c.id for c in snapshot.conversations}
    await backend.perform(SetStatus(conversation_id=ids["Parcel lost"], state=State.SOLVED))
    await backend.perform(Tags(conversation_id=ids["Parcel damaged"], add=("breakage",)))
    await backend.perform(Note(conversation_id=ids["Parcel damaged"], body="Carrier claim filed: DHL-7781"))

    assert await subjects(backend, "parcel state:solved") == ["Parcel lost"]
    assert await subjects(backend, "state:solved") == ["Parcel lost"]
    assert await subjects(backend, "parcel tag:breakage") == ["Parcel damaged"]
    assert sorted(await subjects(backend, "parcel customer:dupont")) == ["Parcel damaged", "Parcel lost"]
    assert await subjects(backend, "parcel customer:nobody") == []
    [note] = await backend.search("carrier claim")
    assert note.message_id is not None and "note/" in note.message_id
    assert note.conversation is not None and note.conversation.subject == "Parcel damaged"


async def test_a_hostile_subject_is_shown_sanitised(dovecot: DovecotServer, backend: ImapBackend) -> None:
    dovecot.deliver(utf8_mail(HOSTILE_SUBJECT, "Mon colis est perdu", "<h1@client.test>"))
    await backend.snapshot()
    [hit] = await backend.search("perdu")
    assert "\x1b" not in hit.snippet and "\x07" not in hit.snippet and "\u202e" not in hit.snippet
    assert "[bold red]perdu[/]" in hit.snippet  # text, never markup
    assert [hit.snippet[s:e] for s, e in hit.spans] == ["perdu"]


async def test_ctrl_f_finds_a_mail_on_imap_merged_with_the_local_workspace(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    ws = Workspace(tmp_path / "workspace.db")
    anna = Customer("c-anna", "Anna Müller", "de", email="anna@example.com")
    local_id = ws.create_conversation(channel=Channel.CHAT, customer=anna, subject="Wasserkocher")
    ws.add_message(local_id, direction=Direction.INBOUND, body="Der Wasserkocher leckt", author="Anna")
    ws.close()
    dovecot.deliver(utf8_mail("Wasserkocher defekt", "Mein Wasserkocher ist kaputt.", "<w1@client.test>"))
    app = make_app(tmp_path)
    mailbox = make_backend(dovecot, None, tmp_path / "mail-data")
    local = LocalBackend(tmp_path / "workspace.db", agent_id="alice")
    app = StandardisteApp(
        app.config, [local, mailbox], drafts_path=tmp_path / "drafts.db", outbox_path=tmp_path / "outbox.db"
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            lambda: any(c.startswith("mail:") for c in app.store.conversations), timeout=15, pilot=pilot
        )
        mail_id = next(c for c in app.store.conversations if c.startswith("mail:"))
        await pilot.press("ctrl+f")
        await wait_for_screen(app, SearchScreen, pilot)
        await pilot.press(*"wasserko")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        started = time.monotonic()
        await wait_for(
            lambda: {h.conversation_id for h in screen.hits} == {f"local:{local_id}", mail_id},
            timeout=10,
            pilot=pilot,
        )
        assert time.monotonic() - started < 5
        index = [h.conversation_id for h in screen.hits].index(mail_id)
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("enter")
        await wait_for_screen(app, WorkspaceScreen, pilot)
        workspace = app.screen
        assert isinstance(workspace, WorkspaceScreen)
        await wait_for(lambda: workspace.open_id == mail_id, pilot=pilot)
