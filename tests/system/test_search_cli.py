"""`standardiste search` from the shell (backends/local/search_cli.py), and the index after a writer is killed.

Exit status as grep's: 0 with hits, 1 with none, 2 on a bad query or file. Every printed string is sanitised:
one test runs the real program in a child process and reads the bytes it wrote.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from standardiste.__main__ import main
from standardiste.backends.local import Workspace
from standardiste.backends.local.search import search
from standardiste.console.core.model import Channel, Customer, Direction, State

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
CUSTOMER = Customer("c-1", "Jean Dupont", language="fr", email="jean@example.com")


def seed(path: Path) -> tuple[str, str]:
    ws = Workspace(path)
    try:
        open_row = ws.create_conversation(channel=Channel.EMAIL, customer=CUSTOMER, subject="Colis perdu")
        ws.add_message(
            open_row, direction=Direction.INBOUND, body="Mon colis n'est jamais arrivé", author="c"
        )
        closed_row = ws.create_conversation(channel=Channel.CHAT, customer=CUSTOMER, subject="Remboursement")
        ws.add_message(closed_row, direction=Direction.INBOUND, body="Je veux être remboursé", author="c")
        ws.update_conversation(closed_row, state=State.ENDED, closed_at=ws.now())
    finally:
        ws.close()
    return f"local:{open_row}", f"local:{closed_row}"


def test_json_lines_for_scripts(workspace_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _open, closed = seed(workspace_path)
    assert main(["search", "--db", str(workspace_path), "--json", "rembourse"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    hit = json.loads(lines[0])
    assert {k: hit[k] for k in ("id", "channel", "state", "customer", "subject")} == {
        "id": closed,
        "channel": "chat",
        "state": "ended",
        "customer": "Jean Dupont",
        "subject": "Remboursement",
    }
    assert hit["snippet"] == "Je veux être remboursé"
    assert isinstance(hit["score"], float) and hit["created_at"][:4].isdigit()


def test_one_readable_line_per_hit(workspace_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    open_one, closed = seed(workspace_path)
    assert main(["search", "--db", str(workspace_path), "dupont"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert {line.split()[0] for line in lines} == {open_one, closed}
    assert all("Jean Dupont" in line for line in lines)


def test_no_hit_is_status_1(workspace_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(workspace_path)
    assert main(["search", "--db", str(workspace_path), "nothinglikethis"]) == 1
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("query", ["colour:red", "after:tomorrow", "sla:breached"])
def test_a_bad_query_is_status_2_with_one_line(
    workspace_path: Path, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    seed(workspace_path)
    assert main(["search", "--db", str(workspace_path), query]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("standardiste search: ")


def test_a_missing_or_broken_file_is_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "--db", str(tmp_path / "none.db"), "x"]) == 2
    assert "no workspace" in capsys.readouterr().err
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    assert main(["search", "--db", str(junk), "x"]) == 2
    assert "cannot open" in capsys.readouterr().err


def test_a_hostile_body_is_printed_sanitised(workspace_path: Path) -> None:
    ws = Workspace(workspace_path)
    hostile = Customer("c-evil", "Eve\x1b]0;owned\x07", email="eve@example.com")
    row = ws.create_conversation(channel=Channel.EMAIL, customer=hostile, subject="Hi\x1b[2J\x1b[H")
    ws.add_message(
        row,
        direction=Direction.INBOUND,
        body="\x1b]52;c;ZXZpbA==\x07Please refund \x1b[31mme\x9b2J now \u202eevil\r\n\x1bPq#0\x1b\\",
        author="eve",
    )
    ws.close()
    for flags in ([], ["--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "standardiste", "search", "--db", str(workspace_path), *flags, "refund"],
            capture_output=True,
            timeout=60,
            env={**os.environ, "STANDARDISTE_LOG": str(workspace_path.parent / "log")},
        )
        assert done.returncode == 0, done.stderr
        out = done.stdout.decode()
        assert "refund" in out
        for bad in ("\x1b", "\x07", "\x9b", "\u202e", "\r"):
            assert bad not in out, (flags, repr(out))
        if flags:
            assert "\\u001b" not in out and "\\u0007" not in out  # not smuggled as JSON escapes either


def test_the_index_is_right_after_a_writer_is_killed_mid_transaction(workspace_path: Path) -> None:
    ws = Workspace(workspace_path)
    row = ws.create_conversation(channel=Channel.CHAT, customer=CUSTOMER, subject="stress")
    ws.close()
    child = subprocess.Popen(
        [sys.executable, str(HELPERS / "search_writer.py"), str(workspace_path), f"local:{row}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    committed = 0
    pending = 0
    assert child.stdout is not None and child.stdin is not None
    try:
        for line in child.stdout:
            kind, n = line.split()
            if kind == "committed":
                committed = int(n)
            elif int(n) >= 25:  # a transaction is open, its rows and index entries written: kill now
                pending = int(n)
                child.send_signal(signal.SIGKILL)
                break
            else:
                child.stdin.write("go\n")
                child.stdin.flush()
    finally:
        child.kill()
        child.wait(timeout=10)
    assert pending == committed + 1
    ws = Workspace(workspace_path)
    try:
        for n in range(1, committed + 1):
            for word in (f"kiwi{n:05d} ", f"note{n:05d} "):
                assert [h.conversation_id for h in search(ws.db, word)] == [f"local:{row}"], word
        assert search(ws.db, f"kiwi{pending:05d} ") == []
        assert search(ws.db, f"note{pending:05d} ") == []
        assert len(search(ws.db, "kiwi", limit=1000)) == 1  # one hit per conversation
        # The index agrees with the table's text, row for row.
        ws.db.execute("INSERT INTO search_messages (search_messages) VALUES ('integrity-check')")
        ws.db.execute("INSERT INTO search_heads (search_heads) VALUES ('integrity-check')")
        messages = ws.db.execute("SELECT COUNT(*) FROM messages WHERE direction != 'system'").fetchone()[0]
        assert messages == 2 * committed
    finally:
        ws.close()
