"""The claim race with real processes: 20 interpreters take the same 1,000 conversations of one workspace,
on a file and on a PostgreSQL server.

Claiming is one conditional UPDATE under `BEGIN IMMEDIATE`; were it a read-then-write, two processes could
both see "unowned" and both win. Each racer reports what it won; the file must agree with every report.
The race runs twice: on `Workspace.claim` itself, and on answering ringing calls through the command layer
(`Accept`), where a double win would mean two agents connected to one caller.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from standardiste.backends.local.workspace import Workspace
from standardiste.console.core.model import Channel, Customer

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
RACERS = 20
CONVERSATIONS = 1000
# Generous against a loaded 2-core machine; a deadlock or a lock never released shows up as this timeout.
RACE_TIMEOUT = 90.0


def _seed_workspace(path: Path, channel: Channel) -> list[int]:
    ws = Workspace(path)
    try:
        customer = Customer("c-race", "Race Customer", email="race@example.com")
        with ws.transaction():  # one commit for all rows: seeding is not what is measured
            ids = [
                ws.create_conversation(channel=channel, customer=customer, subject=f"race {n}")
                for n in range(CONVERSATIONS)
            ]
    finally:
        ws.close()
    assert ids == list(range(ids[0], ids[0] + CONVERSATIONS))
    return ids


def _race(path: Path, first: int, last: int, mode: str) -> tuple[list[dict[str, object]], float]:
    """Start the racers, release them together, and return their reports and the race's duration."""
    racers = [
        subprocess.Popen(
            [
                sys.executable,
                str(HELPERS / "claimer.py"),
                str(path),
                f"agent-{n}",
                str(first),
                str(last),
                str(n),
                mode,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(RACERS)
    ]
    try:
        for racer in racers:
            assert racer.stdout is not None
            line = racer.stdout.readline()
            if line.strip() != "ready":
                racer.kill()
                _, err = racer.communicate(timeout=10)
                pytest.fail(f"a racer did not start: {line!r}\n{err}")
        started = time.perf_counter()
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go\n")
            racer.stdin.flush()
        reports = []
        deadline = started + RACE_TIMEOUT
        for racer in racers:
            out, err = racer.communicate(timeout=max(1.0, deadline - time.perf_counter()))
            assert racer.returncode == 0, err
            reports.append(json.loads(out.strip().splitlines()[-1]))
        return reports, time.perf_counter() - started
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
                racer.wait()


def _check_reports(reports: list[dict[str, object]], ids: list[int]) -> dict[str, list[int]]:
    wins_by_agent: dict[str, list[int]] = {str(r["agent"]): list(r["wins"]) for r in reports}  # type: ignore[call-overload]
    assert len(wins_by_agent) == RACERS
    for report in reports:
        assert report["errors"] == {}, report
        assert report["wrong"] == 0, report
        # Every attempt was a win or a loss to someone else: nothing skipped, nothing counted twice.
        assert len(report["wins"]) + report["lost"] == CONVERSATIONS  # type: ignore[arg-type]
    assert sum(len(wins) for wins in wins_by_agent.values()) == CONVERSATIONS
    winners = Counter(row_id for wins in wins_by_agent.values() for row_id in wins)
    assert set(winners) == set(ids)
    assert max(winners.values()) == 1
    # More than one racer won something: the processes overlapped, so the race was a race.
    assert sum(1 for wins in wins_by_agent.values() if wins) > 1
    return wins_by_agent


@pytest.mark.timeout(150)
def test_twenty_processes_claim_each_conversation_exactly_once(workspace_path: Path) -> None:
    ids = _seed_workspace(workspace_path, Channel.CHAT)
    reports, seconds = _race(workspace_path, ids[0], ids[-1], "claim")
    wins_by_agent = _check_reports(reports, ids)

    ws = Workspace(workspace_path)
    try:
        owners = dict(ws.db.execute("SELECT id, assignee FROM conversations").fetchall())
        # Only the winner's UPDATE changed a row: one version bump each, not one per racer.
        versions = Counter(v for (v,) in ws.db.execute("SELECT version FROM conversations"))
    finally:
        ws.close()
    assert len(owners) == CONVERSATIONS
    assert owners == {row_id: agent for agent, wins in wins_by_agent.items() for row_id in wins}
    assert versions == {1: CONVERSATIONS}
    print(f"\nclaim race: {RACERS} processes x {CONVERSATIONS} claims in {seconds:.2f} s")


@pytest.mark.timeout(150)
def test_twenty_processes_answer_each_ringing_call_exactly_once(tmp_path: Path) -> None:
    """On the file only: on PostgreSQL the claim race above proves the same conditional UPDATE, and this one
    would add half a minute of the suite on two cores for no other line of code."""
    workspace_path = tmp_path / "workspace.db"
    ids = _seed_workspace(workspace_path, Channel.PHONE)
    reports, seconds = _race(workspace_path, ids[0], ids[-1], "accept")
    wins_by_agent = _check_reports(reports, ids)

    ws = Workspace(workspace_path)
    try:
        rows = ws.db.execute("SELECT id, assignee, state, answered_at FROM conversations").fetchall()
        answered = Counter(
            row_id
            for (row_id,) in ws.db.execute(
                "SELECT conversation_id FROM messages WHERE direction = 'system' AND body = 'call answered'"
            )
        )
    finally:
        ws.close()
    owners = {row_id: agent for agent, wins in wins_by_agent.items() for row_id in wins}
    assert {row[0]: row[1] for row in rows} == owners
    assert {row[2] for row in rows} == {"connected"}
    assert all(row[3] is not None for row in rows)
    # One "call answered" per call: a losing racer wrote nothing (its transaction rolled back whole).
    assert answered == Counter(ids)
    print(f"\naccept race: {RACERS} processes x {CONVERSATIONS} accepts in {seconds:.2f} s")


@pytest.fixture
def workspace_path(workspace_target: Path | str) -> Path | str:
    """Both races run on the file and on PostgreSQL: 20 processes, 20 connections to one server."""
    return workspace_target
