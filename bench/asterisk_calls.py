"""Asterisk benchmark: how many calls per second the adapter follows with the console responsive.

    .venv/bin/python bench/asterisk_calls.py [--rates 10,25,50] [--seconds 5] [--hold 2] [--smoke]

Starts the tests' Asterisk (tests/asterisk_server.py: the cached chroot; needs root), and the adapter behind
the console's real hub and store, as the app runs them. For each rate, simulated customers call for
`seconds` (backends/asterisk/callers.py), each hanging up `hold` seconds later (so a rate of 50 keeps about
100 calls up at once). Measured, per rate: the time from a call's POST to its ringing row in the store
(p50, p95, max), the time from the caller hanging up to the missed call in the store, the worst lag of the
event loop the console's screen runs on (a 10 ms ticker), and the CPU the adapter's process spent per
call. Asterisk runs on the same two cores: the figures are the whole machine's, not the adapter's alone.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one_rate(server: object, rate: float, seconds: float, hold: float) -> dict[str, float]:
    import httpx
    from standardiste.backends.asterisk import AsteriskBackend
    from standardiste.backends.asterisk.callers import a_caller, hang_up, place_call
    from standardiste.backends.base import BackendContext, BackendStatus, LinkState
    from standardiste.console.core.hub import Hub
    from standardiste.console.core.model import State
    from standardiste.console.core.store import Store

    url, user, password, app = server.url, server.user, server.password, server.app  # type: ignore[attr-defined]
    data = Path(tempfile.mkdtemp(prefix="bench-asterisk-"))
    table = {"url": url, "user": user, "app": app, "queues": ["sales"], "phone": "Local/alice@agent-phones"}
    context = BackendContext(agent_id="alice", data_dir=data, secret=lambda _: password)
    backend = AsteriskBackend.from_config("pbx", table, context)
    hub, store = Hub([backend]), Store()
    await hub.start()
    ring_at: dict[str, float] = {}  # caller name -> when its row rang in the store
    gone_at: dict[str, float] = {}
    lag = 0.0
    stop = asyncio.Event()
    connected = asyncio.Event()

    async def drain() -> None:
        """What the app's screen does: take the hub's batches into the store, note when rows change."""
        while not stop.is_set():
            changed = False
            for event in hub.drain():
                store.apply([event])
                changed = True
                if isinstance(event, BackendStatus) and event.state is LinkState.CONNECTED:
                    connected.set()
                conversation = getattr(event, "conversation", None)
                if conversation is not None:
                    now = time.monotonic()
                    if conversation.state is State.RINGING:
                        ring_at.setdefault(conversation.customer_name, now)
                    elif conversation.state is State.ABANDONED:
                        gone_at.setdefault(conversation.customer_name, now)
            if not changed:
                await asyncio.sleep(0.005)

    async def ticker() -> None:
        nonlocal lag
        while not stop.is_set():
            before = time.monotonic()
            await asyncio.sleep(0.01)
            lag = max(lag, time.monotonic() - before - 0.01)

    tasks = [asyncio.create_task(drain()), asyncio.create_task(ticker())]
    import random

    rng = random.Random(int(rate))
    placed: dict[str, float] = {}
    hung: dict[str, float] = {}
    try:
        await asyncio.wait_for(connected.wait(), 20)
        lag = 0.0
        cpu = time.process_time()
        async with httpx.AsyncClient(base_url=url, auth=(user, password), timeout=10) as client:
            await asyncio.sleep(0.05)
            lag = 0.0  # the callers' client is made (httpx loads its TLS context): the bench's, not the console's
            hang_ups: list[asyncio.Task[None]] = []
            count = int(rate * seconds)
            start = time.monotonic()
            for n in range(count):
                name, number = a_caller(rng)
                name = f"{name} {n:05d}"
                due = start + n / rate
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                placed[name] = time.monotonic()
                call = await place_call(client, name, number, "sales")

                async def later(call: object = call, name: str = name) -> None:
                    await asyncio.sleep(hold)
                    hung[name] = time.monotonic()
                    await hang_up(client, call)  # type: ignore[arg-type]

                hang_ups.append(asyncio.create_task(later()))
            achieved = count / (time.monotonic() - start)
            await asyncio.gather(*hang_ups)
            deadline = time.monotonic() + 10
            while len(gone_at) < count and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        cpu = time.process_time() - cpu
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await hub.close()
    rings = [ring_at[n] - placed[n] for n in placed if n in ring_at]
    gones = [gone_at[n] - hung[n] for n in hung if n in gone_at]
    return {
        "rate": rate,
        "achieved": achieved,
        "calls": len(placed),
        "rang": len(rings),
        "missed_seen": len(gones),
        "ring_p50": statistics.median(rings) if rings else float("nan"),
        "ring_p95": pct(rings, 0.95),
        "ring_max": max(rings, default=float("nan")),
        "gone_p95": pct(gones, 0.95),
        "loop_lag_max": lag,
        "cpu_ms_per_call": 1000 * cpu / max(1, len(placed)),
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="10,25,50", help="calls per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--hold", type=float, default=2.0, help="seconds before each caller hangs up")
    parser.add_argument("--smoke", action="store_true", help="one short run at 5 calls/s")
    args = parser.parse_args()
    from asterisk_server import asterisk_available, running_asterisk

    missing = asterisk_available()
    if missing is not None:
        print(f"asterisk bench: skipped: {missing}")
        return 0
    rates = [5.0] if args.smoke else [float(r) for r in args.rates.split(",")]
    seconds = 2.0 if args.smoke else args.seconds
    with running_asterisk() as server:
        print("rate/s  achieved  calls  rang  ring p50  ring p95  ring max  missed p95  loop lag  cpu/call")
        for rate in rates:
            r = await one_rate(server, rate, seconds, args.hold)
            print(
                f"{r['rate']:6.0f}  {r['achieved']:8.1f}  {r['calls']:5.0f}  {r['rang']:4.0f}  "
                f"{1000 * r['ring_p50']:6.0f}ms  {1000 * r['ring_p95']:6.0f}ms  {1000 * r['ring_max']:6.0f}ms  "
                f"{1000 * r['gone_p95']:8.0f}ms  {1000 * r['loop_lag_max']:6.0f}ms  {r['cpu_ms_per_call']:6.1f}ms",
                flush=True,
            )
            await asyncio.to_thread(server.hang_up_all)
            await asyncio.sleep(1)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
