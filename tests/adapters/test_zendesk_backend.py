"""The Zendesk adapter against the fake Zendesk (tests/zendesk_fake/, written from Zendesk's API reference):
which API call each console action makes, the safe updates' 409, channels, files, search, the incremental
export within its rate limit, Talk availability and queue activity, rate limits and auth errors."""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import AsyncIterator
from pathlib import Path

import helpdesk_harness
import pytest
from helpdesk_harness import calls, connected, following
from standardiste.backends.base import (
    AgentUpdated,
    Assign,
    AuthError,
    BackendStatus,
    Claim,
    Conflict,
    ConversationRemoved,
    Invalid,
    LinkState,
    Note,
    Release,
    Reply,
    SetPresence,
    SetPriority,
    SetStatus,
    Tags,
    Transfer,
)
from standardiste.backends.optional import QueueFigures, Search
from standardiste.backends.zendesk import ZendeskBackend, parse_settings
from standardiste.console.core.model import Attachment, Channel, Direction, Presence, Priority, State
from zendesk_fake import FakeZendesk, iso
from zendesk_harness import fake_zendesk, make_backend


class Events(helpdesk_harness.Events):
    step = 0.02  # Zendesk's changes are polled: no need to look as often


@pytest.fixture
async def fake() -> AsyncIterator[FakeZendesk]:
    async with fake_zendesk() as fake:
        yield fake


@pytest.fixture
async def backend(fake: FakeZendesk, tmp_path: Path) -> AsyncIterator[ZendeskBackend]:
    async with connected(make_backend(fake, tmp_path / "data", views=["360002"])) as backend:
        yield backend


@pytest.fixture
async def events(backend: ZendeskBackend) -> AsyncIterator[Events]:
    async with following(backend, Events) as events:
        yield events


async def test_each_console_action_is_the_right_zendesk_call(
    fake: FakeZendesk, backend: ZendeskBackend, events: Events
) -> None:
    number = fake.add_ticket("email", "Refund", "I want my money back")
    cid = f"zd:{number}"
    await events.wait(lambda: events.last(cid) is not None)
    path = f"/api/v2/tickets/{number}.json"

    await backend.perform(Reply(conversation_id=cid, body="On its way"))
    await backend.perform(Note(conversation_id=cid, body="Checked with billing"))
    comments = [s.body["ticket"] for s in calls(fake, "PUT", path)]
    # Comments are added without a safe update: a comment never undoes a colleague's change.
    assert comments == [
        {"comment": {"body": "On its way", "public": True}},
        {"comment": {"body": "Checked with billing", "public": False}},
    ]

    await backend.perform(SetStatus(conversation_id=cid, state=State.PENDING))
    await backend.perform(SetPriority(conversation_id=cid, priority=Priority.URGENT))
    await backend.perform(Tags(conversation_id=cid, add=("billing", "vip")))
    await backend.perform(Tags(conversation_id=cid, remove=("vip",), add=("refund",)))
    await backend.perform(Assign(conversation_id=cid, assignee="colleague@example.test"))
    await backend.perform(Assign(conversation_id=cid, assignee=None))
    await backend.perform(Claim(conversation_id=cid))
    await backend.perform(Release(conversation_id=cid))
    await backend.perform(Transfer(conversation_id=cid, to_queue="billing"))
    bodies = [s.body["ticket"] for s in calls(fake, "PUT", path)][2:]
    stamps = [b.pop("updated_stamp", None) for b in bodies]
    assert bodies == [
        {"status": "pending", "safe_update": True},
        {"priority": "urgent", "safe_update": True},
        {"additional_tags": ["billing", "vip"]},
        {"additional_tags": ["refund"], "remove_tags": ["vip"]},
        {"assignee_id": fake.colleague, "safe_update": True},
        {"assignee_id": None, "safe_update": True},
        {"assignee_id": fake.me, "safe_update": True},
        {"assignee_id": None, "safe_update": True},
        {"group_id": 2, "safe_update": True},
    ]
    # Each safe update carries the updated_at of the state the previous change left (no 409 on its own).
    assert all(isinstance(s, str) and s.endswith("Z") for i, s in enumerate(stamps) if i not in (2, 3))

    await backend.perform(SetPresence(presence=Presence.BUSY))
    assert calls(fake, "PUT", f"/availabilities/{fake.me}.json")[-1].body == {
        "availability": {"agent_state": "transfers_only"}
    }
    assert fake.availability[fake.me]["agent_state"] == "transfers_only"

    await events.wait(
        lambda: events.last(cid).queue == "Billing" and events.last(cid).tags == ("billing", "refund")
    )
    shown = events.last(cid)
    assert (shown.state, shown.priority, shown.assignee) == (State.PENDING, Priority.URGENT, None)
    assert [m.message.direction for m in events.messages("Checked with billing")] == [Direction.NOTE]
    assert [m.message.author for m in events.messages("On its way")] == ["ann@example.test"]
    await events.wait(
        lambda: any(isinstance(e, AgentUpdated) and e.agent.presence is Presence.BUSY for e in events.seen)
    )


