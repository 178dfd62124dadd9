"""The pure parts of the IMAP adapter: threading, reply composition, marks as keywords, settings, states."""

from __future__ import annotations

import ssl
from email import message_from_bytes, policy

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardiste.backends.base import AuthError, Invalid, Unavailable
from standardiste.backends.imap.compose import (
    OutgoingAttachment,
    Parent,
    build_reply,
    make_message_id,
    reply_recipients,
    reply_references,
    reply_subject,
)
from standardiste.backends.imap.conversations import effective_state
from standardiste.backends.imap.errors import TlsError, translate
from standardiste.backends.imap.index import IndexedMessage
from standardiste.backends.imap.local_state import (
    Marks,
    decode_atom,
    encode_atom,
    keywords_for,
    marks_from_flags,
)
from standardiste.backends.imap.settings import parse_settings
from standardiste.backends.imap.threads import (
    MAX_REFERENCES,
    choose_thread,
    normalize_id,
    parse_references,
    thread_key,
)
from standardiste.console.core.model import Priority, State

# ---------------------------------------------------------------------------------------------- threads


def test_message_ids_are_normalised() -> None:
    assert normalize_id("  <a@b>  (comment)") == "<a@b>"
    assert normalize_id("a@b") == "<a@b>"
    assert normalize_id("garbage") == ""
    assert parse_references("<1@x> <2@x>\r\n <1@x> broken <3@x") == ("<1@x>", "<2@x>")
    assert len(parse_references(" ".join(f"<{i}@x>" for i in range(100)))) == MAX_REFERENCES


def test_thread_key_is_the_same_whichever_message_comes_first() -> None:
    index: dict[str, str] = {}

    def known(ids: list[str]) -> dict[str, str]:
        return {i: index[i] for i in ids if i in index}

    reply = choose_thread("<r@x>", "<root@x>", ("<root@x>",), known, "<fallback1>")
    index["<r@x>"] = reply
    root = choose_thread("<root@x>", "", (), known, "<fallback2>")
    assert reply == root == thread_key("<root@x>")
    # A client that only says In-Reply-To joins the thread of its known parent.
    late = choose_thread("<late@x>", "<r@x>", (), known, "<fallback3>")
    assert late == root
    # Unrelated mail is a thread of its own; no Message-ID at all still gives a distinct thread.
    assert choose_thread("<other@x>", "", (), known, "<f4>") != root
    assert choose_thread("", "", (), known, "<inbox.1.7@standardiste.invalid>") != choose_thread(
        "", "", (), known, "<inbox.1.8@standardiste.invalid>"
    )


# ---------------------------------------------------------------------------------------------- compose


