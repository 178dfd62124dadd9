"""Chatwoot's CSAT survey responses through the optional `Records` capability, against the fake Chatwoot,
whose every request and answer on `csat_survey_responses` is checked against the facts the supplement
(tests/adapters/chatwoot_spec/supplement.json) took from Chatwoot's controller and views."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from chatwoot_fake import FakeChatwoot
from chatwoot_fake_spec import SpecChecker
from chatwoot_harness import fake_chatwoot, make_backend
from helpdesk_harness import calls, connected
from standardiste.backends.chatwoot import ChatwootBackend
from standardiste.backends.optional import Records
from standardiste.console.core.model import Channel

PATH = "/api/v1/accounts/1/csat_survey_responses"


@pytest.fixture
async def fake() -> AsyncIterator[FakeChatwoot]:
    async with fake_chatwoot() as fake:
        yield fake


@pytest.fixture
async def backend(fake: FakeChatwoot, tmp_path: Path) -> AsyncIterator[ChatwootBackend]:
    async with connected(make_backend(fake, tmp_path / "data")) as backend:
        yield backend


async def test_the_csat_answers_of_the_period_are_records_with_their_channel_agent_and_customer(
    fake: FakeChatwoot, backend: ChatwootBackend
) -> None:
    now = time.time()
    chat = fake.add_conversation("chat", "Widget", "hi", "carla", broadcast=False)
    mail = fake.add_conversation("email", "Mail", "hello", "dan", broadcast=False)
    fake.conversations[mail]["assignee_id"] = fake.colleague
    fake.customer_rates(chat, 2, "too slow", at=now - 8 * 86400)  # before the period asked for
    fake.customer_rates(mail, 5, "perfect", at=now - 3600)
    fake.customer_rates(chat, 3, None, at=now - 60)
    await backend.snapshot()

    assert isinstance(backend, Records)
    csat, wrapups = await backend.records(now - 7 * 86400, now - 86400)

    assert wrapups == []
    assert [(r.conversation_id, r.score, r.comment) for r in csat] == [(f"cw:{mail}", 5, "perfect"), (f"cw:{chat}", 3, "")]
    assert [r.channel for r in csat] == [Channel.EMAIL, Channel.CHAT]
    assert csat[0].agent_id == "colleague@example.test" and csat[1].agent_id is None
    contacts = {c["key"]: c["id"] for c in fake.contacts.values()}
    assert [r.customer_id for r in csat] == [f"cw:contact-{contacts['dan']}", f"cw:contact-{contacts['carla']}"]
    assert csat[0].at == pytest.approx(now - 3600, abs=1)
    [asked] = calls(fake, "GET", "/csat_survey_responses")
    assert asked.query["since"] == str(int(now - 7 * 86400)) and int(asked.query["until"]) >= int(now)
    assert asked.query["page"] == "1"


async def test_every_page_of_25_is_read_once(fake: FakeChatwoot, backend: ChatwootBackend) -> None:
    now = time.time()
    display = fake.add_conversation("chat", "Many", "hi", broadcast=False)
    for n in range(60):
        fake.customer_rates(display, 1 + n % 5, f"answer {n}", at=now - 600 + n)

    csat, _ = await backend.records(now - 3600, now - 3600)

    assert [r.comment for r in csat] == [f"answer {n}" for n in range(60)]
    assert [s.query["page"] for s in calls(fake, "GET", "/csat_survey_responses")] == ["1", "2", "3"]


async def test_a_server_that_does_not_page_is_read_once_and_not_forever(
    fake: FakeChatwoot, backend: ChatwootBackend
) -> None:
    """An older Chatwoot answered every response of the range whatever the page: a page that brings none
    not seen yet ends the reading."""
    now = time.time()
    display = fake.add_conversation("chat", "Old server", "hi", broadcast=False)
    for n in range(30):
        fake.customer_rates(display, 4, f"old {n}", at=now - 100 + n)
    every = fake._csat_list
    fake._csat_list = lambda query: every({**query, "page": "1"}) + every({**query, "page": "2"})  # type: ignore[method-assign]

    csat, _ = await backend.records(now - 3600, now - 3600)

    assert len(csat) == 30
    assert len(calls(fake, "GET", "/csat_survey_responses")) == 2


async def test_a_conversation_out_of_the_queue_gives_its_channel_and_hostile_feedback_is_cleaned(
    fake: FakeChatwoot, backend: ChatwootBackend
) -> None:
    now = time.time()
    await backend.snapshot()
    display = fake.add_conversation("email", "Resolved since", "hello", broadcast=False)
    fake.conversations[display]["status"] = "resolved"  # not a status the queue holds: read for its inbox
    fake.customer_rates(display, 1, "bad \x1b]0;owned\x07service\x1b[2J", at=now - 10)

    [record], _ = await backend.records(now - 3600, now - 3600)

    assert record.channel is Channel.EMAIL
    assert record.comment == "bad service"
    assert calls(fake, "GET", f"/conversations/{display}")


def test_the_checker_holds_the_adapter_and_the_fake_to_the_documented_shapes() -> None:
    """The facts the supplement states, seen failing: the range is Unix seconds, the rating 1 to 5, and an
    answer holds only what Chatwoot's view writes."""
    checker = SpecChecker("http://127.0.0.1:1")
    headers = {"api_access_token": "t"}
    assert checker.request("GET", PATH, {"since": "1700000000", "until": "1700003600", "page": "1"}, headers, b"") is None
    assert checker.request("GET", PATH, {"since": "yesterday", "until": "1700003600"}, headers, b"") is not None
    good: dict[str, Any] = {"id": 1, "rating": 5, "feedback_message": None, "account_id": 1, "message_id": 3,
                            "conversation_id": 7, "created_at": 1700000000}
    for answer, allowed in (([good], True), ([{**good, "rating": 6}], False), ([{**good, "inbox_id": 2}], False)):
        before = len(checker.violations)
        checker.response("GET", PATH, {}, headers, b"", 200, json.dumps(answer).encode())
        assert (len(checker.violations) == before) is allowed, checker.violations[before:]


async def test_the_supervise_wallboard_over_chatwoot_shows_its_csat(fake: FakeChatwoot, tmp_path: Path) -> None:
    """`standardiste supervise` on a Chatwoot workspace: the wallboard reads the records once connected
    and its CSAT figure of the week counts them."""
    from app_harness import wait_for
    from standardiste.console.ui.wallboard.app import WallboardApp
    from standardiste.console.ui.wallboard.screen import WallboardScreen

    now = time.time()
    display = fake.add_conversation("chat", "Rated", "hi", broadcast=False)
    fake.customer_rates(display, 4, "bien", at=now - 120)
    fake.customer_rates(display, 2, "lent", at=now - 60)
    app = WallboardApp(make_backend(fake, tmp_path / "data"), tz=UTC, bell=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: len(app.store.csat) == 2, pilot=pilot)
        screen = app.screen
        assert isinstance(screen, WallboardScreen)
        await wait_for(lambda: screen.figures is not None and screen.figures.csat.week.count == 2, pilot=pilot)
        assert {(r.score, r.comment, r.channel) for r in app.store.csat} == {(4, "bien", Channel.CHAT), (2, "lent", Channel.CHAT)}