async def test_a_ticket_changed_meanwhile_is_a_conflict_and_the_console_sees_the_change(
    fake: FakeZendesk, backend: ZendeskBackend, events: Events
) -> None:
    number = fake.add_ticket("form", "Broken lamp", "it flickers")
    cid = f"zd:{number}"
    await events.wait(lambda: events.last(cid) is not None)
    await events.stop()  # the console has not seen the colleague's change yet
    # In a later second (Zendesk's updated_at is in whole seconds: a change within the same one is not seen).
    fake.colleague_updates(number, status="solved", assignee_id=fake.colleague, at=time.time() + 1.5)
    with pytest.raises(Conflict, match="changed by someone else") as caught:
        await backend.perform(SetPriority(conversation_id=cid, priority=Priority.HIGH))
    assert "409" in str(caught.value)
    assert fake.tickets[number]["priority"] is None  # nothing overwritten
    # The ticket as the colleague left it is announced with the conflict, so the console shows it.
    tail = Events(backend)
    try:
        await tail.wait(lambda: tail.last(cid) is not None and tail.last(cid).state is State.SOLVED)
        assert tail.last(cid).assignee == "colleague@example.test"
    finally:
        await tail.stop()
    # Now that the console knows, the change goes through.
    await backend.perform(SetPriority(conversation_id=cid, priority=Priority.HIGH))
    assert fake.tickets[number]["priority"] == "high"


async def test_a_refused_value_is_invalid_with_zendesks_reason(
    fake: FakeZendesk, backend: ZendeskBackend
) -> None:
    number = fake.add_ticket("email", "Reopened", "hello", status="open")
    await backend.snapshot()
    with pytest.raises(Invalid, match=r"422.*Status: new is not valid"):
        await backend.perform(SetStatus(conversation_id=f"zd:{number}", state=State.NEW))
    with pytest.raises(Invalid, match="no agent"):
        await backend.perform(Assign(conversation_id=f"zd:{number}", assignee="nobody@example.test"))
    with pytest.raises(Invalid, match="no group"):
        await backend.perform(Transfer(conversation_id=f"zd:{number}", to_queue="nowhere"))


async def test_claiming_a_colleagues_ticket_is_a_conflict_naming_them(
    fake: FakeZendesk, backend: ZendeskBackend
) -> None:
    number = fake.add_ticket("email", "Taken", "hello", status="open")
    fake.tickets[number]["assignee_id"] = fake.colleague
    with pytest.raises(Conflict) as caught:
        await backend.perform(Claim(conversation_id=f"zd:{number}"))
    assert caught.value.owner == "colleague@example.test"
    assert not calls(fake, "PUT", f"/tickets/{number}.json")
    await backend.perform(Claim(conversation_id=f"zd:{number}", force=True))
    assert fake.tickets[number]["assignee_id"] == fake.me


