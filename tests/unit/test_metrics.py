"""Every wallboard figure checked against the contacts, wrap-ups, CSAT answers and agents that made it.

The expected numbers are worked out by hand in the comments next to each input. Default SLA targets:
phone 20 s, email 24 h.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from standardiste.console.core import erlang
from standardiste.console.core.alerts import AlertConfig, AlertTracker, Thresholds, evaluate, parse_share
from standardiste.console.core.metrics import as_json, compute, local_day_start
from standardiste.console.core.model import (
    Agent,
    Channel,
    Conversation,
    CsatRecord,
    Presence,
    Skills,
    State,
    WrapUpRecord,
)
from standardiste.console.core.sla import SlaPolicy
from standardiste.console.core.trends import TOTAL, Trends

NOW = 1_800_000_000.0
DAY = NOW - 10 * 3600  # "today" began 10 hours ago
H = 3600.0


def conv(
    n: int,
    channel: Channel,
    state: State,
    created: float,
    *,
    answered: float | None = None,
    first_response: float | None = None,
    closed: float | None = None,
    queue: str = "general",
    language: str = "en",
    assignee: str | None = None,
    last_customer: float | None = None,
    snoozed: float | None = None,
    subject: str = "",
) -> Conversation:
    return Conversation(
        id=f"local:{n}",
        channel=channel,
        state=state,
        subject=subject or f"contact {n}",
        customer_id=f"cust{n}",
        customer_name=f"Customer {n}",
        language=language,
        created_at=created,
        updated_at=closed or answered or created,
        queue=queue,
        assignee=assignee,
        answered_at=answered,
        first_response_at=first_response,
        closed_at=closed,
        last_customer_at=last_customer if last_customer is not None else created,
        snoozed_until=snoozed,
    )


P, E = Channel.PHONE, Channel.EMAIL
CONVERSATIONS = [
    # p1: answered after 10 s (met, sealed now-590, recent), ended now-400 (handled, recent)
    conv(1, P, State.ENDED, NOW - 600, answered=NOW - 590, closed=NOW - 400, language="fr"),
    # p2: answered after 50 s (missed, sealed at created+20 = now-680, recent); ana is on it
    conv(2, P, State.CONNECTED, NOW - 700, answered=NOW - 650, assignee="ana", language="fr"),
    # p3: hung up after 5 s, before the 20 s target: abandoned, but left out of the service level
    conv(3, P, State.ABANDONED, NOW - 300, closed=NOW - 295),
    # p4: hung up after 100 s: abandoned and missed (sealed now-180)
    conv(4, P, State.ABANDONED, NOW - 200, closed=NOW - 100),
    # p5: still queued after 45 s: waiting, missed (sealed now-25), in breach
    conv(5, P, State.QUEUED, NOW - 45),
    # p6: ringing for 10 s: waiting, not decided yet, not in breach
    conv(6, P, State.RINGING, NOW - 10),
    # p7: early this morning, answered after 5 s, ended 5 min later: today only
    conv(7, P, State.ENDED, DAY + H, answered=DAY + H + 5, closed=DAY + H + 300),
    # p8: ended yesterday: in no window at all
    conv(8, P, State.ENDED, DAY - 5 * H, answered=DAY - 5 * H + 1, closed=DAY - 4 * H),
    # e1: new for 2 h: waiting, backlog 1-4h, within its 24 h target
    conv(11, E, State.NEW, NOW - 2 * H, queue="returns"),
    # e2: 30 h old, open with ana, unanswered: missed at created+24h = now-6h (today), in breach; the
    #     customer wrote again 30 min ago: backlog <1h; not waiting (someone has it)
    conv(12, E, State.OPEN, NOW - 30 * H, queue="returns", assignee="ana", last_customer=NOW - 1800),
    # e3: answered within a day, pending on the customer: not backlog, sealed yesterday
    conv(13, E, State.PENDING, NOW - 26 * H, first_response=NOW - 25 * H, queue="returns"),
    # e4: snoozed for another hour: neither waiting nor backlog
    conv(14, E, State.NEW, NOW - 5 * H, queue="returns", snoozed=NOW + H),
    # e5: new for 3 days: waiting, backlog >24h, in breach, missed two days ago (not today)
    conv(15, E, State.NEW, NOW - 72 * H, queue="returns", language="de"),
]

WRAPUPS = [
    WrapUpRecord("local:1", "ana", "resolved", "", NOW - 400, 190.0),  # recent and today
    WrapUpRecord("local:7", "bob", "resolved", "", DAY + H + 300, 295.0),  # today
    WrapUpRecord("local:999", "ana", "refund", "", NOW - 60, 100.0),  # unknown contact: centre only
    WrapUpRecord("local:8", "bob", "resolved", "", DAY - 4 * H, 500.0),  # yesterday: ignored
]

HOSTILE = "too long \x1b]0;pwned\x07 a \u202ewait"
CSAT = [
    CsatRecord("local:1", P, 5, "great", NOW - 300, "ana"),
    CsatRecord("local:7", P, 2, HOSTILE, DAY + 2 * H, "bob"),
    CsatRecord("local:13", E, 4, "", NOW - 3 * 86400, "ana"),
    CsatRecord("local:20", Channel.CHAT, 1, "old", NOW - 8 * 86400, "cy"),  # beyond 7 days
]

PHONE_EMAIL = Skills(channels={P: 1, E: 1}, languages=("en", "fr"))
AGENTS = [
    # ana declared herself available; being on a call makes her busy on the board
    Agent("ana", "Ana", PHONE_EMAIL, Presence.AVAILABLE, presence_since=NOW - 650),
    Agent("bob", "Bob", PHONE_EMAIL, Presence.AWAY, "lunch", NOW - 1200),
    Agent("cy", "Cy", Skills(channels={P: 2, Channel.CHAT: 2}), Presence.AVAILABLE, presence_since=NOW - 60),
    Agent("dee", "Dee", Skills(channels={P: 1}), Presence.WRAP_UP, presence_since=NOW - 30),
    Agent("eve", "Eve", Skills(channels={P: 1}), Presence.OFFLINE, presence_since=NOW - 9 * H),
    # do not disturb: logged in, but routing offers her nothing, so she is no server for Erlang C
    Agent("fay", "Fay", Skills(channels={P: 1}), Presence.BUSY, "do not disturb", NOW - 100),
]


@pytest.fixture(scope="module")
def figures():  # type: ignore[no-untyped-def]
    return compute(CONVERSATIONS, AGENTS, WRAPUPS, CSAT, now=NOW, day_start=DAY)


def test_phone_live_figures(figures) -> None:  # type: ignore[no-untyped-def]
    phone = figures.channels[P]
    assert phone.waiting == 2  # p5, p6
    assert phone.longest_wait == 45
    assert phone.breaches == 1  # p5
    assert phone.arrivals == 6  # p1..p6 in the last 30 minutes


def test_phone_last_15_minutes(figures) -> None:  # type: ignore[no-untyped-def]
    recent = figures.channels[P].recent
    assert recent.answered == 2  # p1, p2
    assert recent.asa == 30.0  # (10 + 50) / 2
    assert recent.abandoned == 2  # p3, p4
    assert recent.abandonment_rate == 0.5  # 2 / (2 answered + 2 abandoned)
    assert (recent.sl_met, recent.sl_counted) == (1, 4)  # p1 met; p2, p4, p5 missed; p3 left out
    assert recent.service_level == 0.25
    assert recent.handled == 1  # p1
    assert recent.aht == 190.0


def test_phone_today(figures) -> None:  # type: ignore[no-untyped-def]
    today = figures.channels[P].today
    assert today.answered == 3  # p1, p2, p7
    assert today.asa == pytest.approx(65 / 3)
    assert today.abandonment_rate == pytest.approx(2 / 5)
    assert (today.sl_met, today.sl_counted) == (2, 5)
    assert today.handled == 2  # p1, p7
    assert today.aht == pytest.approx((190 + 295) / 2)


def test_email_backlog_and_breaches(figures) -> None:  # type: ignore[no-untyped-def]
    email = figures.channels[E]
    assert email.backlog == [1, 1, 0, 1]  # e2 <1h, e1 1-4h, e5 >24h
    assert email.waiting == 2  # e1, e5
    assert email.longest_wait == 72 * H
    assert email.breaches == 2  # e2, e5
    assert (email.today.sl_met, email.today.sl_counted) == (0, 1)  # e2, sealed 6 h ago
    assert email.today.service_level == 0.0


def test_centre_totals_include_unmatched_wrapups(figures) -> None:  # type: ignore[no-untyped-def]
    total = figures.total
    assert total.waiting == 4
    assert total.breaches == 3
    assert total.recent.aht == pytest.approx((190 + 100) / 2)
    assert total.today.aht == pytest.approx((190 + 295 + 100) / 3)
    assert total.today.wrapups == 3


def test_queue_and_language_slices(figures) -> None:  # type: ignore[no-untyped-def]
    assert figures.queues["returns"].backlog == figures.channels[E].backlog
    assert figures.queues["general"].waiting == 2
    french = figures.languages["fr"]
    assert french.today.answered == 2  # p1, p2
    assert (french.today.sl_met, french.today.sl_counted) == (1, 2)
    assert figures.languages["de"].waiting == 1  # e5
    assert set(figures.languages) == {"en", "fr", "de"}  # p8 (yesterday) adds nothing


def test_waiting_list_longest_first(figures) -> None:  # type: ignore[no-untyped-def]
    assert [c.id for c in figures.waiting] == ["local:15", "local:11", "local:5", "local:6"]


def test_agents(figures) -> None:  # type: ignore[no-untyped-def]
    # busy, wrap-up, available, away, offline
    assert [a.id for a in figures.agents] == ["ana", "fay", "dee", "cy", "bob", "eve"]
    ana = figures.agents[0]
    assert (ana.presence, ana.declared) == (Presence.BUSY, Presence.AVAILABLE)
    assert [a.conversation_id for a in ana.activities] == ["local:2", "local:12"]  # the call first
    assert ana.activities[0].seconds == 650  # on the call since it was answered
    assert ana.load == {P: (1, 1), E: (1, 10)}
    assert ana.utilisation == 1.0
    assert ana.handled_today == 2  # local:1 and local:999
    assert ana.aht_today == 145.0
    bob = figures.agents[4]
    assert (bob.presence, bob.reason, bob.since) == (Presence.AWAY, "lunch", 1200)
    assert figures.agents[2].in_wrap_up
    assert figures.presence == {
        Presence.AVAILABLE: 1,
        Presence.BUSY: 2,
        Presence.AWAY: 1,
        Presence.WRAP_UP: 1,
        Presence.OFFLINE: 1,
    }


def test_csat(figures) -> None:  # type: ignore[no-untyped-def]
    assert (figures.csat.today.count, figures.csat.today.mean, figures.csat.today.satisfied_share) == (
        2,
        3.5,
        0.5,
    )
    assert figures.csat.week.count == 3
    assert figures.csat.week.mean == pytest.approx(11 / 3)
    assert figures.csat.week.satisfied_share == pytest.approx(2 / 3)
    assert figures.csat_channels[E].today.count == 0
    assert figures.csat_channels[E].week.mean == 4.0
    assert Channel.CHAT not in figures.csat_channels
    assert figures.csat_agents["ana"].week.mean == 4.5
    assert figures.csat_agents["bob"].today.mean == 2.0
    assert [r.score for r in figures.comments] == [2, 5]  # worst first; empty comments left out


def test_staffing_what_if(figures) -> None:  # type: ignore[no-untyped-def]
    phone = figures.staffing[P]
    # ana (busy), cy (available), dee (wrap-up) have the skill and are logged in; bob away, eve offline
    assert phone.servers == 3
    assert phone.arrivals_per_hour == pytest.approx(12.0)  # 6 in 30 minutes
    assert phone.aht == pytest.approx(242.5)
    load = 6 / 1800 * 242.5
    assert [e.agents for e in phone.estimates] == [3, 4, 5, 6]
    assert phone.estimates[0].load == pytest.approx(load)
    assert phone.estimates[0].service_level == pytest.approx(erlang.service_level(3, load, 242.5, 20.0))
    assert phone.needed == erlang.agents_needed(6 / 1800, 242.5, 20.0, 0.8)
    assert Channel.CHAT not in figures.staffing  # no chat contact today


def test_json_is_plain_data_with_sanitised_comments(figures) -> None:  # type: ignore[no-untyped-def]
    data = as_json(figures)
    assert data["channels"]["phone"]["last_15m"]["service_level"] == 0.25
    assert data["channels"]["email"]["backlog"] == {"<1h": 1, "1-4h": 1, "4-24h": 0, ">24h": 1}
    comment = data["csat"]["comments"][0]["comment"]
    assert "\x1b" not in comment and "\x07" not in comment and "\u202e" not in comment
    assert comment.startswith("too long")


def test_tagged_promise_breach_after_answer() -> None:
    refund = replace(
        conv(30, E, State.OPEN, NOW - 3 * 86400, first_response=NOW - 3 * 86400 + 60), tags=("refund",)
    )
    figures = compute([refund], [], [], [], now=NOW, day_start=DAY)
    assert figures.channels[E].breaches == 1  # answered at once, but the 2-day refund promise is broken


def test_priority_and_backend_due_dates() -> None:
    # The backend's own due date wins over the policy: due 5 s after creation, answered at 8 s -> missed.
    strict = replace(
        conv(40, P, State.ENDED, NOW - 100, answered=NOW - 92, closed=NOW - 50), sla_due_at=NOW - 95
    )
    figures = compute([strict], [], [], [], now=NOW, day_start=DAY, policy=SlaPolicy())
    assert figures.channels[P].recent.service_level == 0.0


def test_local_day_start() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 3, 4, 15, 30, tzinfo=UTC).timestamp()
    assert local_day_start(moment, UTC) == datetime(2026, 3, 4, tzinfo=UTC).timestamp()


# ---------------------------------------------------------------------------------------------- alerts


def test_alerts_from_config_and_figures(figures) -> None:  # type: ignore[no-untyped-def]
    config = AlertConfig.from_config(
        {"longest_wait": "30s", "service_level": "80%", "min_sample": 4, "email": {"backlog_24h": 0}}
    )
    alerts = {a.key: a for a in evaluate(figures, config)}
    assert set(alerts) == {
        "phone.longest_wait",
        "phone.service_level",
        "phone.abandonment",
        "email.backlog_24h",
    }
    assert alerts["phone.longest_wait"].value == 45
    assert alerts["phone.service_level"].message == "phone: SL 15m 25% < 80%"
    # With the default sample of 5 the phone's 4 sealed contacts are too few to judge the service level.
    assert "phone.service_level" not in {a.key for a in evaluate(figures, AlertConfig())}


def test_alert_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match=r"alerts\.longest_wiat"):
        AlertConfig.from_config({"longest_wiat": 60})
    with pytest.raises(ValueError, match=r"alerts\.fax"):
        AlertConfig.from_config({"fax": {"waiting": 1}})
    with pytest.raises(ValueError, match=r"alerts\.service_level"):
        AlertConfig.from_config({"service_level": "lots"})
    assert AlertConfig.from_config({"abandonment": False}).live.abandonment is None
    assert parse_share("80%") == parse_share(80) == parse_share(0.8) == 0.8
    assert AlertConfig.from_config({}).for_channel(E) is None
    assert AlertConfig.from_config({"email": {"waiting": 3}}).for_channel(E) == Thresholds(waiting=3)


def test_alert_tracker_reports_new_alerts_once(figures) -> None:  # type: ignore[no-untyped-def]
    tracker = AlertTracker()
    alerts = evaluate(figures, AlertConfig(live=Thresholds(longest_wait=30.0)))
    assert [a.key for a in tracker.update(alerts)] == ["phone.longest_wait"]
    assert tracker.update(alerts) == []
    assert tracker.update([]) == []
    assert len(tracker.update(alerts)) == 1  # it cleared, so raising it again rings again


# ---------------------------------------------------------------------------------------------- trends


def test_trends_rebuild_the_day_and_then_sample() -> None:
    start = 0.0
    calls = [
        # waits from 30 to 150 (answered late: missed, sealed at 50)
        conv(1, P, State.ENDED, 30, answered=150, closed=400),
        # waits from 70 to 80 (answered in 10 s: met, sealed at 80)
        conv(2, P, State.ENDED, 70, answered=80, closed=200),
        # waits from 100, still waiting at 240 (missed, sealed at 120)
        conv(3, P, State.QUEUED, 100),
    ]
    trends = Trends(step=60.0)
    assert trends.update(calls, SlaPolicy(), now=150.0, day_start=start)
    assert trends.times == [60.0, 120.0]
    assert trends.depth(TOTAL) == [1.0, 2.0]  # at 60: call 1; at 120: calls 1 and 3
    # service level over the 15 minutes ending at 60: call 1 missed -> 0; at 120: 1 met of 3
    assert trends.service("phone") == [0.0, pytest.approx(1 / 3)]
    assert not trends.update(calls, SlaPolicy(), now=170.0, day_start=start)  # no minute has passed
    assert trends.update(calls, SlaPolicy(), now=245.0, day_start=start)
    assert trends.times == [60.0, 120.0, 180.0, 240.0]
    assert trends.depth("phone")[2:] == [1.0, 1.0]  # call 3 only
    # a new day starts a new line
    trends.update(calls, SlaPolicy(), now=86400 + 61, day_start=86400.0)
    assert trends.times == [86460.0]


def test_trend_service_gaps_repeat_the_previous_value() -> None:
    trends = Trends(step=60.0, window=60.0)
    calls = [conv(1, P, State.ENDED, 100, answered=105, closed=200)]  # met, sealed at 105
    trends.update(calls, SlaPolicy(), now=300.0, day_start=0.0)
    # 60: nothing yet (dropped), 120: 1.0, 180: gap -> 1.0, 240: gap, 300: gap
    assert trends.service(TOTAL) == [1.0, 1.0, 1.0, 1.0]
    assert math.isclose(trends.depth(TOTAL)[1], 0.0)
