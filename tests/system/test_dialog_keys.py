"""Pick dialogs consume their keys, and the ESC-prefixed alt keys of xterm and tmux work: the real console on
a pty, keys written at once, results read from the workspace file."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

import pytest
from app_harness import Contact, seed
from pty_console import PtyConsole, local_id, wait
from standardiste.console.core.model import Channel

JOHN_EMMA = [
    Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600),
    Contact(Channel.EMAIL, "Emma de Vries", "nl", "Bestelling wijzigen", age=300),
]


def _console(tmp_path: Path, contacts: list[Contact]) -> tuple[PtyConsole, list[str]]:
    db = tmp_path / "workspace.db"
    ids = seed(db, contacts, now=time.time())
    console = PtyConsole(tmp_path, db)
    for contact in contacts:
        console.read_until(contact.subject)
    return console, ids


def _presence(console: PtyConsole) -> tuple[str, str]:
    rows = console.query("SELECT presence, presence_reason FROM agents WHERE id = 'alice'")
    return (str(rows[0][0]), str(rows[0][1])) if rows else ("", "")


def test_a_digit_that_picks_a_snooze_does_not_switch_the_view(tmp_path: Path) -> None:
    """`z` `2`: John snoozed 1 h, and the list stays on All (2 would show the empty phone view)."""
    console, (john, emma) = _console(tmp_path, JOHN_EMMA)
    try:
        console.write("z2")
        wait(
            lambda: console.query("SELECT snoozed_until FROM conversations WHERE id = ?", local_id(john))[0][
                0
            ]
        )
        time.sleep(1.0)  # the snoozed row leaves the list: Emma is highlighted
        console.write("rThank you Emma\x13")
        wait(lambda: console.outbound() != [], 10, "no reply: the list is not on All any more")
        assert console.outbound() == [(local_id(emma), "Thank you Emma")]
    finally:
        console.close()


@pytest.mark.parametrize(
    ("keys", "expected"), [("P2", ("busy", "do not disturb")), ("Pl", ("away", "lunch"))]
)
def test_presence_is_picked_by_its_digit_or_its_letter(
    tmp_path: Path, keys: str, expected: tuple[str, str]
) -> None:
    """The dialog shows `a d b l m t c o`: each letter sets that presence; a digit does not switch views."""
    console, (john, _) = _console(tmp_path, JOHN_EMMA)
    try:
        wait(lambda: _presence(console)[0] == "available")
        console.write(keys)
        wait(lambda: _presence(console) == expected, 10, f"presence is {_presence(console)}")
        console.write("rDear John\x13")  # still on All, John highlighted
        wait(lambda: console.outbound() != [], 10, "no reply: the list is not on All any more")
        assert console.outbound() == [(local_id(john), "Dear John")]
    finally:
        console.close()


@pytest.mark.parametrize(
    "new_line",
    ["\x1b\r", "\n", "\x1b[13;2u", "\x1b[13;3u"],
    ids=["alt+enter as ESC CR", "ctrl+j", "shift+enter (kitty)", "alt+enter (kitty)"],
)
def test_a_new_line_key_in_a_chat_is_a_new_line_not_a_send(tmp_path: Path, new_line: str) -> None:
    """xterm and tmux send alt+enter as ESC CR: one message of two lines is sent, not two messages."""
    console, (chat,) = _console(tmp_path, [Contact(Channel.CHAT, "Jean Dupont", "fr", "Colis perdu", age=20)])
    try:
        console.write("\rr")
        console.read_until("Reply to the customer")
        console.write(f"Bonjour{new_line}Votre colis arrive\r")
        wait(lambda: console.outbound() != [], 10, "nothing sent")
        time.sleep(1.0)
        assert console.outbound() == [(local_id(chat), "Bonjour\nVotre colis arrive")]
    finally:
        console.close()


def test_alt_digit_from_an_esc_prefix_terminal_opens_my_chat_session(tmp_path: Path) -> None:
    """ESC 1 is alt+1: my first chat, highlighted and open, from the email view; the reply goes to it."""
    db = tmp_path / "workspace.db"
    _, chat = seed(
        db,
        [
            Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600),
            Contact(Channel.CHAT, "Jean Dupont", "fr", "Colis perdu", age=20),
        ],
        now=time.time(),
    )
    with contextlib.closing(sqlite3.connect(db)) as connection, connection:  # alice's chat session
        connection.execute(
            "UPDATE conversations SET assignee = 'alice', state = 'open' WHERE id = ?", (local_id(chat),)
        )
    console = PtyConsole(tmp_path, db)
    try:
        console.read_until("Colis perdu")
        console.write("4")  # the email view: the chat is not in it
        time.sleep(0.3)
        console.write("\x1b1")
        time.sleep(0.3)
        console.write("rBonjour Jean\r")  # a chat: enter sends
        wait(lambda: console.outbound() != [], 10, "nothing sent: alt+1 did not open the chat")
        assert console.outbound() == [(local_id(chat), "Bonjour Jean")]
    finally:
        console.close()


def test_what_is_typed_after_a_dialog_answer_is_for_the_list(tmp_path: Path) -> None:
    """`+refund` enter, then a reply, in one burst: John is tagged, and the reply (not the tag) gets the text."""
    console, (john, _) = _console(tmp_path, JOHN_EMMA)
    try:
        console.write("+refund\rrDear John\x13")
        wait(lambda: console.outbound() != [], 10, "no reply sent")
        assert console.outbound() == [(local_id(john), "Dear John")]
        wait(lambda: console.query("SELECT tags FROM conversations WHERE id = ?", local_id(john))[0][0] != "")
        assert console.query("SELECT tags FROM conversations WHERE id = ?", local_id(john))[0][0] == "refund"
    finally:
        console.close()


def test_chat_lines_typed_in_one_burst_are_sent_whole_each(tmp_path: Path) -> None:
    """Enter sends a chat line: the letters typed right after it start the next line, not end the last one."""
    console, (chat,) = _console(tmp_path, [Contact(Channel.CHAT, "Jean Dupont", "fr", "Colis perdu", age=20)])
    try:
        console.write("\rr")
        console.read_until("Reply to the customer")
        console.write("Bonjour Jean\rVotre colis arrive demain\rBonne journée\r")
        wait(lambda: len(console.outbound()) >= 3, 10, f"sent: {console.outbound()}")
        time.sleep(0.5)
        assert console.outbound() == [
            (local_id(chat), line) for line in ("Bonjour Jean", "Votre colis arrive demain", "Bonne journée")
        ]
    finally:
        console.close()