async def test_channels_states_and_the_requester_as_customer(
    fake: FakeZendesk, backend: ZendeskBackend
) -> None:
    made = {
        channel: fake.add_ticket(channel, f"{channel} subject", "hello", status="open")
        for channel in ("email", "form", "chat", "social", "phone")
    }
    fake.tickets[made["chat"]]["status"] = "new"
    fake.tickets[made["email"]]["status"] = "hold"
    snapshot = await backend.snapshot()
    by_subject = {c.subject: c for c in snapshot.conversations}
    assert {s: (c.channel, c.state) for s, c in by_subject.items()} == {
        "email subject": (Channel.EMAIL, State.PENDING),
        "form subject": (Channel.FORM, State.OPEN),
        "chat subject": (Channel.CHAT, State.WAITING),
        "social subject": (Channel.SOCIAL, State.OPEN),
        "phone subject": (Channel.PHONE, State.WRAP_UP),
    }
    ticket = by_subject["email subject"]
    assert ticket.customer_name == "Ann" and ticket.language == "fr" and ticket.queue == "Support"
    assert {c.email for c in snapshot.customers} == {"ann@customer.test"}
    assert snapshot.me == "ann@example.test"
    assert {a.id: a.presence for a in snapshot.agents}["ann@example.test"] is Presence.AVAILABLE
    # Show Many Users: every requester at once, not one request each.
    assert len(calls(fake, "GET", "/users/show_many.json")) == 1


async def test_history_and_the_customers_other_tickets(fake: FakeZendesk, backend: ZendeskBackend) -> None:
    old = fake.add_ticket("email", "Last year", "old question", "zoe", status="solved", at=1_000_000.0)
    new = fake.add_ticket("form", "Today", "new question", "zoe")
    fake.add_ticket("form", "Someone else", "hi", "max")
    await backend.perform(Note(conversation_id=f"zd:{new}", body="internal"))
    await fake.customer_writes(new, "any news?")
    history = await backend.history(f"zd:{new}")
    assert [(m.direction, m.body) for m in history] == [
        (Direction.INBOUND, "new question"),
        (Direction.NOTE, "internal"),
        (Direction.INBOUND, "any news?"),
    ]
    snapshot = await backend.snapshot()
    zoe = next(c.customer_id for c in snapshot.conversations if c.subject == "Today")
    assert [c.id for c in await backend.customer_history(zoe)] == [f"zd:{new}", f"zd:{old}"]
    customer = await backend.customer(zoe)
    assert customer is not None and customer.email == "zoe@customer.test"
    assert await backend.customer_history("elsewhere:user-1") == []


async def test_a_reply_with_files_uploads_them_and_names_the_upload(
    fake: FakeZendesk, backend: ZendeskBackend, events: Events, tmp_path: Path
) -> None:
    number = fake.add_ticket("email", "Invoice", "send it please")
    await events.wait(lambda: events.last(f"zd:{number}") is not None)
    invoice, photo = tmp_path / "invoice 42.pdf", tmp_path / "photo.png"
    invoice.write_bytes(b"%PDF-1.4 pretend")
    photo.write_bytes(b"\x89PNG pretend")
    sent = await backend.perform(
        Reply(
            conversation_id=f"zd:{number}",
            body="Here they are",
            attachments=(
                Attachment(filename="invoice 42.pdf", content_type="application/pdf", ref=str(invoice)),
                Attachment(filename="photo.png", content_type="image/png", ref=str(photo)),
            ),
        )
    )
    uploads = calls(fake, "POST", "/uploads.json")
    assert [u.query["filename"] for u in uploads] == [["invoice 42.pdf"], ["photo.png"]]
    assert uploads[0].headers["content-type"] == "application/pdf" and uploads[0].body == b"%PDF-1.4 pretend"
    token = uploads[1].query["token"][0]  # the second file joins the first one's upload
    put = calls(fake, "PUT", f"/tickets/{number}.json")[-1].body
    assert put == {"ticket": {"comment": {"body": "Here they are", "public": True, "uploads": [token]}}}
    assert sent.message is not None
    assert [a.filename for a in sent.message.attachments] == ["invoice 42.pdf", "photo.png"]
    await events.wait(lambda: events.messages("Here they are"))
    pdf = events.messages("Here they are")[0].message.attachments[0]
    assert await backend.attachment(f"zd:{number}", pdf) == b"%PDF-1.4 pretend"
    with pytest.raises(Invalid, match="cannot read"):
        await backend.perform(
            Reply(
                conversation_id=f"zd:{number}",
                body="again",
                attachments=(Attachment(filename="gone.pdf", ref=str(tmp_path / "gone.pdf")),),
            )
        )