PARENT = Parent(
    message_id="<p2@customer.test>",
    references=("<p0@shop.test>", "<p1@customer.test>"),
    subject="Order 1234",
    from_addr="ann@customer.test",
    reply_to=(),
    to=("support@shop.test", "sales@shop.test"),
    cc=("Carl@customer.test", "support@shop.test"),
)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Order", "Re: Order"),
        ("Re: Order", "Re: Order"),
        ("RE: Order", "RE: Order"),
        ("AW: Bestellung", "AW: Bestellung"),
        ("Re[2]: Order", "Re[2]: Order"),
        ("Fwd: Order", "Re: Fwd: Order"),
        ("", "Re:"),
        ("  spaced \t out ", "Re: spaced out"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


def test_forward_subject() -> None:
    assert reply_subject("Order", forward=True) == "Fwd: Order"
    assert reply_subject("Fw: Order", forward=True) == "Fw: Order"


def test_references_carry_the_parent_and_stay_bounded() -> None:
    assert reply_references(PARENT) == ("<p0@shop.test>", "<p1@customer.test>", "<p2@customer.test>")
    long = Parent("<last@x>", tuple(f"<{i}@x>" for i in range(80)), "s", "a@x", (), (), ())
    refs = reply_references(long)
    assert refs[0] == "<0@x>" and refs[-1] == "<last@x>" and len(refs) == MAX_REFERENCES


def test_recipients_for_reply_and_reply_all() -> None:
    own = {"support@shop.test", "sales@shop.test"}
    assert reply_recipients(PARENT, own, reply_all=False) == (("ann@customer.test",), ())
    to, cc = reply_recipients(PARENT, own, reply_all=True)
    assert to == ("ann@customer.test",)
    assert cc == ("Carl@customer.test",)  # not us, not twice
    with_reply_to = Parent("<x@y>", (), "s", "ann@customer.test", ("orders@customer.test",), (), ())
    assert reply_recipients(with_reply_to, own, reply_all=False)[0] == ("orders@customer.test",)
    ours = Parent("<x@y>", (), "s", "support@shop.test", (), ("ann@customer.test",), ())
    assert reply_recipients(ours, own, reply_all=False)[0] == ("ann@customer.test",)


def test_built_reply_headers_and_parts() -> None:
    message = build_reply(
        from_addr="support@shop.test",
        from_name="Shop",
        to=["ann@customer.test"],
        cc=["carl@customer.test"],
        subject="Re: Order 1234",
        body="Thanks — it ships today.\r\nBye",
        message_id=make_message_id("key-1", "support@shop.test"),
        in_reply_to=PARENT.message_id,
        references=reply_references(PARENT),
        attachments=[OutgoingAttachment("../../../étiquette.pdf", "application/pdf", b"%PDF-1.4")],
    )
    parsed = message_from_bytes(message.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert parsed["From"] == "Shop <support@shop.test>"
    assert parsed["Bcc"] is None
    assert parsed["Message-ID"] == make_message_id("key-1", "support@shop.test")
    assert parsed["Message-ID"].endswith("@shop.test>")
    assert parsed["References"] == "<p0@shop.test> <p1@customer.test> <p2@customer.test>"
    body = parsed.get_body(("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n") == "Thanks — it ships today.\nBye\n"
    (attachment,) = parsed.iter_attachments()
    assert attachment.get_filename() == "étiquette.pdf"  # no path survives
    assert make_message_id("key-1", "a@b.c") == make_message_id("key-1", "x@b.c")
    assert make_message_id("", "a@b.c") != make_message_id("", "a@b.c")


# ---------------------------------------------------------------------------------------------- marks


@given(st.text(min_size=1, max_size=40))
def test_keyword_atoms_round_trip(text: str) -> None:
    atom = encode_atom(text)
    assert atom.isascii() and not any(c in atom for c in ' (){%*"\\]') and atom.isprintable()
    assert decode_atom(atom) == text
    assert decode_atom(atom.lower()) == text  # servers that fold case do not change what it says


def test_marks_to_keywords_and_back() -> None:
    marks = Marks(status=State.PENDING, assignee="Alice B", tags=("refund", "vip"), priority=Priority.HIGH)
    keywords = keywords_for(marks)
    assert "std.status.pending" in keywords and "std.priority.high" in keywords
    read = marks_from_flags([(7, keywords | {"\\Seen"}), (3, keywords)])
    assert (read.status, read.status_uid, read.assignee, read.tags, read.priority) == (
        State.PENDING,
        7,
        "Alice B",
        ("refund", "vip"),
        Priority.HIGH,
    )


def test_a_claim_race_has_the_same_winner_everywhere() -> None:
    both = keywords_for(Marks(assignee="bob")) | keywords_for(Marks(assignee="alice"))
    assert marks_from_flags([(1, both)]).assignee == "alice"
    assert marks_from_flags([(1, both)]).claimants == ("alice", "bob")


def _row(uid: int, *, outbound: bool = False, role: str = "inbox", date: float = 0.0) -> IndexedMessage:
    return IndexedMessage(
        role=role,
        uid=uid,
        uidvalidity=1,
        message_id=f"<{uid}@x>",
        thread="t",
        in_reply_to="",
        references=(),
        subject="s",
        from_addr="a@x",
        from_name="",
        reply_to=(),
        to=(),
        cc=(),
        date=date or float(uid),
        size=1,
        flags=frozenset(),
        outbound=outbound,
        language="en",
    )


def test_effective_state() -> None:
    assert effective_state([_row(1)], Marks()) is State.NEW
    assert effective_state([_row(1), _row(2, role="sent", outbound=True)], Marks()) is State.PENDING
    assert effective_state([_row(1), _row(2, role="sent", outbound=True), _row(3)], Marks()) is State.OPEN
    solved = Marks(status=State.SOLVED, status_uid=1)
    assert effective_state([_row(1)], solved) is State.SOLVED
    assert effective_state([_row(1), _row(2)], solved) is State.OPEN  # the customer wrote again
    assert effective_state([_row(1), _row(2, outbound=True)], solved) is State.SOLVED  # we did


# ---------------------------------------------------------------------------------------------- settings


def test_settings_defaults_and_checks() -> None:
    s = parse_settings("mail", {"host": "imap.example.com", "user": "support@shop.example"})
    assert (s.port, s.security, s.smtp_host, s.smtp_port, s.smtp_security) == (
        993,
        "tls",
        "imap.example.com",
        587,
        "starttls",
    )
    assert s.from_addr == "support@shop.example" and s.smtp_user == "support@shop.example"
    assert s.inbox == "INBOX" and s.sent == "Sent"
    with pytest.raises(Invalid, match="from"):
        parse_settings("mail", {"host": "h", "user": "login-without-at"})
    with pytest.raises(Invalid, match="security"):
        parse_settings("mail", {"host": "h", "user": "u@x", "security": "ssl3"})
    with pytest.raises(Invalid, match="poll_seconds"):
        parse_settings("mail", {"host": "h", "user": "u@x", "poll_seconds": 0})
    with pytest.raises(Invalid, match="plain"):
        parse_settings("mail", {"host": "10.0.0.5", "user": "u@x", "security": "plain"})
    assert parse_settings(
        "mail", {"host": "::1", "user": "u@x", "security": "plain", "smtp_security": "plain"}
    )


# ---------------------------------------------------------------------------------------------- errors


def test_errors_are_typed_and_scrubbed() -> None:
    where = {"service": "IMAP", "host": "h", "port": 1, "secret": "hunter22"}
    assert isinstance(translate(ConnectionRefusedError(), **where), Unavailable)  # type: ignore[arg-type]
    assert isinstance(translate(ssl.SSLError(1, "wrong version"), **where), TlsError)  # type: ignore[arg-type]
    from imapclient.exceptions import LoginError

    login = translate(LoginError("LOGIN hunter22 rejected"), **where)  # type: ignore[arg-type]
    assert isinstance(login, AuthError) and "hunter22" not in str(login)
    dropped = translate(OSError("reset after hunter22"), **where)  # type: ignore[arg-type]
    assert isinstance(dropped, Unavailable) and "hunter22" not in str(dropped)
