"""Scenario replay with the customers a European shop really has: internationalised addresses (RFC 6532)
are written so that both mail parsers read them back exactly, and a replay is all or nothing: a contact
that cannot be built stops the replay before its first write, not after the fourth contact."""

from __future__ import annotations

import json
import sqlite3
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardiste.backends.imap.mime import parse_message
from standardiste.backends.local.simulator import people as simulated_people
from standardiste.backends.local.simulator.engine import Simulator, run_simulator
from standardiste.backends.local.simulator.mime_factory import (
    MailAttachment,
    MailError,
    address_problem,
    build_mail,
)
from standardiste.backends.local.simulator.people import load_people
from standardiste.backends.local.simulator.scenario import ScenarioError, load_scenario, parse_scenario
from standardiste.backends.local.simulator.scenario_build import rehearse, scripted_spec
from standardiste.backends.local.workspace import Workspace

START = 1_766_390_400.0

# (name, address, language, subject, attachment file name)
CUSTOMERS = [
    ("Jörg Müller", "jörg.müller@web.example", "de", "Grüße aus Köln – Bestellung", "Rechnung März.pdf"),
    ("李小龙", "李@例え.テスト", "en", "注文について", "写真 1.jpg"),
    ("Δήμητρα Παπαδοπούλου", "δήμητρα@παράδειγμα.δοκιμή", "en", "Παραγγελία", "φωτογραφία.jpg"),
    ("Zoë Łukasiewicz", "zoë.łukasiewicz@müller.example", "pl", "Zwrot pieniędzy", "zdjęcie okładki.jpg"),
    ("Ana", "ana@xn--mller-kva.example", "pt", "Encomenda", "fatura.pdf"),
]


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def line(**fields: Any) -> str:
    return json.dumps(fields, ensure_ascii=False)


def contact(ref: str, at: float, name: str, email: str, language: str, subject: str, filename: str) -> str:
    kind = "invoice" if filename.endswith(".pdf") else "photo"
    return line(
        at=at,
        type="contact",
        ref=ref,
        channel="email",
        customer={"name": name, "email": email, "language": language},
        subject=subject,
        body=f"Hallo, {name} hier.",
        attachments=[{"kind": kind, "filename": filename}],
    )


def mails(db: Path) -> list[bytes]:
    with sqlite3.connect(db) as connection:
        return [bytes(r[0]) for r in connection.execute("SELECT raw FROM messages WHERE raw IS NOT NULL")]


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def read_back(raw: bytes) -> EmailMessage:
    """Python's reading of an RFC 6532 message. An 8-bit message is UTF-8 text: read as text. (From bytes,
    `str(message["From"])` is right, but CPython's address parser leaves surrogate escapes in `addr_spec`:
    a stdlib quirk, checked below, that the IMAP adapter's parser does not have.)"""
    from_text = message_from_string(raw.decode("utf-8"), policy=policy.default)
    from_bytes = message_from_bytes(raw, policy=policy.default)
    assert not from_text.defects and not from_bytes.defects
    assert str(from_bytes["From"]) == str(from_text["From"])
    return from_text  # type: ignore[return-value]


def replay(db: Path, script: list[str], seconds: int = 30) -> Simulator:
    clock = FakeClock()
    sim = Simulator(db, seed=7, clock=clock, scenario=parse_scenario(script))
    for second in range(seconds):
        clock.now = START + second
        sim.step()
    return sim


