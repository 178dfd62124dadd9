"""Calls ringing one after another make one "Incoming call" toast that counts them, replaced each time,
not a stack of toasts over the composer (Pilot over a real workspace file)."""

from __future__ import annotations

import time
from pathlib import Path

from app_harness import Contact, make_app, seed, wait_for
from standardiste.console.core.model import Channel

SIZE = (160, 50)


async def test_ringing_calls_make_one_toast_that_counts_them(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600)])
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 1 and app.hub_ready, pilot=pilot)
        callers = [("Anna Müller", "Paket"), ("Bernd Schulz", "Rechnung"), ("Clara Weber", "Rückgabe")]
        for count, (name, subject) in enumerate(callers, start=2):
            seed(db, [Contact(Channel.PHONE, name, "de", subject, age=1)], now=time.time())
            await wait_for(lambda n=count: len(app.store.conversations) == n, pilot=pilot)  # type: ignore[misc]
            await pilot.pause(0.2)
        rings = [n for n in app._notifications if n.title == "Incoming call"]
        assert len(rings) == 1, [n.message for n in rings]
        assert rings[0].message.startswith("☎ 3 calls ringing: Anna Müller (DE), Bernd Schulz (DE) and 1 more")
