"""Three agents' consoles as three processes on one real Asterisk and one team's queue, on a real PostgreSQL
(the consoles hear of each change by LISTEN/NOTIFY) and on a file shared by the three processes (they poll
it) (docs/asterisk.md, "A team"):

- The three race for every one of twelve callers: each call is taken exactly once, and Asterisk's bridges
  agree (the caller with one agent's phone, in the winner's application).
- A console killed (SIGKILL) while its agent's phone rings for a call: the call goes back to the team within
  the session's lapse, the phone stops ringing, and another agent takes it; the same agent's console,
  started again, does not take it back from them; killed again with a caller who then hangs up, the call is
  one missed call in the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from asterisk_server import AsteriskServer, asterisk
from standardiste.backends.base import split_id

pytestmark = pytest.mark.xdist_group("asterisk")

__all__ = ["asterisk"]

CHILD = Path(__file__).with_name("asterisk_team_console.py")


@pytest.fixture(params=["postgres", "file"])
def team_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "file":
        return str(tmp_path / "team.sqlite")
    return str(request.getfixturevalue("pg_dsn"))


class Console:
    """One console process and what it printed."""

    def __init__(self, agent: str, process: asyncio.subprocess.Process) -> None:
        self.agent, self.process = agent, process
        self.lines: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            with contextlib.suppress(ValueError):
                self.lines.append(json.loads(line))
            self._changed.set()
        self._changed.set()

    async def wait_for(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while not (found := check()):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{self.agent}: no {what} within {timeout} s; last lines: {self.lines[-8:]}"
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.1))
        return found

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())

    def holding(self) -> bool:
        said = [line["holding"] for line in self.lines if "holding" in line]
        return bool(said and said[-1])

    def calls(self) -> dict[str, dict[str, Any]]:
        """Each call's latest state and assignee, as this console shows it."""
        return {line["call"]: line for line in self.lines if "call" in line}

    def first_ringing(self) -> dict[str, float]:
        found: dict[str, float] = {}
        for line in self.lines:
            if "call" in line and line["state"] == "ringing":
                found.setdefault(line["call"], line["at"])
        return found

    def names(self) -> dict[str, str]:
        return {line["call"]: line["customer"] for line in self.lines if "call" in line}

    def won(self) -> list[str]:
        return [line["won"] for line in self.lines if "won" in line]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(Exception):
                self.send("quit")
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()


@contextlib.asynccontextmanager
async def team_of(
    server: AsteriskServer, tmp_path: Path, team: str, agents: dict[str, dict[str, Any]]
) -> AsyncIterator[dict[str, Console]]:
    started: dict[str, Console] = {}
    try:
        for agent, extra in agents.items():
            started[agent] = await start_console(server, tmp_path, team, agent, **extra)
        for console in started.values():
            await console.wait_for(lambda c=console: any("ready" in line for line in c.lines), 20, "ready")
        await wait_holder(started.values())
        yield started
    finally:
        for console in started.values():
            await console.stop()
        await asyncio.to_thread(server.hang_up_all)


async def start_console(
    server: AsteriskServer,
    tmp_path: Path,
    team: str,
    agent: str,
    *,
    phone: str = "",
    mode: str = "manual",
    ring: float = 5.0,
) -> Console:
    settings = {
        "url": server.url,
        "user": server.user,
        "app": server.app,
        "queues": ["sales", "support"],
        "phone": phone or f"Local/{agent}@agent-phones",
        "team": team,
        "ring_seconds": ring,
        "agent": agent,
        "data_dir": str(tmp_path / agent),
        "mode": mode,
    }
    env = {**os.environ, "STANDARDISTE_TEST_ARI_PASSWORD": server.password}
    log = open(tmp_path / f"{agent}.log", "ab")  # noqa: SIM115 - the child's, closed by it
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        json.dumps(settings),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
        env=env,
    )
    log.close()
    return Console(agent, process)


async def wait_holder(consoles: Any, timeout: float = 10.0) -> Console:
    deadline = time.monotonic() + timeout
    while True:
        holders = [c for c in consoles if c.holding()]
        if len(holders) == 1:
            return holders[0]
        assert time.monotonic() < deadline, f"holders: {[c.agent for c in holders]}"
        await asyncio.sleep(0.05)


def call(server: AsteriskServer, n: int) -> tuple[float, dict[str, Any]]:
    at = time.time()
    return at, server.call(f"+3361000{n:04d}", f"Caller {n}", "queue-sales", context="from-customer-team")


def agent_legs(server: AsteriskServer, native: str) -> list[str]:
    return [c["id"] for c in server.ari("GET", "/channels") if c["id"].startswith(f"{native}-agent")]