async def test_search_finds_open_and_solved_tickets_in_zendesks_query_language(
    fake: FakeZendesk, backend: ZendeskBackend
) -> None:
    assert isinstance(backend, Search)
    old = fake.add_ticket("email", "Old refund", "My card was declined twice", status="solved")
    fake.tickets[old]["tags"] = ["vip"]
    fake.add_ticket("chat", "Other", "Where is my parcel")
    hits = await backend.search('"card was declined" tag:vip')
    assert [h.conversation_id for h in hits] == [f"zd:{old}"]
    assert hits[0].conversation is not None and hits[0].conversation.state is State.SOLVED
    assert [hits[0].snippet[a:b] for a, b in hits[0].spans] == ["card", "was", "declined"]
    assert calls(fake, "GET", "/search.json")[-1].query["query"] == [
        'type:ticket "card was declined" tags:vip'
    ]
    assert [h.conversation_id for h in await backend.search("parc")] != []  # the word typed is a prefix
    assert calls(fake, "GET", "/search.json")[-1].query["query"] == ["type:ticket parc*"]
    assert await backend.search("nothing like this ") == []
    with pytest.raises(Invalid, match="channel"):
        await backend.search("refund channel:email")


async def test_a_ticket_solved_elsewhere_leaves_the_view_and_the_incremental_export_says_so(
    fake: FakeZendesk, tmp_path: Path
) -> None:
    fake.export_delay = 0.0  # the real export is a minute behind; the mechanism is the same
    number = fake.add_ticket("email", "Solved elsewhere", "hello", status="open", at=time.time() - 300)
    gone = fake.add_ticket("email", "Deleted elsewhere", "spam", status="open", at=time.time() - 300)
    # Zendesk allows the export to admins: Sam is one. Their view holds none of these tickets.
    backend = make_backend(fake, tmp_path, views=["Your unsolved tickets"], email="sam@example.test")
    await backend.connect()
    try:
        snapshot = await backend.snapshot()
        assert {c.id for c in snapshot.conversations} == {f"zd:{number}", f"zd:{gone}"}  # from the search
        tail = Events(backend)
        fake.colleague_updates(number, status="solved")
        fake.colleague_updates(gone, status="deleted")
        await tail.wait(lambda: tail.last(f"zd:{number}") is not None)
        assert tail.last(f"zd:{number}").state is State.SOLVED
        await tail.wait(
            lambda: any(
                isinstance(e, ConversationRemoved) and e.conversation_id == f"zd:{gone}" for e in tail.seen
            )
        )
        exports = calls(fake, "GET", "/incremental/tickets/cursor.json")
        assert "start_time" in exports[0].query and int(exports[0].query["start_time"][0]) < time.time() - 60
        assert all("cursor" in e.query for e in exports[1:])
        await tail.stop()
    finally:
        await backend.close()


async def test_without_views_the_queues_search_is_polled_for_what_was_updated(
    fake: FakeZendesk, tmp_path: Path
) -> None:
    backend = make_backend(fake, tmp_path)
    async with connected(backend), following(backend, Events) as tail:
        number = fake.add_ticket("email", "Found by the search", "first words")
        await tail.wait(lambda: tail.messages("first words") and tail.last(f"zd:{number}") is not None)
        await fake.customer_writes(number, "second words")
        await tail.wait(lambda: tail.messages("second words"))
        assert len(tail.messages("first words")) == 1
        queries = {s.query["query"][0].rpartition(" ")[0] for s in calls(fake, "GET", "/search/export.json")}
        assert "status<solved" in queries  # the queue's query, its type in filter[type], with updated>