def test_internationalised_customers_replay_fully_and_read_back_exactly(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    script = [contact(f"c{i}", i, *customer) for i, customer in enumerate(CUSTOMERS)]
    script.append(line(at=10, type="message", ref="c1", body="もう一度お願いします"))
    with replay(db, script) as sim:
        assert len(sim.refs) == len(CUSTOMERS)
    raws = mails(db)
    assert len(raws) == len(CUSTOMERS) + 1
    expected = {address: (name, subject, filename) for name, address, _, subject, filename in CUSTOMERS}
    for raw in raws:
        parsed = read_back(raw)
        sender = parsed["From"].addresses[0]
        name, subject, filename = expected[sender.addr_spec]
        assert sender.display_name == name
        assert str(parsed["Subject"]).removeprefix("Re: ") == subject
        # The IMAP adapter's own parser reads the same message the same way.
        mine = parse_message(raw)
        assert (mine.headers.from_addr, mine.headers.from_name) == (sender.addr_spec, name)
        assert mine.headers.subject == str(parsed["Subject"])
        assert "@" in str(parsed["Message-ID"]) and str(parsed["Message-ID"]).isascii()
        if not str(parsed["Subject"]).startswith("Re: "):
            (attachment,) = parsed.iter_attachments()
            assert attachment.get_filename() == filename
            assert [a.filename for a in mine.attachments] == [filename]
    # Only an address makes a message 8-bit: names, subjects and file names stay encoded-words / RFC 2231.
    for raw in raws:
        for header in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
            if not header.isascii():
                assert header.startswith((b"From: ", b" <")), header


def _five_contacts() -> list[str]:
    chats = [
        line(at=i, type="contact", ref=f"c{i}", channel="chat", customer={"name": f"C{i}"}, body="Hej")
        for i in range(4)
    ]
    return [*chats, contact("c4", 4, *CUSTOMERS[0])]


def test_a_fifth_contact_that_cannot_be_built_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever makes a mail impossible to build (here the builder fails on the fifth contact), the replay
    is refused before the first contact is written."""
    real = simulated_people.build_mail

    def failing(**kwargs: Any) -> Any:
        if kwargs["from_addr"] == CUSTOMERS[0][1]:
            raise RuntimeError("this message cannot be built")
        return real(**kwargs)

    monkeypatch.setattr(simulated_people, "build_mail", failing)
    script = tmp_path / "s.jsonl"
    script.write_text("\n".join(_five_contacts()), encoding="utf-8")
    db = tmp_path / "w.db"
    with pytest.raises(ScenarioError) as caught:
        run_simulator(db, rate=0.0, profile="normal", seed=1, backfill=0, scenario=script, duration=5.0)
    assert caught.value.errors == ["line 5: cannot be built: RuntimeError: this message cannot be built"]
    assert not db.exists()

    # On a workspace that already has work in it: not one row more.
    Workspace(db).close()
    before = count(db, "conversations"), count(db, "messages")
    with pytest.raises(ScenarioError):
        replay(db, _five_contacts())
    assert (count(db, "conversations"), count(db, "messages")) == before


def test_text_that_cannot_be_stored_is_refused_at_parse_time(tmp_path: Path) -> None:
    """A lone surrogate escape in the fifth contact used to cost a replay midway (SQLite and the mail
    builder cannot encode it); now the file is refused, with the line."""
    broken = line(at=4, type="contact", ref="c4", channel="chat", customer={"name": "Bo"}, body="x")
    script = [*_five_contacts()[:4], broken.replace('"x"', '"broken \\ud83d emoji"')]
    db = tmp_path / "w.db"
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(script), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        run_simulator(db, rate=0.0, profile="normal", seed=1, backfill=0, scenario=path, duration=5.0)
    (error,) = caught.value.errors
    assert error.startswith("line 5: text that is not valid Unicode: '\\ud83d' at character 8")
    assert not db.exists()


def test_numbers_addresses_and_line_breaks_a_replay_could_not_survive() -> None:
    script = [
        '{"at": NaN, "type": "contact", "ref": "a", "channel": "chat", "customer": {"name": "A"}, "body": "x"}',
        '{"at": 0, "type": "contact", "ref": "b", "channel": "phone", "customer": {"name": "B"}, "patience": Infinity}',
        line(at=1e12, type="contact", ref="c", channel="chat", customer={"name": "C"}, body="x"),
        '{"at": 1' + "0" * 5000 + ', "type": "abandon", "ref": "b"}',
        "[" * 100_000 + "]" * 100_000,
        line(at=0, type="contact", ref="d", channel="email", subject="s", body="b",
             customer={"name": "D", "email": "d@x.example\r\nBcc: everyone@x.example"}),
        line(at=0, type="contact", ref="e", channel="email", subject="s", body="b",
             customer={"name": "E", "email": "e e@x.example"}),
        line(at=0, type="contact", ref="f", channel="callback", customer={"name": "F"}, callback_at=-1e300),
    ]  # fmt: skip
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(script)
    errors = caught.value.errors
    assert [int(e.split(":")[0].removeprefix("line ")) for e in errors] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert "not usable JSON (nested too deeply)" in errors[4]
    assert 'customer "email"' in errors[5] and "not an address a mail can carry" in errors[5]


def test_a_line_separator_inside_a_json_string_does_not_split_the_line(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    body = "Erste Zeile\u2028zweite\x85dritte\x1cvierte"
    path.write_text(line(at=0, type="contact", ref="a", channel="chat", customer={"name": "A"}, body=body))
    (event,) = load_scenario(path).contacts
    assert event.body == body


def test_the_random_simulator_writes_internationalised_addresses_that_read_back(tmp_path: Path) -> None:
    """Some customers of the seeds' nationalities keep their name's letters in their mailbox."""
    db = tmp_path / "w.db"
    clock = FakeClock()
    with Simulator(db, rate=60.0, seed=5, clock=clock) as sim:
        sim.backfill(1500, hours=6.0)
    unfolded = 0
    for raw in mails(db):
        address = read_back(raw)["From"].addresses[0].addr_spec
        assert parse_message(raw).headers.from_addr == address
        unfolded += not address.isascii()
    assert unfolded >= 3


_LETTERS = st.characters(categories=("L", "N"))
_LOCAL = st.lists(st.text(_LETTERS, min_size=1, max_size=12), min_size=1, max_size=3).map(".".join)
_DOMAIN = st.lists(st.text(_LETTERS, min_size=1, max_size=12), min_size=1, max_size=3).map(".".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    local=_LOCAL,
    domain=_DOMAIN.map(lambda d: d + ".example"),
    # One encoded-word (about 45 bytes): a longer name is split, and Python reads a space into the cut.
    name=st.text(_LETTERS, max_size=30).filter(lambda n: len(n.encode()) <= 45),
)
def test_any_address_in_any_script_reads_back_exactly(local: str, domain: str, name: str) -> None:
    address = f"{local}@{domain}"
    if address_problem(address):
        with pytest.raises(MailError):
            _mail(address, name)
        return
    raw = _mail(address, name)
    parsed = read_back(raw)
    assert parsed["From"].addresses[0].addr_spec == address
    assert parsed["From"].addresses[0].display_name == name
    assert parse_message(raw).headers.from_addr == address


def _mail(address: str, name: str) -> bytes:
    return build_mail(
        from_name=name,
        from_addr=address,
        to_name="Support",
        to_addr="support@standardiste.local",
        subject="Hello",
        text="Hi",
        at=START,
        message_id="<x@mail.example>",
    ).raw


@pytest.mark.parametrize(
    "address", ["a b@x.example", "a@x.example\r\nBcc: b@x.example", "<a>@x", "a@", "a..b@x", "a\u202e@x", ""]
)
def test_an_address_no_mail_can_carry_is_refused_not_written(address: str) -> None:
    with pytest.raises(MailError):
        _mail(address, "A")


def test_control_characters_never_reach_a_header_raw() -> None:
    mail = build_mail(
        from_name="Ann\x1b]0;pwn\x07 Smith",
        from_addr="ann@x.example",
        to_name="Support",
        to_addr="support@standardiste.local",
        subject="Hi\x00\x1b[2J there",
        text="Hi",
        at=START,
        message_id="<x@mail.example>",
        attachments=[MailAttachment("a\x1b[31m.jpg", "image/jpeg", b"\xff\xd8\xff\xd9")],
    )
    head = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert all(b >= 0x20 or b in b"\r\n" for b in head)
    parsed = message_from_bytes(mail.raw, policy=policy.default)
    assert str(parsed["Subject"]) == "Hi\x00\x1b[2J there"  # carried, encoded; the console sanitises it
    (attachment,) = parsed.iter_attachments()
    assert attachment.get_filename() == "a\x1b[31m.jpg"
    assert all(
        b >= 0x20 or b in b"\r\n\t" for part in mail.raw.split(b"\r\n") if b"name" in part for b in part
    )


def test_the_replay_reuses_exactly_what_the_rehearsal_built() -> None:
    scenario = load_scenario(
        Path(__file__).resolve().parents[2] / "docs" / "examples" / "christmas-morning.jsonl"
    )
    people = load_people()
    specs = rehearse(scenario, 11, people, START)
    assert set(specs) == {c.ref for c in scenario.contacts}
    for event in scenario.contacts:
        assert specs[event.ref] == scripted_spec(event, 11, people)
    assert any(spec.attachments for spec in specs.values())