async def test_three_console_processes_on_one_team_queue_take_each_call_once(
    asterisk: AsteriskServer, tmp_path: Path, team_target: str
) -> None:
    callers = 12
    agents = {agent: {"mode": "auto"} for agent in ("alice", "bob", "carol")}
    async with team_of(asterisk, tmp_path, team_target, agents) as team:
        placed = await asyncio.gather(*(asyncio.to_thread(call, asterisk, n) for n in range(callers)))
        anyone = next(iter(team.values()))

        def all_won() -> list[str]:
            won = [cid for console in team.values() for cid in console.won()]
            return won if len(set(won)) == callers else []

        won = await anyone.wait_for(all_won, 30, "every call taken")
        await asyncio.sleep(0.5)  # a second win would show by now
        won = [cid for console in team.values() for cid in console.won()]
        assert sorted(Counter(won).values()) == [1] * callers, Counter(won)
        by_agent = {agent: set(console.won()) for agent, console in team.items()}

        # Asterisk agrees: each caller bridged with one agent's phone, in the winner's application.
        bridges = {b["id"]: b["channels"] for b in await asyncio.to_thread(asterisk.ari, "GET", "/bridges")}
        apps = {a["name"]: a for a in await asyncio.to_thread(asterisk.ari, "GET", "/applications")}
        for agent, ids in by_agent.items():
            for conversation_id in ids:
                native = split_id(conversation_id)[1]
                members = bridges[f"{asterisk.app}-{native}"]
                assert native in members and sum(m.startswith(f"{native}-agent") for m in members) == 1
                assert native in apps[f"{asterisk.app}-{agent}"]["channel_ids"]

        # Every call rang in every console; how long after its caller was placed.
        placed_at = {f"Caller {n}": at for n, (at, _) in enumerate(placed)}
        lags = sorted(
            at - placed_at[console.names()[cid]]
            for console in team.values()
            for cid, at in console.first_ringing().items()
        )
        assert len(lags) == callers * len(team)
        print(
            f"\n{callers} calls placed at once in 3 processes ({'file' if '://' not in team_target else 'postgresql'}): taken "
            f"{sorted(len(ids) for ids in by_agent.values())}; each rang in every console "
            f"{lags[len(lags) // 2] * 1000:.0f} ms (median), {lags[-1] * 1000:.0f} ms (max) after it was placed"
        )


async def test_a_console_killed_while_its_phone_rings_gives_the_call_back_to_the_team(
    asterisk: AsteriskServer, tmp_path: Path, team_target: str
) -> None:
    noanswer = {"phone": "Local/noanswer@agent-phones", "ring": 20.0}
    agents: dict[str, dict[str, Any]] = {"alice": noanswer, "bob": {}, "carol": {}}
    async with team_of(asterisk, tmp_path, team_target, agents) as team:
        alice, bob, carol = team["alice"], team["bob"], team["carol"]
        await asyncio.to_thread(call, asterisk, 1)
        first = await bob.wait_for(lambda: next(iter(bob.calls()), None), 5, "the call")
        native = split_id(first)[1]
        await alice.wait_for(lambda: first in alice.calls(), 5, "the call in alice's")
        alice.send(f"accept {first}")
        for console in (bob, carol):
            await console.wait_for(
                lambda c=console: c.calls().get(first, {}).get("assignee") == "alice", 5, "alice's"
            )
        legs = await bob.wait_for(lambda: agent_legs(asterisk, native), 5, "alice's phone ringing")
        assert {leg.split(";")[0] for leg in legs} == {f"{native}-agent1"}  # a Local phone: two halves
        alice.kill()
        killed = time.monotonic()
        for console in (bob, carol):
            await console.wait_for(
                lambda c=console: c.calls().get(first, {}).get("assignee") is None,
                8,
                "the call back for anyone",
            )
        given_back = time.monotonic() - killed
        assert bob.calls().get(first, {}).get("state") == "ringing"
        assert not await asyncio.to_thread(agent_legs, asterisk, native)  # her phone stopped ringing
        bob.send(f"accept {first}")
        await bob.wait_for(lambda: first in bob.won(), 10, "bob taking it")
        await carol.wait_for(
            lambda: carol.calls().get(first, {}).get("assignee") == "bob", 5, "bob's in carol's"
        )

        # alice's console again, on the same data: the call it was taking is bob's now, not taken back.
        alice = team["alice"] = await start_console(asterisk, tmp_path, team_target, "alice", **noanswer)
        await alice.wait_for(lambda: alice.calls().get(first, {}).get("assignee") == "bob", 10, "bob's")
        assert bob.calls().get(first, {}).get("state") == "connected"
        bridge = await asyncio.to_thread(asterisk.ari, "GET", f"/bridges/{asterisk.app}-{native}")
        assert native in bridge["channels"] and any(
            c.startswith(f"{native}-agent") for c in bridge["channels"]
        )

        # Killed again while ringing for a second caller, who hangs up before the call is given back.
        _, second_caller = await asyncio.to_thread(call, asterisk, 2)
        second = await bob.wait_for(lambda: next((c for c in bob.calls() if c != first), None), 5, "call 2")
        await alice.wait_for(lambda: second in alice.calls(), 5, "call 2 in alice's")
        alice.send(f"accept {second}")
        await bob.wait_for(lambda: bob.calls().get(second, {}).get("assignee") == "alice", 5, "alice's")
        await bob.wait_for(lambda: agent_legs(asterisk, split_id(second)[1]), 5, "alice's phone ringing")
        alice.kill()
        await asyncio.to_thread(asterisk.ari, "DELETE", f"/channels/{second_caller['id']}")
        for console in (bob, carol):
            await console.wait_for(
                lambda c=console: c.calls().get(second, {}).get("state") == "abandoned", 8, "the missed call"
            )
        assert not await asyncio.to_thread(agent_legs, asterisk, split_id(second)[1])
        print(
            f"\nalice's console killed while her phone rang: the call was back for anyone {given_back:.2f} s later"
        )
