"""Zendesk's satisfaction ratings through the optional `Records` capability, against the fake Zendesk, which
checks each List Satisfaction Ratings request against ticketing/ticket-management/satisfaction_ratings/
(admins only, the `score`, `start_time` and `end_time` filters, cursor pagination)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path

import pytest
from helpdesk_harness import calls, connected
from standardiste.backends.base import Invalid
from standardiste.backends.optional import Records
from standardiste.backends.zendesk import ZendeskBackend
from standardiste.console.core.model import Channel
from zendesk_fake import FakeZendesk
from zendesk_harness import fake_zendesk, make_backend


@pytest.fixture
async def fake() -> AsyncIterator[FakeZendesk]:
    async with fake_zendesk() as fake:
        yield fake


@pytest.fixture
async def admin(fake: FakeZendesk, tmp_path: Path) -> AsyncIterator[ZendeskBackend]:
    """Sam, an admin: List Satisfaction Ratings is for admins."""
    async with connected(make_backend(fake, tmp_path / "data", email="sam@example.test", page_size=2)) as backend:
        yield backend


async def test_the_ratings_of_the_period_are_records_good_as_5_and_bad_as_1(
    fake: FakeZendesk, admin: ZendeskBackend
) -> None:
    now = time.time()
    mail = fake.add_ticket("email", "Refund", "hello", "carla")
    chat = fake.add_ticket("chat", "Chat", "hi", "dan")
    fake.tickets[mail]["assignee_id"] = fake.colleague
    fake.customer_rates(mail, "good", "thanks", at=now - 8 * 86400)  # before the period asked for
    fake.customer_rates(mail, "bad", "too slow", at=now - 7200)
    fake.customer_rates(chat, "offered", at=now - 3600)  # asked, not answered
    fake.customer_rates(chat, "good", at=now - 60)
    fake.customer_rates(mail, "good", "later", at=now - 30)
    await admin.snapshot()

    assert isinstance(admin, Records)
    csat, wrapups = await admin.records(now - 7 * 86400, now - 86400)

    assert wrapups == []
    assert [(r.conversation_id, r.score, r.comment) for r in csat] == [
        (f"zd:{mail}", 1, "too slow"),
        (f"zd:{chat}", 5, ""),
        (f"zd:{mail}", 5, "later"),
    ]
    assert [r.channel for r in csat] == [Channel.EMAIL, Channel.CHAT, Channel.EMAIL]
    assert csat[0].agent_id == "colleague@example.test" and csat[1].agent_id is None
    assert csat[0].customer_id == f"zd:user-{fake.customer('carla')}"
    assert csat[0].at == pytest.approx(now - 7200, abs=1)
    asked = calls(fake, "GET", "/satisfaction_ratings.json")
    assert len(asked) == 2  # cursor pages of 2: three ratings received in the period
    first = asked[0].query
    assert first["score"] == ["received"] and first["start_time"] == [str(int(now - 7 * 86400))]
    assert int(first["end_time"][0]) >= int(now)


async def test_a_ticket_out_of_the_queue_gives_its_channel_and_hostile_comments_are_cleaned(
    fake: FakeZendesk, admin: ZendeskBackend
) -> None:
    now = time.time()
    await admin.snapshot()
    solved = fake.add_ticket("social", "Solved since", "hello", status="solved")
    fake.customer_rates(solved, "bad", "no \x1b]52;c;ZXZpbA==\x07help\x1b[2J", at=now - 10)

    [record], _ = await admin.records(now - 3600, now - 3600)

    assert record.channel is Channel.SOCIAL
    assert record.comment == "no help"
    assert calls(fake, "GET", f"/tickets/{solved}.json")


async def test_an_agent_who_is_not_an_admin_gets_no_ratings_and_is_not_asked_again(
    fake: FakeZendesk, tmp_path: Path
) -> None:
    number = fake.add_ticket("email", "Rated", "hello")
    fake.customer_rates(number, "good")
    async with connected(make_backend(fake, tmp_path / "data")) as ann:
        assert await ann.records(0, 0) == ([], [])
        assert await ann.records(0, 0) == ([], [])
    assert len(calls(fake, "GET", "/satisfaction_ratings.json")) == 1


async def test_the_fake_refuses_a_score_the_reference_does_not_list(fake: FakeZendesk, admin: ZendeskBackend) -> None:
    """The check the fake makes of every List Satisfaction Ratings request, seen failing."""
    with pytest.raises(Invalid, match="400"):
        await admin.http_client.get("/api/v2/satisfaction_ratings.json", score="great")
    assert fake.violations and "score must be one of" in fake.violations[0]
    fake.violations.clear()  # the fixture asserts none: this one was made on purpose


async def test_the_supervise_wallboard_over_zendesk_shows_its_csat(fake: FakeZendesk, tmp_path: Path) -> None:
    """`standardiste supervise` on a Zendesk workspace signed in as an admin: the wallboard reads the
    ratings once connected and its CSAT figure of the week counts them."""
    from app_harness import wait_for
    from standardiste.console.ui.wallboard.app import WallboardApp
    from standardiste.console.ui.wallboard.screen import WallboardScreen

    now = time.time()
    number = fake.add_ticket("email", "Rated", "hello")
    fake.customer_rates(number, "good", "merci", at=now - 120)
    fake.customer_rates(number, "bad", "lent", at=now - 60)
    app = WallboardApp(make_backend(fake, tmp_path / "data", email="sam@example.test"), tz=UTC, bell=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: len(app.store.csat) == 2, pilot=pilot)
        screen = app.screen
        assert isinstance(screen, WallboardScreen)
        await wait_for(lambda: screen.figures is not None and screen.figures.csat.week.count == 2, pilot=pilot)
        assert sorted(r.score for r in app.store.csat) == [1, 5]
