"""Scenario replay: the shipped example replays exactly what it scripts, at the scripted times, and a broken
file is refused as a whole with every bad line named."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from standardiste.backends.base import Accept, HangUp, Reply, WrapUp
from standardiste.backends.local import commands
from standardiste.backends.local.rows import qualify
from standardiste.backends.local.simulator.engine import Simulator, run_simulator
from standardiste.backends.local.simulator.scenario import (
    ContactEvent,
    ScenarioError,
    load_scenario,
    parse_scenario,
)
from standardiste.backends.local.workspace import Workspace
from standardiste.console.core.model import Channel, Direction, Priority, State

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "christmas-morning.jsonl"
START = 1_766_390_400.0


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def line(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


def test_the_shipped_example_is_valid() -> None:
    scenario = load_scenario(EXAMPLE)
    contacts = scenario.contacts
    assert len(contacts) == 8
    assert {c.channel for c in contacts} == set(Channel)
    assert len({c.customer.language for c in contacts}) >= 7
    assert [e.at for e in scenario.events] == sorted(e.at for e in scenario.events)


def test_replay_creates_exactly_the_scripted_contacts_at_their_times(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    scenario = load_scenario(EXAMPLE)
    clock = FakeClock()
    agent = Workspace(db, clock=clock)
    # A rate is given, but a scenario is the whole script: no random contact may appear.
    with Simulator(db, rate=120.0, seed=1, clock=clock, scenario=scenario) as sim:
        sim.step()
        assert [c.subject for c in agent.conversations()] == ["Où est mon colis ? Commande FR4417702"]
        claire = sim.refs["call-claire"]
        commands.perform(agent, Accept(conversation_id=qualify(claire), agent_id="me"))

        clock.now = START + 11.0
        sim.step()
        jonas = sim.refs["chat-jonas"]
        assert agent.typing(jonas) == []
        clock.now = START + 12.0
        sim.step()
        assert agent.typing(jonas) == ["customer"]  # typing from 12 s, the message lands at 16 s
        assert len(agent.messages(jonas)) == 1
        clock.now = START + 16.0
        sim.step()
        assert agent.typing(jonas) == []
        assert agent.messages(jonas)[-1].body.startswith("Es ist ein Geschenk")

        for second in range(17, 200):
            clock.now = START + second
            sim.step()
            if second == 70:
                commands.perform(
                    agent, Reply(conversation_id=qualify(jonas), agent_id="me", body="Ja, sicher!")
                )

        contacts = agent.conversations()
        assert len(contacts) == len(scenario.contacts)  # nothing random was added
        expected = {c.ref: c for c in scenario.contacts}
        for ref, row in sim.refs.items():
            conversation = agent.require(row)
            event = expected[ref]
            assert conversation.channel is event.channel and conversation.subject == event.subject
            assert conversation.customer_name == event.customer.name
            assert conversation.created_at == START + event.at
            assert conversation.queue == event.queue and conversation.priority is event.priority
            assert set(conversation.tags) == set(event.tags)

        # The unanswered caller hung up at the scripted second; the answered one is still on the line.
        oliver = agent.require(sim.refs["call-oliver"])
        assert oliver.state is State.ABANDONED and oliver.closed_at == START + 60.0
        assert agent.require(claire).state is State.CONNECTED
        # The chat customer answered only what the script says, even after the agent's reply.
        chat = [m for m in agent.messages(jonas) if m.direction is Direction.INBOUND]
        assert [m.body for m in chat][-1] == "Danke! Frohe Weihnachten!" and len(chat) == 3
        # Giulia mailed, then called: one customer, history on two channels.
        giulia_mail, giulia_call = (
            agent.require(sim.refs["mail-giulia"]),
            agent.require(sim.refs["call-giulia"]),
        )
        assert giulia_mail.customer_id == giulia_call.customer_id == "cust-giulia"
        assert {c.channel for c in agent.conversations_of_customer("cust-giulia")} == {
            Channel.EMAIL,
            Channel.PHONE,
        }
        # Her second mail is a reply in the thread of the first, with the scripted attachment on the first.
        first, second = agent.messages(giulia_mail.id)
        assert first.attachments[0].filename == "copertina rovinata – foto 1.jpg"
        assert second.email is not None and first.email is not None
        assert second.email.in_reply_to == first.email.message_id
        parsed = message_from_bytes(agent.raw_message(second.id) or b"", policy=policy.default)
        assert parsed["Subject"].startswith("Re: ") and "nessuna notizia" in second.body
        # The callback is wished for 30 minutes after the start.
        callback = agent.require(sim.refs["callback-lucia"])
        assert callback.callback_at == START + 1800.0 and callback.callback_number == "+34 600 123 456"

        # Surveys wait for resolution: nothing yet, although their time (120 s) has passed.
        assert agent.csat() == []
        assert not sim.scenario_over(clock.now)
        commands.perform(agent, HangUp(conversation_id=qualify(claire), agent_id="me"))
        commands.perform(
            agent, WrapUp(conversation_id=qualify(claire), agent_id="me", disposition="order-info")
        )
        clock.now += 1.0
        sim.step()
        (answer,) = agent.csat()
        assert answer.conversation_id == qualify(claire) and answer.score == 5
        assert answer.comment == "Très rapide, merci et joyeux Noël !" and answer.agent_id == "me"
        assert answer.at >= agent.require(claire).closed_at  # type: ignore[operator]
    agent.close()


def test_a_scripted_hang_up_after_the_answer_goes_to_wrap_up_not_abandoned(tmp_path: Path) -> None:
    script = [
        line(
            at=0, type="contact", ref="a", channel="phone", customer={"name": "Ana Silva", "language": "pt"}
        ),
        line(at=0, type="contact", ref="b", channel="phone", customer={"name": "Bo Ek", "language": "sv"}),
        line(at=10, type="abandon", ref="a"),
        line(at=10, type="abandon", ref="b"),
        line(at=20, type="csat", ref="b", score=1),
    ]
    scenario = parse_scenario(script)
    clock = FakeClock()
    db = tmp_path / "w.db"
    agent = Workspace(db, clock=clock)
    with Simulator(db, seed=1, clock=clock, scenario=scenario) as sim:
        sim.step()
        commands.perform(agent, Accept(conversation_id=qualify(sim.refs["a"]), agent_id="me"))
        clock.now += 30
        sim.step()
        assert agent.require(sim.refs["a"]).state is State.WRAP_UP
        assert agent.require(sim.refs["b"]).state is State.ABANDONED
        # No patience was scripted: a call waits until the script says otherwise.
        assert agent.require(sim.refs["a"]).closed_at is None
        # A survey for a call nobody answered is dropped, not recorded.
        assert agent.csat() == [] and sim.scenario_over(clock.now)
    agent.close()


def test_a_malformed_file_lists_every_error_with_its_line_and_replays_nothing(tmp_path: Path) -> None:
    good = line(at=0, type="contact", ref="c1", channel="chat", customer={"name": "Léa"}, body="Bonjour")
    script = tmp_path / "broken.jsonl"
    script.write_text(
        "\n".join(
            [
                "# a comment, then a blank line",
                "",
                good,  # 3: fine
                '{"at": 1, "type": "message", "ref": "c1", "body": "oops"',  # 4: not JSON
                line(at=2, type="message", ref="nobody", body="?"),  # 5: unknown ref
                line(
                    at=3, type="contact", ref="c1", channel="chat", customer={"name": "X"}, body="b"
                ),  # 6: dup
                line(at=4, type="contact", ref="c2", channel="fax", customer={"name": "Y"}),  # 7: bad channel
                line(at=-1, type="typing", ref="c1"),  # 8: negative time
                line(at=5, type="csat", ref="c1", score=7),  # 9: score out of range
                line(
                    at=6, type="contact", ref="c3", channel="phone", customer={"name": "Z"}, body="hi"
                ),  # 10
                line(at=7, type="contact", ref="c4", channel="email", customer={"name": "W"}, body="x"),  # 11
                line(at=8, type="wave", ref="c1"),  # 12: unknown type
                line(at=9, type="message", ref="c1", body="x", colour="red"),  # 13: unknown key
                line(at=10, type="abandon", ref="c4"),  # 14: an email cannot abandon (c4 invalid anyway)
                line(
                    at=11,
                    type="contact",
                    ref="c5",
                    channel="email",
                    customer={"name": "V"},
                    subject="s",
                    body="b",
                    attachments=["../../etc/passwd", {"kind": "photo", "filename": "a/b.jpg"}],
                ),  # 15
                good.replace('"at": 0', '"at": 30').replace('"c1"', '"c6"'),  # 16: fine
                line(at=12, type="message", ref="c6", body="too early"),  # 17: before c6 starts
            ]
        ),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(script)
    errors = caught.value.errors
    lines = [int(e.split(":")[0].removeprefix("line ")) for e in errors]
    assert sorted(set(lines)) == [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17]
    text = str(caught.value)
    assert "line 4: not valid JSON" in text
    assert "line 6: ref 'c1' is already used by the contact on line 3" in text
    assert 'line 9: "score" must be an integer from 1 to 5' in text
    assert 'line 11: "subject" is required here' in text
    assert "line 13: unknown key for message: colour" in text
    assert "line 17: at 12 is before contact 'c6' starts" in text
    assert "nothing was replayed" in text

    # Through the command's entry point: refused before the workspace file is even created.
    db = tmp_path / "never.db"
    with pytest.raises(ScenarioError):
        run_simulator(db, rate=2.0, profile="normal", seed=1, backfill=0, scenario=script, duration=1.0)
    assert not db.exists()


def test_unreadable_or_empty_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="no events"):
        load_scenario(empty)


def test_customer_defaults_and_references() -> None:
    scenario = parse_scenario(
        [
            line(at=0, type="contact", ref="m", channel="email", language="de", subject="Hallo", body="Text",
                 priority="urgent", tags=["Refund"], customer={"id": "k1", "name": "Jörg Groß"}),
            line(at=5, type="contact", ref="c", channel="callback", customer={"id": "k1"}, callback_at=600),
        ]
    )  # fmt: skip
    mail, callback = scenario.contacts
    assert (
        isinstance(mail, ContactEvent) and mail.customer.language == "de" and mail.priority is Priority.URGENT
    )
    assert mail.tags == ("refund",)
    assert callback.customer == mail.customer and callback.callback_at == 600.0
    assert callback.subject == "Callback from Jörg Groß"
