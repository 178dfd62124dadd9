"""Presence after quitting and after SIGKILL, with real console processes on one workspace file.

Two consoles (anna and bob) run in pseudo-terminals on the same file, with a fast heartbeat (1 s, gone
after 4 s) so the test is quick; the defaults (5 s, 20 s) are the same code with other numbers. Bob opens a
conversation (his "viewing" mark) and is killed with SIGKILL: Anna's console must see him gone within
`gone_after` + one beat, not before `gone_after`, and routing must stop offering him work. Then Anna quits
with ctrl+q: she is offline with no viewing mark at once.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

from app_harness import Contact, seed
from standardiste.backends.local import Workspace
from standardiste.backends.local.claims import next_best, offer_next
from standardiste.console.core.model import Channel, Presence
from test_console_crash import Console, _wait

HEARTBEAT, GONE_AFTER = 1.0, 4.0


def _config(home: Path, agent: str) -> Path:
    home.mkdir()
    (home / "config.toml").write_text(
        f'agent = "{agent}"\nundo_seconds = 0\nbell = false\n'
        f'[presence]\nheartbeat = "{HEARTBEAT:g}s"\ngone_after = "{GONE_AFTER:g}s"\n'
    )
    return home


def _agent(db: Path, agent: str) -> tuple[str, str, int | None, int | None]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        row = connection.execute(
            "SELECT presence, presence_reason, viewing, typing_in FROM agents WHERE id = ?", (agent,)
        ).fetchone()
    return (row[0], row[1], row[2], row[3]) if row else ("", "", None, None)


def test_quit_signs_off_and_a_killed_console_is_seen_gone_within_the_bound(tmp_path: Path) -> None:
    db = tmp_path / "ws.db"
    seed(
        db,
        [
            Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600),
            Contact(Channel.EMAIL, "Anna Müller", "de", "Rechnung", age=300),
        ],
        now=time.time(),
    )
    anna = Console(_config(tmp_path / "anna", "anna"), db)
    bob = Console(_config(tmp_path / "bob", "bob"), db)
    try:
        anna.read_until(b"Invoice request")
        bob.read_until(b"Invoice request")
        _wait(lambda: _agent(db, "anna")[0] == _agent(db, "bob")[0] == "available")
        anna.type("\r")  # Anna opens the first email
        bob.type("\r")  # so does Bob
        _wait(lambda: _agent(db, "anna")[2] is not None and _agent(db, "bob")[2] is not None)
        # Push mode would offer Bob the next item: a standing offer, held by his console.
        ws = Workspace(db)
        offer = offer_next(ws, "bob")
        assert offer is not None

        bob.kill()
        killed_at = time.monotonic()
        time.sleep(GONE_AFTER - HEARTBEAT - 0.5)
        assert _agent(db, "bob")[0] == "available"  # a missed beat or two is not "gone"
        _wait(lambda: _agent(db, "bob")[0] == "offline", timeout=GONE_AFTER + 2 * HEARTBEAT + 5)
        seen_gone_after = time.monotonic() - killed_at
        print(f"killed console seen gone after {seen_gone_after:.1f} s (bound {GONE_AFTER + HEARTBEAT:g} s)")
        assert seen_gone_after <= GONE_AFTER + HEARTBEAT + 1.5  # + the poll and a loaded machine's slack
        assert _agent(db, "bob") == ("offline", "gone", None, None)
        # Routing stops offering him work: his offer is gone, a pick for him finds nothing.
        assert ws.db.execute("SELECT COUNT(*) FROM offers WHERE agent_id = 'bob'").fetchone()[0] == 0
        bob_agent = ws.agent("bob")
        assert bob_agent is not None and bob_agent.presence is Presence.OFFLINE
        assert next_best(ws, "bob") is None
        ws.close()

        assert _agent(db, "anna")[0] == "available"
        anna.type("\x11")  # ctrl+q
        anna.process.wait(timeout=20)
        assert _agent(db, "anna") == ("offline", "", None, None)
    finally:
        for console in (anna, bob):
            if console.process.poll() is None:
                console.kill()