async def test_for_an_agent_who_is_not_an_admin_a_search_replaces_the_export(
    fake: FakeZendesk, tmp_path: Path
) -> None:
    """The incremental export is for admins: a 403 there is not an auth failure of the workspace, the adapter
    searches for every ticket updated lately instead (and asks the export no more)."""
    number = fake.add_ticket("email", "Solved by a colleague", "hello", status="open")
    backend = make_backend(fake, tmp_path, views=["Your unsolved tickets"])  # Ann's view: none of hers
    async with connected(backend), following(backend, Events) as tail:
        fake.colleague_updates(number, status="solved", assignee_id=fake.colleague)  # likely the same second
        await tail.wait(
            lambda: tail.last(f"zd:{number}") is not None and tail.last(f"zd:{number}").state is State.SOLVED
        )
        assert tail.error is None
        assert not any(isinstance(e, BackendStatus) and e.state is LinkState.DOWN for e in tail.seen)
        assert len(calls(fake, "GET", "/incremental/tickets/cursor.json")) == 1
        searched = [s.query["query"][0] for s in calls(fake, "GET", "/search/export.json")]
        assert any(q.startswith("updated>") for q in searched) and not any("type:" in q for q in searched)


async def test_the_incremental_export_keeps_within_ten_requests_a_minute(
    fake: FakeZendesk, tmp_path: Path
) -> None:
    """With an interval far too short (allowed for 127.0.0.1 only), the server's 429 and Retry-After pace the
    export, and the account is not reported down: the views keep bringing changes."""
    fake._export.seconds = 60.0
    backend = make_backend(fake, tmp_path, views=["360002"], export_interval=0.05, email="sam@example.test")
    async with connected(backend), following(backend, Events) as tail:
        await tail.wait(lambda: len(calls(fake, "GET", "/incremental/tickets/cursor.json")) >= 11)
        number = fake.add_ticket("form", "Still polled", "hello")
        await tail.wait(lambda: tail.last(f"zd:{number}") is not None)
        await asyncio.sleep(0.3)  # a twelfth would be asked by now if the Retry-After were not obeyed
        exports = calls(fake, "GET", "/incremental/tickets/cursor.json")
        assert len(exports) == 11  # ten answered, one 429 whose Retry-After (about a minute) is waited for
        assert not any(isinstance(e, BackendStatus) and e.state is LinkState.DOWN for e in tail.seen)
    with pytest.raises(Invalid, match="10 incremental exports a minute"):
        parse_settings("zd", {"subdomain": "acme", "email": "a@acme.test", "export_interval": 1})
    assert parse_settings("zd", {"subdomain": "acme", "email": "a@acme.test"}).export_interval == 6.0


async def test_talk_availability_is_the_phone_presence_and_queue_activity_is_offered(
    fake: FakeZendesk, backend: ZendeskBackend, events: Events
) -> None:
    fake.availability[fake.me]["agent_state"] = "away"  # set in Zendesk's own agent workspace
    await events.wait(
        lambda: any(
            isinstance(e, AgentUpdated)
            and e.agent.id == "ann@example.test"
            and e.agent.presence is Presence.AWAY
            for e in events.seen
        )
    )
    await backend.perform(SetPresence(presence=Presence.AVAILABLE))
    assert fake.availability[fake.me]["agent_state"] == "online"
    assert isinstance(backend, QueueFigures)
    figures = await backend.queue_activity()
    assert (figures.calls_waiting, figures.callbacks_waiting, figures.longest_wait_seconds) == (5, 3, 120.0)
    assert (figures.average_wait_seconds, figures.agents_online, figures.backend) == (45.0, 3, "zd")
    fake.talk = False  # Talk turned off while the console runs: presence stops, the workspace goes on
    number = fake.add_ticket("email", "After Talk", "hello")
    await events.wait(lambda: events.last(f"zd:{number}") is not None)
    assert events.error is None and not backend._talk


async def test_an_account_without_talk_connects_without_phone_presence(
    fake: FakeZendesk, tmp_path: Path
) -> None:
    fake.talk = False
    backend = make_backend(fake, tmp_path)
    await backend.connect()
    try:
        snapshot = await backend.snapshot()
        assert {a.presence for a in snapshot.agents} == {Presence.OFFLINE}
        with pytest.raises(Invalid, match="no Talk"):
            await backend.perform(SetPresence(presence=Presence.AWAY))
    finally:
        await backend.close()


