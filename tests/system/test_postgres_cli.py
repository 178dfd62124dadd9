"""`--db postgresql://...` wherever `--db FILE` works: simulate fills a database, supervise --json reads it,
search finds in it. Real commands in real processes, on a real server."""

from __future__ import annotations

import json
import subprocess
import sys

from standardiste.backends.local import Workspace


def standardiste(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "standardiste", *args], capture_output=True, text=True, timeout=timeout
    )


def test_simulate_and_supervise_take_a_dsn(pg_dsn: str) -> None:
    filled = standardiste(
        "simulate", "--db", pg_dsn, "--backfill", "60", "--duration", "1", "--rate", "0", "--seed", "3"
    )
    assert filled.returncode == 0, filled.stderr
    assert "backfilled 60 contacts" in filled.stdout + filled.stderr
    ws = Workspace(pg_dsn)
    try:
        assert ws.db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0] == 60
    finally:
        ws.close()
    board = standardiste("supervise", "--db", pg_dsn, "--json", "--count", "1")
    assert board.returncode == 0, board.stderr
    figures = json.loads(board.stdout.splitlines()[0])
    assert figures["total"]["today"]["answered"] > 0


def test_search_finds_on_postgresql_as_on_the_file(pg_dsn: str) -> None:
    from standardiste.console.core.model import Channel, Customer, Direction

    ws = Workspace(pg_dsn)
    try:
        row = ws.create_conversation(
            channel=Channel.EMAIL, customer=Customer("c-h", "Hélène Côté", "fr"), subject="Commande FR42"
        )
        ws.add_message(row, direction=Direction.INBOUND, body="Je n’ai jamais été remboursée.")
    finally:
        ws.close()
    found = standardiste("search", "--db", pg_dsn, "--json", "rembourse")
    assert found.returncode == 0, found.stderr
    [record] = [json.loads(line) for line in found.stdout.splitlines()]
    assert record["id"] == f"local:{row}" and record["customer"] == "Hélène Côté"
    start, end = record["spans"][0]
    assert record["snippet"][start:end] == "remboursée"
    assert standardiste("search", "--db", pg_dsn, "parapluie").returncode == 1


def test_an_unreachable_server_is_one_clear_line_without_the_password() -> None:
    board = standardiste(
        "supervise", "--db", "postgresql://sam:s3cret@127.0.0.1:1/support", "--json", "--count", "1"
    )
    assert board.returncode == 1
    assert "s3cret" not in board.stdout + board.stderr
    assert board.stderr.startswith(
        "standardiste supervise: cannot connect to postgresql://sam@127.0.0.1:1/support"
    )
    assert "unexpected error" not in board.stderr and len(board.stderr.strip().splitlines()) == 1
