"""Keys typed ahead land where the agent meant them: the real console on a pty, whole sequences written at once.

Each test writes what a fast typist's terminal sends (no pause between keys, or the few milliseconds of
real typing) and then reads what happened from the workspace file: which conversation got the reply, what
was assigned, closed or snoozed. Nothing here is paced to suit the console.
"""

from __future__ import annotations

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


def _two_emails(tmp_path: Path, size: tuple[int, int] = (140, 40)) -> tuple[PtyConsole, str, str]:
    db = tmp_path / "workspace.db"
    john, emma = seed(db, JOHN_EMMA, now=time.time())
    console = PtyConsole(tmp_path, db, size=size)
    console.read_until("Invoice request")
    console.read_until("Bestelling wijzigen")
    return console, john, emma


def _untouched(console: PtyConsole, conversation: str) -> bool:
    rows = console.query(
        "SELECT state, assignee, snoozed_until FROM conversations WHERE id = ?", local_id(conversation)
    )
    state, assignee, snoozed = rows[0]
    return state == "new" and assignee is None and not snoozed


@pytest.mark.parametrize(
    ("gap", "size"), [(0.0, (140, 40)), (0.015, (140, 40)), (0.0, (80, 24))], ids=["burst", "typed", "narrow"]
)
def test_a_reply_typed_ahead_after_a_filter_goes_to_the_filtered_customer(
    tmp_path: Path, gap: float, size: tuple[int, int]
) -> None:
    """John is open; `/Emma` enter `r` and the reply, typed without waiting for the screen: Emma gets it."""
    console, john, emma = _two_emails(tmp_path, size)
    try:
        console.write("\r")  # open John's email, the first row
        console.read_until("customer0@example.com")  # his card is shown: John is the open conversation
        keys = "/Emma\rrHello Emma, thanks\x13"  # ctrl+s sends an email
        if gap:
            console.type(keys, gap)
        else:
            console.write(keys)
        wait(lambda: console.outbound() != [], 15, "no reply was sent")
        time.sleep(0.5)
        assert console.outbound() == [(local_id(emma), "Hello Emma, thanks")]
        assert _untouched(console, john)  # no letter of the reply fell through into a command on John
    finally:
        console.close()


def _fill(db: Path, count: int) -> None:
    """`count` more open emails that no filter below matches: past 20k the filter runs in slices."""
    created = time.time() - 3600
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "INSERT INTO conversations (channel, state, subject, customer_id, customer_name, language, queue, "
            "priority, tags, created_at, updated_at, last_customer_at) "
            "VALUES ('email', 'new', 'Parcel question', ?, 'Filler Person', 'fi', 'general', 1, '', ?, ?, ?)",
            [(f"filler-{i}", created - i, created - i, created - i) for i in range(count)],
        )


@pytest.mark.parametrize(
    ("gap", "pause"),
    [(0.0, 0.0), (0.04, 0.0), (0.0, 0.14), (0.0, 1.0)],
    ids=["burst", "typed", "enter-mid-pass", "enter-after-pass"],
)
def test_at_25k_a_filter_typed_ahead_is_applied_before_the_keys_after_enter(
    tmp_path: Path, gap: float, pause: float
) -> None:
    """25,000 conversations: the filter waits for a pause in the typing, then runs in slices between which
    keys are read. `/Emma` enter `r` and the reply go to Emma whether enter comes before the pass, during it
    (`pause` just past the 0.12 s wait) or after it: enter applies the filter before `r` is read."""
    db = tmp_path / "workspace.db"
    john, emma = seed(db, JOHN_EMMA, now=time.time())
    _fill(db, 25_000)
    console = PtyConsole(tmp_path, db, size=(140, 40))
    try:
        console.read_until("All 25002", timeout=60)
        keys = "/Emma\rrHello Emma, thanks\x13"
        if pause:
            console.write("/Emma")
            time.sleep(pause)
            keys = keys.removeprefix("/Emma")
        if gap:
            console.type(keys, gap)
        else:
            console.write(keys)
        wait(lambda: console.outbound() != [], 20, "no reply was sent")
        time.sleep(0.5)
        assert console.outbound() == [(local_id(emma), "Hello Emma, thanks")]
        assert _untouched(console, john)
    finally:
        console.close()


def test_escape_then_slash_opens_the_filter_and_the_letters_go_into_it(tmp_path: Path) -> None:
    """In the composer: esc leaves it, `/` at once filters; the name typed after is filter text, not commands."""
    console, john, emma = _two_emails(tmp_path)
    try:
        console.write("\rr")  # open John, start a reply
        console.read_until("Reply to the customer")
        console.write("\x1b")
        time.sleep(0.15)  # past the terminal's escape delay (0.1 s): a lone esc, not alt+/
        console.write("/Emma\rrHi Emma\x13")
        wait(lambda: console.outbound() != [], 15, "no reply was sent")
        time.sleep(0.5)
        assert console.outbound() == [(local_id(emma), "Hi Emma")]
        assert _untouched(console, john)
    finally:
        console.close()


def test_escape_and_slash_in_one_burst_are_two_keys(tmp_path: Path) -> None:
    """esc and `/` in the same read (faster than the escape delay): still esc, then the filter."""
    console, john, emma = _two_emails(tmp_path)
    try:
        console.write("\rr")
        console.read_until("Reply to the customer")
        console.write("\x1b/Emma\rrHi Emma\x13")
        wait(lambda: console.outbound() != [], 15, "no reply was sent")
        time.sleep(0.5)
        assert console.outbound() == [(local_id(emma), "Hi Emma")]
        assert _untouched(console, john)
    finally:
        console.close()


def test_keys_typed_after_n_are_for_the_item_it_takes(tmp_path: Path) -> None:
    """Emma highlighted, `n` takes John (the older SLA) through the backend: `r` and the reply, typed at
    once after it, go to John, not to the row highlighted when `n` was pressed."""
    console, john, emma = _two_emails(tmp_path)
    try:
        console.write("j")  # Emma
        time.sleep(0.5)
        console.write("nrDear John, it is on its way\x13")
        wait(lambda: console.outbound() != [], 15, "no reply was sent")
        time.sleep(0.5)
        assert console.outbound() == [(local_id(john), "Dear John, it is on its way")]
        assert console.query("SELECT assignee FROM conversations WHERE id = ?", local_id(john)) == [
            ("alice",)
        ]
        assert _untouched(console, emma)
    finally:
        console.close()


def test_a_paste_right_after_r_goes_into_the_reply(tmp_path: Path) -> None:
    """`r` then a paste (bracketed, as terminals send it) in the same burst: the composer gets the text."""
    console, john, _ = _two_emails(tmp_path)
    try:
        console.write("r\x1b[200~Dear John,\nthe invoice is attached.\x1b[201~\x13")
        wait(lambda: console.outbound() != [], 15, "no reply was sent")
        assert console.outbound() == [(local_id(john), "Dear John,\nthe invoice is attached.")]
    finally:
        console.close()