async def test_a_wrong_token_is_an_auth_error_that_does_not_show_it(
    fake: FakeZendesk, tmp_path: Path
) -> None:
    secret = "wrong-token-0123456789"
    backend = ZendeskBackend(
        "zd",
        parse_settings("zd", {"url": fake.base_url, "email": "ann@example.test"}),
        agent_id="ann",
        data_dir=tmp_path,
        secret=lambda: secret,
    )
    with pytest.raises(AuthError) as caught:
        await backend.connect()
    basic = base64.b64encode(f"ann@example.test/token:{secret}".encode()).decode()
    assert "401" in str(caught.value) and "standardiste login" in str(caught.value)
    assert (
        secret not in str(caught.value)
        and basic not in str(caught.value)
        and fake.token not in str(caught.value)
    )
    auth = calls(fake, "GET", "/users/me.json")[-1].headers["authorization"]
    assert auth == f"Basic {basic}"


async def test_a_server_echoing_the_token_is_scrubbed(fake: FakeZendesk, backend: ZendeskBackend) -> None:
    number = fake.add_ticket("email", "Echo", "hello")
    fake.fail(
        "GET",
        rf"/tickets/{number}/comments",
        400,
        body={"error": "BadRequest", "description": f"token {fake.token}"},
    )
    with pytest.raises(Invalid) as caught:
        await backend.history(f"zd:{number}")
    assert fake.token not in str(caught.value) and "***" in str(caught.value)


async def test_a_token_of_another_agent_is_refused(fake: FakeZendesk, tmp_path: Path) -> None:
    backend = make_backend(fake, tmp_path, email="colleague@example.test")
    backend._secret = lambda: fake.token
    await backend.connect()  # the token is the account's: any agent may use it with their own email
    await backend.close()
    fake.users[fake.colleague]["role"] = "end-user"
    with pytest.raises(AuthError):
        await make_backend(fake, tmp_path, email="colleague@example.test").connect()


async def test_a_poll_answered_429_waits_as_long_as_zendesk_asks(fake: FakeZendesk, events: Events) -> None:
    number = fake.add_ticket("email", "Slow", "hello")
    await events.wait(lambda: events.last(f"zd:{number}") is not None)
    fake.fail(
        "GET",
        r"/views/360002/tickets",
        429,
        headers={"Retry-After": "1"},
        body={"error": "APIRateLimitExceeded"},
    )
    await asyncio.sleep(0.5)
    later = fake.add_ticket("email", "After the wait", "hello")
    took = await events.wait(lambda: events.last(f"zd:{later}") is not None, timeout=8)
    assert took >= 0.5
    views = calls(fake, "GET", "/views/360002/tickets.json")
    gaps = [b.at - a.at for a, b in itertools.pairwise(views)]
    assert max(gaps) >= 1.0  # the retry came after the Retry-After, not before


async def test_a_long_rate_limit_is_reported_down_naming_the_backend_and_ridden_out(
    fake: FakeZendesk, events: Events
) -> None:
    fake.fail(
        "GET",
        r"/views/360002/tickets",
        429,
        headers={"Retry-After": "45"},
        body={"error": "APIRateLimitExceeded"},
    )
    await events.wait(
        lambda: any(isinstance(e, BackendStatus) and e.state is LinkState.DOWN for e in events.seen)
    )
    down = next(e for e in events.seen if isinstance(e, BackendStatus) and e.state is LinkState.DOWN)
    assert down.backend == "zd" and "zendesk zd" in down.detail and "45" in down.detail
    assert down.retry_in is not None and down.retry_in >= 44
    assert events.error is None


def test_settings_subdomain_url_and_clear_text() -> None:
    assert (
        parse_settings("d", {"subdomain": "Acme", "email": "Ann@Acme.test"}).url == "https://acme.zendesk.com"
    )
    with pytest.raises(Invalid, match="https"):
        parse_settings("d", {"url": "http://acme.zendesk.com", "email": "a@acme.test"})
    with pytest.raises(Invalid, match="not both"):
        parse_settings("d", {"url": "https://x.test", "subdomain": "acme", "email": "a@acme.test"})
    with pytest.raises(Invalid, match="email"):
        parse_settings("d", {"subdomain": "acme", "email": "ann"})
    with pytest.raises(Invalid, match="token"):
        parse_settings("d", {"subdomain": "acme", "email": "a@acme.test", "token": "x"})
    assert iso(0) == "1970-01-01T00:00:00Z"
