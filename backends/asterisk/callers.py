"""Simulated customers calling a real Asterisk: Local channels into the Stasis application, for demos,
tests and benchmarks (no phone needed).

Each call is `POST /channels?endpoint=Local/<exten>@<context>&context=caller&extension=s` with the caller's
name and number as caller id and the queue argument in the channel variable QUEUE_ARG: the `;2` half runs
`<context>`, which sends it into the application ringing (`Stasis(APP,${QUEUE_ARG})`), the `;1` half is the
customer's phone, which answers in `[caller]` and listens to hold music. docs/asterisk.md has the dialplan.

    python -m standardiste.backends.asterisk.callers --url http://127.0.0.1:8088/ari --user console \\
        --calls 20 --rate 2 --queue sales --queue support

The ARI password comes from STANDARDISTE_ARI_PASSWORD, else it is asked for (never on the command line,
where `ps` shows it).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import random
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ..settings import read_settings
from .settings import SETTINGS

FIRST = (
    "Alice",
    "Bruno",
    "Chloé",
    "Dmitri",
    "Eva",
    "Farid",
    "Greta",
    "Hugo",
    "Inès",
    "Jonas",
    "Kenji",
    "Lena",
)
LAST = ("Martin", "Bernard", "Dubois", "Schmidt", "Rossi", "Nguyen", "García", "Müller", "Kowalski", "Silva")
PREFIXES = ("+331", "+336", "+4930", "+4420", "+3906", "+3491")


@dataclass(frozen=True, slots=True)
class PlacedCall:
    channel_id: str  # the customer's phone (;1); the call in the application is its ;2 half
    name: str
    number: str
    queue: str
    at: float


def a_caller(rng: random.Random) -> tuple[str, str]:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    number = rng.choice(PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8))
    return name, number


async def place_call(
    client: httpx.AsyncClient,
    name: str,
    number: str,
    queue: str,
    *,
    context: str = "from-customer-ring",
    exten: str = "101",
    queue_argument: str = "queue-{queue}",
    callback: bool = False,
) -> PlacedCall:
    """One customer calls (or asks for a callback). Raises httpx.HTTPStatusError when Asterisk refuses."""
    safe_name = "".join(ch for ch in name if ch not in '"<>\\')
    reply = await client.post(
        "/channels",
        params={
            "endpoint": f"Local/{exten}@{context}",
            "context": "caller",
            "extension": "s",
            "callerId": f'"{safe_name}" <{number}>',
        },
        content=json.dumps(
            {
                "variables": {
                    "QUEUE_ARG": queue_argument.format(queue=queue),
                    "CALLBACK": "1" if callback else "0",
                }
            }
        ),
        headers={"Content-Type": "application/json"},
    )
    reply.raise_for_status()
    return PlacedCall(str(reply.json()["id"]), name, number, queue, time.time())


async def hang_up(client: httpx.AsyncClient, call: PlacedCall) -> None:
    """The customer hangs up (a 404: the call had ended already)."""
    reply = await client.delete(f"/channels/{call.channel_id}")
    if reply.status_code not in (204, 404):
        reply.raise_for_status()


async def run(
    url: str,
    user: str,
    password: str,
    *,
    calls: int,
    rate: float,
    queues: Sequence[str],
    hangup_after: float | None,
    context: str,
    exten: str,
    callbacks: float,
    seed: int | None,
    queue_argument: str = "queue-{queue}",
) -> list[PlacedCall]:
    rng = random.Random(seed)
    placed: list[PlacedCall] = []
    async with httpx.AsyncClient(base_url=url.rstrip("/"), auth=(user, password), timeout=10) as client:
        pending: list[asyncio.Task[None]] = []
        for n in range(calls):
            name, number = a_caller(rng)
            queue = rng.choice(list(queues))
            call = await place_call(
                client,
                name,
                number,
                queue,
                context=context,
                exten=exten,
                queue_argument=queue_argument,
                callback=rng.random() < callbacks,
            )
            placed.append(call)
            print(f"{n + 1:4d} {call.name} {call.number} -> {call.queue}", flush=True)
            if hangup_after is not None:

                async def later(call: PlacedCall = call) -> None:
                    await asyncio.sleep(hangup_after)
                    await hang_up(client, call)

                pending.append(asyncio.create_task(later()))
            if rate > 0 and n + 1 < calls:
                await asyncio.sleep(1 / rate)
        await asyncio.gather(*pending)
    return placed


async def run_for_workspace(
    table: Mapping[str, Any],
    password: str,
    *,
    calls: int = 10,
    rate: float = 1.0,
    hangup_after: float | None = None,
    callbacks: float = 0.0,
    seed: int | None = None,
) -> list[PlacedCall]:
    """Customers calling the Asterisk of a `[workspaces.NAME] backend = "asterisk"` table, into its queues
    (what `standardiste simulate --asterisk NAME` would run, with the password from `secret_for(NAME)`)."""
    values = read_settings(SETTINGS, "simulate", table)
    return await run(
        values["url"],
        values["user"],
        password,
        calls=calls,
        rate=rate,
        queues=values["queues"],
        hangup_after=hangup_after,
        context="from-customer-ring",
        exten="101",
        callbacks=callbacks,
        seed=seed,
        queue_argument=values["queue_argument"],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m standardiste.backends.asterisk.callers", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--url", required=True, help="ARI's base URL, e.g. http://127.0.0.1:8088/ari")
    parser.add_argument("--user", required=True, help="the ARI user")
    parser.add_argument("--calls", type=int, default=10, help="how many customers call")
    parser.add_argument("--rate", type=float, default=1.0, help="calls per second (0: all at once)")
    parser.add_argument("--queue", action="append", dest="queues", help="a queue they call (repeatable)")
    parser.add_argument(
        "--hangup-after", type=float, default=None, help="each caller hangs up after S seconds"
    )
    parser.add_argument(
        "--callbacks", type=float, default=0.0, help="share of callers asking to be called back"
    )
    parser.add_argument("--context", default="from-customer-ring", help="the dialplan context into Stasis")
    parser.add_argument("--exten", default="101", help="the extension in that context")
    parser.add_argument("--seed", type=int, default=None, help="the same callers every run")
    args = parser.parse_args(argv)
    password = os.environ.get("STANDARDISTE_ARI_PASSWORD") or getpass.getpass(
        f"ARI password of {args.user}: "
    )
    try:
        asyncio.run(
            run(
                args.url,
                args.user,
                password,
                calls=args.calls,
                rate=args.rate,
                queues=args.queues or ["general"],
                hangup_after=args.hangup_after,
                context=args.context,
                exten=args.exten,
                callbacks=args.callbacks,
                seed=args.seed,
            )
        )
    except httpx.HTTPStatusError as error:
        print(
            f"Asterisk refused a call: {error.response.status_code} {error.response.text[:200]}",
            file=sys.stderr,
        )
        return 1
    except httpx.HTTPError as error:
        print(f"cannot reach ARI at {args.url}: {type(error).__name__}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
